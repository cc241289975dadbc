"""Judgments over the measurements: SLA checks, ranking, recommendation, pairs, advice."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelmeter._money import Money
from modelmeter.results._base import Interval, ResultModel

__all__ = [
    "Advice",
    "Decision",
    "Horizon",
    "PairComparison",
    "PriorityChoice",
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
    score: float | None = Field(
        default=None,
        description="The figure the rule weighed, where it weighs one: net value per 1,000 "
        "requests (balanced) or the weighted score (custom weights); None for the ordering "
        "rules of quality-, latency- and cost-first.",
    )
    eligible: bool = Field(description="False when the model broke an SLA limit.")
    reasons: list[str] = Field(default_factory=list)


class PriorityChoice(ResultModel):
    """The model one priority's rule chose, and the steps that chose it."""

    priority: str = Field(description="quality, latency, cost, balanced or custom.")
    rule: str = Field(description="The rule, in words a reviewer can apply by hand.")
    chosen: str | None = Field(description="The model chosen; None when no model is eligible.")
    candidates: list[str] = Field(
        default_factory=list, description="The models the rule chose among (after its filter)."
    )
    steps: list[str] = Field(
        default_factory=list,
        description="Each step of the rule with the figures that decided it, in order.",
    )
    ranking: list[str] = Field(
        default_factory=list,
        description="Eligible models in the order the rule prefers them (the rule applied "
        "again to those left), then the others.",
    )
    values: dict[str, float] = Field(
        default_factory=dict,
        description="Per model, the figure the rule weighed where it weighs one (balanced: net "
        "value per 1,000 requests; custom: the weighted score).",
    )


class Decision(ResultModel):
    """The one decision of a run: every section that names a model derives from it.

    Made once by :func:`modelmeter.decide.decide`; the recommendation text, the ranking table,
    the advice, the routes, the capacity plan and the business case read it, and
    :func:`modelmeter.decide.inconsistencies` checks that they agree with it.
    """

    principle: str = Field(description="The method in one paragraph (docs/decisions.md).")
    priority: str = Field(description="The spec's priority, or 'custom' for custom weights.")
    chosen: str | None = Field(description="The model chosen for the spec's priority.")
    eligible: list[str] = Field(description="Models that meet every hard constraint.")
    ineligible: dict[str, list[str]] = Field(
        default_factory=dict, description="Model -> the hard constraints it breaks."
    )
    front: list[str] = Field(
        default_factory=list,
        description="Eligible models no other eligible model beats on every criterion.",
    )
    dominated: dict[str, list[str]] = Field(
        default_factory=dict, description="Eligible model off the front -> the models beating it."
    )
    quality_reference: str | None = Field(
        default=None, description="The front's best model on quality, the rules' reference."
    )
    top_group: list[str] = Field(
        default_factory=list,
        description="Front models whose quality the tests cannot tell from the reference's.",
    )
    acceptable: list[str] = Field(
        default_factory=list,
        description="Front models within the quality tolerance of the reference, or not "
        "significantly below it (latency- and cost-first choose among these).",
    )
    quality_tolerance: float = Field(description="The tolerance latency- and cost-first allow.")
    value_per_correct: Money | None = Field(
        default=None, description="What balanced counts a correct answer (one quality point) as."
    )
    value_source: str = Field(default="", description="Where value_per_correct came from.")
    currency: str = Field(default="", description="Currency of the costs and the value.")
    choices: list[PriorityChoice] = Field(
        default_factory=list,
        description="One per priority: quality, latency, cost, balanced "
        "(and custom when the spec gives weights).",
    )

    def choice(self, priority: str) -> PriorityChoice | None:
        """The choice for one priority, or None when it was not decided."""
        return next((c for c in self.choices if c.priority == priority), None)


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
