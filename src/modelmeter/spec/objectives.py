"""What the user wants: SLA limits, a priority (or custom weights) and the quality metric.

These models sit directly in the YAML spec::

    objectives:
      sla: {p95_ms: 100, max_error_rate: 0.01, min_quality: 0.8}
      priority: cost            # or quality, latency, balanced
      weights: {quality: 0.5, latency: 0.2, cost: 0.3}   # optional, overrides the priority
      quality_metric: f1_macro
"""

from __future__ import annotations

import math
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CRITERIA",
    "PRESET_WEIGHTS",
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

_THIRD = 1.0 / 3.0
PRESET_WEIGHTS: dict[str, dict[str, float]] = {
    "quality": {"quality": 0.6, "latency": 0.2, "cost": 0.2},
    "latency": {"quality": 0.2, "latency": 0.6, "cost": 0.2},
    "cost": {"quality": 0.2, "latency": 0.2, "cost": 0.6},
    "balanced": {"quality": _THIRD, "latency": _THIRD, "cost": _THIRD},
}
"""Weights over quality, latency (P95) and cost per priority; each row sums to 1."""


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
    """How models are judged: SLA limits first, then a weighted score over three criteria."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sla: Sla = Field(default_factory=Sla, description="Limits every recommended model must meet.")
    priority: Priority = Field(
        default="balanced",
        description=(
            "Which criterion weighs most: quality, latency, cost, or balanced (equal weights). "
            "Ignored when `weights` is given."
        ),
    )
    weights: dict[str, float] | None = Field(
        default=None,
        description=(
            "Custom weights over quality, latency and cost (non-negative, not all zero; "
            "normalised to sum to 1, a missing key weighs 0). Overrides `priority`."
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

    def resolved_weights(self) -> dict[str, float]:
        """Weights over quality, latency and cost that the ranking uses (a fresh dict)."""
        if self.weights is not None:
            return dict(self.weights)
        return dict(PRESET_WEIGHTS[self.priority])
