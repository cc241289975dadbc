"""The one money formatter, in its two styles, and the exact figures of formulas."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from modelmeter._money import format_money, plain_decimal, price_text, round_significant


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0", "0.00 EUR"),
        ("0.000741", "0.000741 EUR"),
        ("0.00074149", "0.000741 EUR"),
        ("0.12", "0.12 EUR"),
        ("1234.567", "1,234.57 EUR"),
        ("5.6789", "5.68 EUR"),
        ("-0.5", "-0.50 EUR"),
    ],
)
def test_brief_style_keeps_three_digits_below_one_and_cents_above(amount: str, text: str) -> None:
    assert format_money(Decimal(amount), "EUR") == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0.12", "0.12 EUR"),
        ("0.0834567", "0.08346 EUR"),
        ("1234.567", "1,234.57 EUR"),
        ("5.6789", "5.679 EUR"),
        ("0.00012345", "0.0001235 EUR"),  # half up, as the report's tables round
    ],
)
def test_table_style_keeps_four_digits_at_any_size(amount: str, text: str) -> None:
    got = format_money(
        Decimal(amount), "EUR", significant=4, cents_from=None, rounding=ROUND_HALF_UP
    )
    assert got == text


def test_without_a_currency_only_the_number() -> None:
    assert format_money(Decimal("2.5")) == "2.50"


def test_exact_figures_for_formulas() -> None:
    assert plain_decimal(Decimal("1.20")) == "1.2"
    assert plain_decimal(Decimal("3.6E+3")) == "3600"
    assert price_text(Decimal("1.2")) == "1.20"
    assert price_text(Decimal("0.0001")) == "0.0001"
    assert round_significant(Decimal("0.000123456789")) == Decimal("0.000123457")
    assert round_significant(Decimal("1234567.891")) == Decimal("1234567.89")
