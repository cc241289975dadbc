"""Number and text formatting shared by the HTML and Markdown renderings.

Both renderings show the same strings for the same figures, so a reader can search either file for
a number seen in the other. Missing values are shown as an en dash.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from modelmeter._money import format_money
from modelmeter.results import Interval

MISSING = "–"
# Said at the top of a report whose run was stopped early, in both renderings.
INTERRUPTED_BANNER = (
    "the run was stopped before it had measured everything; every figure and judgment below "
    "covers only what was measured before that."
)


def finite(value: float | None) -> bool:
    """Whether ``value`` is a number that can be shown (not None, NaN or infinite)."""
    return value is not None and math.isfinite(value)


def fixed(value: float | None, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals and thousands separators."""
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{value:,.{decimals}f}"


def score(value: float | None) -> str:
    """A quality figure in [0, 1] (F1, accuracy, precision, recall) or a ranking score."""
    return fixed(value, 3)


def adaptive(value: float | None) -> str:
    """Milliseconds or requests per second: two decimals below 10, one above."""
    if value is None or not math.isfinite(value):
        return MISSING
    return fixed(value, 2 if abs(value) < 10 else 1)


def ms(value: float | None) -> str:
    return adaptive(value)


def rps(value: float | None) -> str:
    return adaptive(value)


def integer(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def percent(rate: float | None) -> str:
    """A rate in [0, 1] as a percentage, e.g. ``0.0123`` -> ``1.23%``."""
    if rate is None or not math.isfinite(rate):
        return MISSING
    if rate == 0:
        return "0%"
    share = rate * 100
    if abs(share) < 0.01:
        return "<0.01%"
    return f"{share:.2f}%" if abs(share) < 10 else f"{share:.1f}%"


def significant(value: float | None, digits: int = 4) -> str:
    """A plain number with up to ``digits`` significant digits, trailing zeros dropped."""
    if value is None or not math.isfinite(value):
        return MISSING
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def money(value: Decimal | None, currency: str | None = None) -> str:
    """Money with at least two decimals and up to four significant digits, then the currency.

    ``Decimal("0.12")`` -> ``0.12 EUR``; ``Decimal("0.0834567")`` -> ``0.08346 EUR``;
    ``Decimal("1234.567")`` -> ``1,234.57 EUR``.
    """
    if value is None or not value.is_finite():
        return MISSING
    return format_money(value, currency, significant=4, cents_from=None, rounding=ROUND_HALF_UP)


def interval(value: Interval | None, decimals: int = 3) -> str:
    """``low–high``, with the level when it is not 95%."""
    if value is None:
        return MISSING
    text = f"{fixed(value.low, decimals)}–{fixed(value.high, decimals)}"
    if not math.isclose(value.level, 0.95):
        text += f" ({significant(value.level * 100, 3)}%)"
    return text


def with_interval(value: float | None, ci: Interval | None, decimals: int = 3) -> str:
    """``0.881 (0.862–0.899)``: a quality figure and its interval when there is one."""
    text = fixed(value, decimals)
    if ci is not None and finite(value):
        text += f" ({interval(ci, decimals)})"
    return text


def yes_no(value: bool | None) -> str:
    if value is None:
        return MISSING
    return "yes" if value else "no"


def timestamp(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="seconds")


def fact(value: str | int | float | None) -> str:
    """A free-form fact (dataset size, SLA limit, weight) for display."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, float):
        return significant(value)
    return value


def slug(text: str) -> str:
    """An id fragment made of ``[a-z0-9-]`` (for in-page anchors)."""
    out = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in out.split("-") if part) or "x"
