"""The one representation of an amount of money in reports and prices.

A leaf module: the report schema and the economics package both use it, and the report schema
also holds the economics results, so neither may import the other for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

__all__ = ["Money", "currency_code"]

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
