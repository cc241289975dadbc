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
      self_hosted: {price_per_hour: 2.50, currency: USD, instances: 1, utilisation: 0.6}"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from modelmeter._money import currency_code
from modelmeter.spec._base import SpecModel
from modelmeter.spec.pricing import InstancePricing

__all__ = [
    "DEFAULT_DAYS_PER_MONTH",
    "CatalogueFormat",
    "EconomicsSpec",
    "Workload",
]


# Workload figures are budgeted with this month length unless the spec gives one.
CatalogueFormat = Literal["auto", "litellm", "openrouter"]


DEFAULT_DAYS_PER_MONTH = Decimal(30)


class Workload(SpecModel):
    """A production workload to budget for: tokens per month, or requests per day.

    Either ``input_tokens_per_month`` and ``output_tokens_per_month`` (with
    ``requests_per_month`` when the pricing also charges per request or per second), or
    ``requests_per_day`` with tokens per request — left out, they are the means measured in
    this run, and the budget says so.
    """

    requests_per_day: Decimal | None = Field(
        default=None, gt=0, description="Requests per day (with tokens per request)."
    )
    input_tokens_per_request: Decimal | None = Field(
        default=None, ge=0, description="Input tokens per request; null: the measured mean."
    )
    output_tokens_per_request: Decimal | None = Field(
        default=None,
        ge=0,
        description="Output tokens per request, reasoning included; null: the measured mean.",
    )
    reasoning_tokens_per_request: Decimal | None = Field(
        default=None,
        ge=0,
        description="Reasoning tokens per request (part of the output); null: the measured mean.",
    )
    input_tokens_per_month: Decimal | None = Field(
        default=None, ge=0, description="Input tokens per month (instead of requests_per_day)."
    )
    output_tokens_per_month: Decimal | None = Field(
        default=None, ge=0, description="Output tokens per month, reasoning included."
    )
    reasoning_tokens_per_month: Decimal | None = Field(
        default=None, ge=0, description="Reasoning tokens per month (part of the output)."
    )
    requests_per_month: Decimal | None = Field(
        default=None,
        gt=0,
        description="Requests per month, with tokens per month: needed for per-request and "
        "per-second prices.",
    )
    cached_input_share: Decimal | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Share of input tokens read from the prompt cache (0–1); null: the measured "
        "share when tokens per request are measured, else 0.",
    )
    days_per_month: Decimal = Field(
        default=DEFAULT_DAYS_PER_MONTH,
        gt=0,
        le=31,
        description="Days in the budgeted month (requests_per_day × days_per_month).",
    )

    @model_validator(mode="after")
    def _one_shape(self) -> Workload:
        per_request = {
            "input_tokens_per_request": self.input_tokens_per_request,
            "output_tokens_per_request": self.output_tokens_per_request,
            "reasoning_tokens_per_request": self.reasoning_tokens_per_request,
        }
        per_month = {
            "input_tokens_per_month": self.input_tokens_per_month,
            "output_tokens_per_month": self.output_tokens_per_month,
            "reasoning_tokens_per_month": self.reasoning_tokens_per_month,
            "requests_per_month": self.requests_per_month,
        }
        monthly_set = [name for name, value in per_month.items() if value is not None]
        if self.requests_per_day is not None:
            if monthly_set:
                raise ValueError(
                    f"give either requests_per_day (with tokens per request) or tokens per "
                    f"month, not both: {', '.join(monthly_set)} is set with requests_per_day"
                )
        else:
            per_request_set = [name for name, value in per_request.items() if value is not None]
            if per_request_set:
                raise ValueError(
                    f"{', '.join(per_request_set)} needs requests_per_day to make a monthly volume"
                )
            missing = [
                name
                for name in ("input_tokens_per_month", "output_tokens_per_month")
                if per_month[name] is None
            ]
            if missing:
                raise ValueError(
                    "a workload is either requests_per_day (with tokens per request, or the "
                    "measured means) or input_tokens_per_month and output_tokens_per_month; "
                    f"missing: {', '.join(missing)}"
                )
        for reasoning, output in (
            ("reasoning_tokens_per_request", "output_tokens_per_request"),
            ("reasoning_tokens_per_month", "output_tokens_per_month"),
        ):
            part, whole = getattr(self, reasoning), getattr(self, output)
            if part is not None and whole is not None and part > whole:
                raise ValueError(
                    f"{reasoning} ({part}) is part of {output} and cannot exceed it ({whole})"
                )
        return self


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
        return currency_code(value)

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
