"""The one representation of an amount of money in reports and prices.

A leaf module: the report schema and the economics package both use it, and the report schema
also holds the economics results, so neither may import the other for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

__all__ = ["Money"]

# Money is Decimal in memory; in JSON it is a plain number so that any tool can compare it.
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
