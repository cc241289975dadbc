"""What requests cost: per 1,000 requests, LLM breakdowns, monthly budgets, break-even.

The arithmetic that fills these lives in :mod:`modelmeter.economics`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelmeter._money import Money
from modelmeter.results._base import Quantity, ResultModel

__all__ = [
    "BreakEven",
    "Budget",
    "CostLine",
    "CostResult",
    "LlmCostBreakdown",
]


class CostResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str
    per_1000_requests: Money | None = Field(
        description="Cost of 1,000 requests; None when it cannot be computed (e.g. no throughput)."
    )
    basis: Literal["instance", "api", "none"]
    explanation: str = Field(description="The formula with the figures that went into it.")
    throughput_basis_rps: float | None = None
    within_sla: bool | None = Field(
        default=None,
        description="Instance pricing: whether the throughput used was measured within the SLA.",
    )
    at_capacity: bool | None = Field(
        default=None,
        description="Instance pricing: whether the throughput is the target's capacity (a "
        "closed-loop phase, a sweep or an SLA search), not an offered open-loop rate it kept up "
        "with (then the cost is an upper bound); None for API pricing.",
    )


class CostLine(ResultModel):
    """One billed component: a quantity at a rate."""

    item: str = Field(description="What is billed, e.g. 'input tokens (full rate)'.")
    quantity: Quantity = Field(description="How many tokens, requests or seconds.")
    rate: Money = Field(description="The price applied, per `rate_per`.")
    rate_per: Literal["1M tokens", "request", "second"] = Field(
        description="What `rate` is the price of."
    )
    amount: Money = Field(description="quantity × rate (÷ 1M for tokens), exact.")
    formula: str = Field(description="The multiplication with its figures.")


class LlmCostBreakdown(ResultModel):
    """What the evaluated requests cost, in the figures people compare models by."""

    currency: str = Field(description="ISO 4217 code of every amount here.")
    requests: int = Field(description="Requests the figures are over.")
    total_tokens: int = Field(description="Input + output tokens of those requests.")
    lines: list[CostLine] = Field(description="The billed components of the total.")
    total: Money = Field(description="Cost of all the evaluated requests.")
    per_request: Money | None = Field(description="Mean cost of one request; None: no requests.")
    per_1000_requests: Money | None = Field(description="per_request × 1000.")
    per_1m_tokens: Money | None = Field(
        description="total / (input + output tokens) × 1M; None when no token was counted."
    )
    correct_answers: int | None = Field(description="Correct answers among the requests.")
    per_correct_answer: Money | None = Field(
        description="total / correct answers; None when none was correct or it is unknown."
    )
    blended_3_to_1_per_1m: Money = Field(
        description="(3 × input + 1 × output list price) / 4 per 1M tokens, for comparison."
    )
    explanation: list[str] = Field(description="Every formula with its figures, in order.")


class Budget(ResultModel):
    """The monthly cost of a declared workload, with what it assumed."""

    currency: str = Field(description="ISO 4217 code of every amount here.")
    requests_per_month: Quantity | None = Field(
        description="Requests in the month; None when the workload gives tokens only."
    )
    input_tokens_per_month: Quantity = Field(description="Input tokens in the month.")
    output_tokens_per_month: Quantity = Field(description="Output tokens in the month.")
    lines: list[CostLine] = Field(description="The billed components of the total.")
    total: Money = Field(description="Cost of the month's workload.")
    assumptions: list[str] = Field(
        description="Where each figure not declared came from (measured means, 30 days, ...)."
    )
    explanation: list[str] = Field(description="Every formula with its figures, in order.")
    limit: Money | None = Field(default=None, description="The declared monthly budget, if any.")
    within_budget: bool | None = Field(
        default=None, description="total ≤ limit; None when no limit was declared."
    )


class BreakEven(ResultModel):
    """API or self-hosting: the monthly volume from which instances cost less than the API."""

    currency: str = Field(description="ISO 4217 code of every amount here.")
    api_cost_per_request: Money = Field(description="Mean API cost of one request.")
    hours_per_month: Quantity = Field(description="Hours the instances are paid for per month.")
    fixed_monthly_cost: Money = Field(
        description="price_per_hour × instances × hours_per_month: paid whatever the volume."
    )
    capacity_requests_per_month: Quantity = Field(
        description="throughput × 3600 × hours × utilisation: what the instances can serve."
    )
    self_hosted_cost_per_request_at_capacity: Money = Field(
        description="fixed_monthly_cost / capacity: the lowest self-hosted cost per request."
    )
    break_even_requests_per_month: Quantity | None = Field(
        description="fixed_monthly_cost / api_cost_per_request; None when the API is free."
    )
    self_hosting_can_win: bool = Field(
        description="Whether the break-even volume is within the instances' capacity."
    )
    monthly_requests: Quantity | None = Field(
        default=None, description="The declared monthly volume compared, if any."
    )
    deployments_needed: int | None = Field(
        default=None, description="Deployments of `instances` instances that volume needs."
    )
    self_hosted_monthly_cost: Money | None = Field(
        default=None, description="deployments_needed × fixed_monthly_cost."
    )
    api_monthly_cost: Money | None = Field(
        default=None, description="monthly_requests × api_cost_per_request."
    )
    cheaper: Literal["api", "self_hosted", "same"] | None = Field(
        default=None, description="Which costs less at the declared volume."
    )
    explanation: list[str] = Field(description="Every formula with its figures, in order.")
