"""Money: one representation of an amount, currency codes, and the one way amounts are written.

Amounts are ``Decimal`` in memory and plain numbers in JSON (``Money``). ``format_money`` writes
an amount for people, in the style of the CLI and the advice (3 significant digits below 1) or
of the report's tables (4 significant digits at any size); ``plain_decimal``, ``price_text`` and
``round_significant`` write the exact figures inside formulas. A leaf module: results, spec,
economics and report all use it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Annotated

from pydantic import PlainSerializer

__all__ = [
    "DECIMAL_CONTEXT",
    "SIGNIFICANT_DIGITS",
    "Money",
    "currency_code",
    "format_money",
    "plain_decimal",
    "price_text",
    "round_significant",
]

# Money is Decimal in memory; in JSON it is a plain number so that any tool can compare it.
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


def currency_code(value: object) -> object:
    """An ISO 4217 code, upper-cased (' eur' -> 'EUR'); anything but a string passes through
    for pydantic to reject. Raises ValueError naming what is allowed."""
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(
            f"currency must be a 3-letter ISO 4217 code such as EUR or USD, got {value!r}"
        )
    return code


# Amounts are computed in this fixed context, so the caller's decimal context (precision,
# traps) never changes a figure.
DECIMAL_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
# Stored figures keep this many significant digits (never fewer than 2 decimal places): enough
# to tell apart self-hosted costs of a fraction of a cent, without pretending to more precision
# than a measured throughput has.
SIGNIFICANT_DIGITS = 6


def round_significant(value: Decimal, digits: int = SIGNIFICANT_DIGITS) -> Decimal:
    """``value`` to ``digits`` significant digits, never fewer than 2 decimal places."""
    if value == 0:
        return Decimal(0)
    exponent = min(value.adjusted() - digits + 1, -2)
    return value.quantize(
        Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN, context=DECIMAL_CONTEXT
    )


def plain_decimal(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 1.20 -> '1.2', 3.6E+3 -> '3600'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def price_text(value: Decimal) -> str:
    """A price as given, with at least 2 decimal places: 1.2 -> '1.20', 0.0001 -> '0.0001'."""
    whole, _, fraction = plain_decimal(value).partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def format_money(
    amount: Decimal,
    currency: str | None = None,
    *,
    significant: int = 3,
    cents_from: Decimal | None = Decimal(1),
    rounding: str = ROUND_HALF_EVEN,
) -> str:
    """An amount for people to read: thousands separated, at least 2 decimals, then the currency.

    Below ``cents_from`` (1 by default) the amount keeps ``significant`` digits, so that small
    costs stay visible ('0.000741 EUR'); from it on, exactly 2 decimals ('1,234.57 EUR').
    ``cents_from=None`` keeps ``significant`` digits at any size, as the report's tables do
    ('5.679 EUR' with 4). Trailing zeros beyond the second decimal are dropped.
    """
    if amount == 0 or (cents_from is not None and abs(amount) >= cents_from):
        places = 2
    else:
        places = max(2, significant - 1 - amount.adjusted())
    context = Context(prec=max(28, amount.adjusted() + places + 2), rounding=rounding)
    rounded = amount.quantize(Decimal(1).scaleb(-places), context=context)
    whole, _, fraction = f"{rounded:,f}".partition(".")
    text = f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"
    return f"{text} {currency}" if currency else text
