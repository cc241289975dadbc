"""How figures are written in sentences (recommendations, SLA violations, advice, reasons).

One place, so a P95 reads '142.3 ms' in an SLA violation, a ranking reason and the advice alike.
"""

from __future__ import annotations

import math

__all__ = ["finite_or_none", "fmt_ms", "fmt_percent", "fmt_quality"]


def finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _trim(text: str, min_decimals: int = 0) -> str:
    if "." not in text:
        return text
    whole, fraction = text.split(".")
    fraction = fraction.rstrip("0").ljust(min_decimals, "0")
    return f"{whole}.{fraction}" if fraction else whole


def fmt_ms(value: float) -> str:
    """142.3 -> '142.3', 100.0 -> '100', 1.2345 -> '1.23'."""
    if abs(value) >= 10:
        return _trim(f"{value:.1f}")
    text = f"{value:.3g}"
    return _trim(f"{value:.6f}") if "e" in text else _trim(text)


def fmt_quality(value: float) -> str:
    """0.88 -> '0.88', 0.8125 -> '0.812', 1.0 -> '1.00'."""
    return _trim(f"{value:.3f}", 2)


def fmt_percent(rate: float) -> str:
    """0.025 -> '2.5%', 0.01 -> '1%'."""
    return f"{_trim(f'{rate * 100:.2f}')}%"
