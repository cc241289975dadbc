"""The ``economics:`` section of a spec: where prices come from and what to budget for.

Costs per 1,000 requests come from each target's ``pricing``; this section adds what a decision
about running a model in production needs on top: a price catalogue that ``kind: catalogue``
prices are looked up in, the workload expected per month, a monthly budget it must fit, and the
self-hosting option an API is weighed against::

    economics:
      catalogue: builtin              # or a LiteLLM / OpenRouter JSON file
      workload: {requests_per_day: 20000}
      monthly_budget: 500
      budget_currency: USD
      self_hosted: {price_per_hour: 2.50, currency: USD, instances: 1, utilisation: 0.6}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelmeter.economics.catalogue import (
    Catalogue,
    CatalogueFormat,
    builtin_catalogue,
    load_catalogue,
)
from modelmeter.economics.llm_costs import Workload
from modelmeter.economics.pricing import InstancePricing, _currency_code

__all__ = ["EconomicsSpec"]


class EconomicsSpec(BaseModel):
    """Price catalogue, declared workload, monthly budget and the self-hosting alternative."""

    model_config = ConfigDict(extra="forbid")

    catalogue: Literal["builtin"] | Path | None = Field(
        default=None,
        description=(
            "Price catalogue for `kind: catalogue` prices: 'builtin' (a LiteLLM subset shipped "
            "with modelmeter), or a JSON file in LiteLLM's model_prices_and_context_window.json "
            "or OpenRouter's /api/v1/models layout; relative to the spec's folder."
        ),
    )
    catalogue_format: CatalogueFormat = Field(
        default="auto",
        description="Layout of the catalogue file: 'auto' decides by content, or 'litellm', "
        "'openrouter'.",
    )
    catalogue_date: dt.date | None = Field(
        default=None,
        description="Date the catalogue's prices are from (YYYY-MM-DD); null: the file's own "
        "_modelmeter.date, else its modification date (reported as 'file date').",
    )
    workload: Workload | None = Field(
        default=None,
        description="Expected production volume, for the monthly budget: tokens per month, or "
        "requests per day (tokens per request default to the measured means).",
    )
    monthly_budget: Decimal | None = Field(
        default=None,
        gt=0,
        description="Most the workload may cost per month, in `budget_currency`; needs a workload.",
    )
    budget_currency: str | None = Field(
        default=None,
        description="ISO 4217 code of `monthly_budget`; must be the targets' pricing currency.",
    )
    self_hosted: InstancePricing | None = Field(
        default=None,
        description="Self-hosting to weigh API targets against (price_per_hour, currency, "
        "instances, utilisation), for the break-even volume.",
    )

    @field_validator("budget_currency", mode="before")
    @classmethod
    def _normalise_currency(cls, value: object) -> object:
        return _currency_code(value)

    @model_validator(mode="after")
    def _budget_is_complete(self) -> EconomicsSpec:
        if self.monthly_budget is not None:
            if self.budget_currency is None:
                raise ValueError(
                    "monthly_budget needs budget_currency (an ISO 4217 code such as USD); "
                    "amounts are never converted"
                )
            if self.workload is None:
                raise ValueError(
                    "monthly_budget needs a workload to budget for (tokens per month, or "
                    "requests_per_day)"
                )
        elif self.budget_currency is not None:
            raise ValueError("budget_currency is set but monthly_budget is not")
        if self.catalogue is None and (
            self.catalogue_date is not None or self.catalogue_format != "auto"
        ):
            raise ValueError("catalogue_format and catalogue_date need a catalogue")
        return self

    def open_catalogue(self, base: Path | None = None) -> Catalogue | None:
        """The catalogue named here, loaded; a relative path is read from ``base``.

        Raises :class:`~modelmeter.economics.catalogue.CatalogueError` naming the file and the
        entry of any problem.
        """
        if self.catalogue is None:
            return None
        if self.catalogue == "builtin":
            found = builtin_catalogue()
            if self.catalogue_date is not None:
                found = found.model_copy(
                    update={"date": self.catalogue_date, "date_basis": "given"}
                )
            return found
        path = self.catalogue
        if base is not None and not path.is_absolute():
            path = base / path
        return load_catalogue(path, self.catalogue_format, date=self.catalogue_date)
