"""Judgments over the measurements: SLA checks, ranking, recommendation, pairs, advice."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelmeter.results._base import Interval, ResultModel

__all__ = [
    "Advice",
    "Horizon",
    "PairComparison",
    "RankedModel",
    "Recommendation",
    "RouteChoiceResult",
    "SlaCheck",
]


class SlaCheck(ResultModel):
    met: bool
    violations: list[str] = Field(default_factory=list)


class RankedModel(ResultModel):
    name: str
    score: float
    eligible: bool = Field(description="False when the model broke an SLA limit.")
    reasons: list[str] = Field(default_factory=list)


class Recommendation(ResultModel):
    text: str = Field(description="The recommendation in words, with the numbers behind it.")
    by_priority: dict[str, str | None] = Field(
        description="priority (quality, latency, cost, balanced) -> chosen model name, or None."
    )
    chosen: str | None = Field(description="The model chosen for the spec's own priority.")
    priority: str


class RouteChoiceResult(ResultModel):
    route: str = Field(description="default, background, think, longContext or webSearch.")
    model: str
    reason: str = Field(description="The figures behind the choice.")


class PairComparison(ResultModel):
    """Two models compared on the same items (paired), Holm-corrected over all pairs.

    The one shape of a paired comparison: :func:`modelmeter.stats.pairwise_comparisons` makes
    them, the report keeps them, ``modelmeter compare`` words its verdicts from them.
    """

    a: str
    b: str
    difference: float = Field(description="Quality of a − quality of b on the shared items.")
    interval: Interval = Field(description="95% interval of the difference (not Holm-adjusted).")
    p_value: float = Field(description="Two-sided p-value of the paired test.")
    p_adjusted: float = Field(description="Holm-adjusted over all pairs of the run.")
    distinguishable: bool = Field(description="p_adjusted ≤ 0.05.")
    method: str = Field(description="mcnemar-exact (right/wrong) or paired-bootstrap (scores).")
    items: int = Field(description="Items both models were graded on.")
    sentence: str = Field(default="", description="The comparison in words.")
    a_value: float | None = Field(
        default=None, description="Accuracy (McNemar) or mean score (bootstrap) of a."
    )
    b_value: float | None = Field(
        default=None, description="Accuracy (McNemar) or mean score (bootstrap) of b."
    )
    adjustment: str = Field(default="holm", description="The multiple-testing adjustment.")
    a_only: int | None = Field(
        default=None, description="McNemar only: items only a got right (None for bootstrap)."
    )
    b_only: int | None = Field(
        default=None, description="McNemar only: items only b got right (None for bootstrap)."
    )


Horizon = Literal["weeks 1-2", "weeks 3-6", "weeks 7-12"]


class Advice(ResultModel):
    """One piece of optimisation advice, grounded in a measurement of this run."""

    title: str = Field(description="What to do, in a few words.")
    finding: str = Field(description="The measurement behind it, with the figures.")
    action: str = Field(description="The step to take.")
    expected_effect: str = Field(description="What it should change, from the measurements.")
    verify: str = Field(description="How to check that it did.")
    horizon: Horizon = Field(description="When, in the 90-day plan.")
