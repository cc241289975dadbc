"""What every result type shares: no unknown fields, and the interval of an estimate."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from modelmeter._money import Money

__all__ = ["Interval", "Quantity", "ResultModel"]

# A count or rate in memory is Decimal (exact arithmetic); in JSON a plain number, as Money is.
Quantity = Money


class ResultModel(BaseModel):
    """A result type: part of ``report.json``, so unknown fields are refused, never dropped."""

    model_config = ConfigDict(extra="forbid")


class Interval(ResultModel):
    """A two-sided confidence interval for an estimate."""

    low: float
    high: float
    level: float = 0.95
    method: str = Field(description="How the interval was computed, e.g. 'bootstrap-percentile'.")
