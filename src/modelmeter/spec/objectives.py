"""What the user wants: SLA limits, a priority (or custom weights) and the quality metric.

These models sit directly in the YAML spec::

    objectives:
      sla: {p95_ms: 100, max_error_rate: 0.01, min_quality: 0.8}
      priority: cost            # or quality, latency, balanced
      quality_tolerance: 0.02   # latency- and cost-first give up at most this much quality
      value_per_correct: 0.01   # balanced: what a correct answer is worth, in the costs' currency
      weights: {quality: 0.5, latency: 0.2, cost: 0.3}   # optional, overrides the priority
      quality_metric: f1_macro

How each priority chooses is written in docs/decisions.md.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CRITERIA",
    "DEFAULT_QUALITY_TOLERANCE",
    "DEFAULT_VALUE_PER_CORRECT",
    "PRIORITIES",
    "Criterion",
    "Objectives",
    "Priority",
    "QualityMetric",
    "Sla",
]

Priority = Literal["balanced", "quality", "latency", "cost"]
Criterion = Literal["quality", "latency", "cost"]
CostMetric = Literal["per_1000_requests", "per_correct_answer"]
QualityMetric = Literal["f1_macro", "accuracy", "f1_weighted", "task_score"]

PRIORITIES: tuple[Priority, ...] = get_args(Priority)
CRITERIA: tuple[Criterion, ...] = get_args(Criterion)

DEFAULT_QUALITY_TOLERANCE = 0.02
"""Quality (on the metric's 0-1 scale) latency- and cost-first may give up: two points."""

DEFAULT_VALUE_PER_CORRECT = Decimal("0.01")
"""Balanced, without a stated value: a correct answer is worth one hundredth of the currency
(a cent), so a point of quality outweighs cost differences below 0.10 per 1,000 requests."""


class Sla(BaseModel):
    """Limits a model must meet to be recommended. A limit left out is not checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p95_ms: float | None = Field(
        default=None, gt=0, description="Highest acceptable P95 response time, in milliseconds."
    )
    p99_ms: float | None = Field(
        default=None, gt=0, description="Highest acceptable P99 response time, in milliseconds."
    )
    ttft_p95_ms: float | None = Field(
        default=None,
        gt=0,
        description="Streaming LLMs: highest acceptable P95 time to first token, in milliseconds.",
    )
    itl_p95_ms: float | None = Field(
        default=None,
        gt=0,
        description="Streaming LLMs: highest acceptable P95 inter-token latency, in milliseconds.",
    )
    max_error_rate: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Highest acceptable share of failed requests (0 to 1; 0.01 = 1%).",
    )
    min_quality: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Lowest acceptable value of the objectives' quality metric (0 to 1).",
    )
    max_cost_per_1000: float | None = Field(
        default=None,
        gt=0.0,
        description="Highest acceptable cost of 1,000 requests, in the targets' currency.",
    )

    def limits(self) -> dict[str, float]:
        """The limits that are set, by field name (for the report)."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


class Objectives(BaseModel):
    """How models are judged: SLA limits first, then the priority's rule (docs/decisions.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sla: Sla = Field(default_factory=Sla, description="Limits every recommended model must meet.")
    priority: Priority = Field(
        default="balanced",
        description=(
            "How to choose (docs/decisions.md): quality (the best quality group, then the "
            "cheapest), latency / cost (the fastest / cheapest model within "
            "`quality_tolerance` of the best), balanced (the highest net value: correct answers "
            "at `value_per_correct` minus cost). Ignored when `weights` is given."
        ),
    )
    quality_tolerance: float = Field(
        default=DEFAULT_QUALITY_TOLERANCE,
        ge=0.0,
        le=1.0,
        description="Quality latency- and cost-first may give up against the best model "
        "(0.02 = two points of the quality metric); a model not significantly below the best "
        "always qualifies.",
    )
    value_per_correct: Decimal | None = Field(
        default=None,
        gt=0,
        description="Balanced: what one correct answer (one point of quality per request) is "
        "worth, in the models' currency. Default: business.value_per_correct when the spec has "
        "one, else 0.01.",
    )
    weights: dict[str, float] | None = Field(
        default=None,
        description=(
            "Custom weights over quality, latency and cost (non-negative, not all zero; "
            "normalised to sum to 1, a missing key weighs 0), min-max scaled over the eligible "
            "models on the front. Overrides `priority`."
        ),
    )
    cost_metric: CostMetric = Field(
        default="per_1000_requests",
        description="Cost the ranking weighs: per 1,000 requests, or per correct answer "
        "(cost per 1,000 requests / 1,000 / share answered right; LLM runs: the evaluated "
        "requests' cost per correct answer).",
    )
    quality_metric: QualityMetric = Field(
        default="f1_macro",
        description="Quality metric used for ranking and for `sla.min_quality`; LLM runs use "
        "task_score (share of task items answered right).",
    )

    @field_validator("weights")
    @classmethod
    def _normalise_weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(CRITERIA))
        if unknown:
            raise ValueError(
                f"unknown weight key(s) {', '.join(map(repr, unknown))}; "
                f"known keys: {', '.join(sorted(CRITERIA))}"
            )
        for key, weight in value.items():
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"weight {key!r} must be a finite number >= 0, got {weight}")
        total = math.fsum(value.values())
        if total <= 0:
            raise ValueError("at least one weight must be greater than 0")
        return {criterion: value.get(criterion, 0.0) / total for criterion in CRITERIA}

    @property
    def label(self) -> str:
        """The priority's name, or ``"custom"`` when custom weights are given."""
        return "custom" if self.weights is not None else self.priority
