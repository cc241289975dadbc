"""The result of a regression gate: what was compared, each check's verdict, and the figures.

A CI job keeps this as JSON next to the JUnit file, so the names here are a contract like the
report's: add fields, never rename them without bumping ``COMPARE_SCHEMA_VERSION``. Every
verdict carries the sentence a reviewer reads, so the JUnit and Markdown renderings compute
nothing themselves.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelmeter._money import Money
from modelmeter.results import Interval

__all__ = [
    "CHECKS",
    "COMPARE_SCHEMA_VERSION",
    "Check",
    "CheckName",
    "CheckStatus",
    "ComparisonResult",
    "LatencyComparison",
    "ModelComparison",
    "ModelFigures",
    "QualityComparison",
    "QualityVerdict",
]

COMPARE_SCHEMA_VERSION: Literal[1] = 1

CheckName = Literal["quality", "latency", "sla", "budget"]
CHECKS: tuple[CheckName, ...] = ("quality", "latency", "sla", "budget")

CheckStatus = Literal["pass", "fail", "warn", "skip"]

QualityVerdict = Literal[
    "regression", "decrease_within_tolerance", "no_significant_change", "improvement"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Model):
    """One gate check of one model pair, with its verdict in words."""

    name: CheckName = Field(description="Which check: quality, latency, sla or budget.")
    status: CheckStatus = Field(
        description="pass; fail (a regression or breach: the gate fails); warn (worth a look, "
        "does not fail the gate); skip (nothing to compare, e.g. no load phase)."
    )
    message: str = Field(description="The verdict with the figures behind it.")


class QualityComparison(_Model):
    """The paired comparison of two models' grades on the items both runs share.

    The difference is NEW minus BASELINE, so a negative difference is a drop in quality.
    """

    metric: Literal["accuracy", "mean_score"] = Field(
        description="accuracy: share of shared items answered right (McNemar exact); "
        "mean_score: mean graded score in [0, 1] (paired bootstrap)."
    )
    method: str = Field(description="The test: 'mcnemar-exact' or 'paired-bootstrap'.")
    n_shared: int = Field(ge=1, description="Items graded in both runs, matched by item id.")
    only_in_baseline: int = Field(
        ge=0, description="Items graded only in BASELINE: counted, not used in the test."
    )
    only_in_new: int = Field(
        ge=0, description="Items graded only in NEW: counted, not used in the test."
    )
    baseline_value: float = Field(description="BASELINE's accuracy or mean score, shared items.")
    new_value: float = Field(description="NEW's accuracy or mean score, shared items.")
    difference: float = Field(description="new_value − baseline_value.")
    interval_low: float = Field(description="Lower limit of the interval for the difference.")
    interval_high: float = Field(description="Upper limit of the interval for the difference.")
    level: float = Field(gt=0.0, lt=1.0, description="Confidence level of the interval, 1 − alpha.")
    interval_method: str = Field(
        description="How the interval was computed: 'newcombe-hybrid-score' (McNemar) or "
        "'bootstrap-percentile'."
    )
    p_value: float = Field(ge=0.0, le=1.0, description="Raw two-sided p-value of this pair.")
    adjusted_p_value: float = Field(
        ge=0.0, le=1.0, description="Holm-adjusted over every model pair compared in this gate."
    )
    significant: bool = Field(description="adjusted_p_value ≤ alpha.")
    new_only_right: int | None = Field(
        default=None, description="McNemar: shared items only NEW got right (None: bootstrap)."
    )
    baseline_only_right: int | None = Field(
        default=None,
        description="McNemar: shared items only BASELINE got right (None: bootstrap).",
    )
    n_resamples: int | None = Field(
        default=None, description="Bootstrap: resamples drawn (None: McNemar)."
    )
    seed: int | None = Field(default=None, description="Bootstrap: the seed (None: McNemar).")
    verdict: QualityVerdict = Field(
        description="regression: significant drop larger than the tolerance; "
        "decrease_within_tolerance: significant drop no larger than it; no_significant_change; "
        "improvement: significant rise."
    )
    sentence: str = Field(
        description="The statistical verdict in words (modelmeter.stats.comparison_sentence)."
    )


class LatencyComparison(_Model):
    """P95 response time of the two load phases, and the SLA limit it is held against.

    Two runs' latency samples are not paired (different requests at different moments), so
    there is no paired test; the rule is a relative tolerance plus disjoint P95 intervals.
    """

    baseline_p95_ms: float = Field(description="BASELINE's P95 response time, ms.")
    new_p95_ms: float = Field(description="NEW's P95 response time, ms.")
    relative_change: float | None = Field(
        description="new / baseline − 1 (0.12 = 12% slower); None when BASELINE's P95 is 0."
    )
    tolerance: float = Field(ge=0.0, description="Relative increase allowed before a warning.")
    sla_p95_ms: float | None = Field(
        description="The SLA's P95 limit (NEW's report, else BASELINE's); None when neither "
        "sets one."
    )
    beyond_tolerance: bool = Field(description="The P95 rose by more than the tolerance.")
    breaks_sla: bool = Field(description="NEW's P95 is above sla_p95_ms.")
    baseline_p95_ci: Interval | None = Field(default=None, description="BASELINE's P95 interval.")
    new_p95_ci: Interval | None = Field(default=None, description="NEW's P95 interval.")
    real: bool = Field(
        default=True,
        description="NEW's P95 interval lies wholly above BASELINE's (without intervals: the "
        "P95 rose).",
    )
    inconclusive: str = Field(
        default="",
        description="Why the latency check says nothing: a load phase the target did not pace "
        "alone (host busy, client-bound, saturated), per run; empty when conclusive.",
    )


class ModelFigures(_Model):
    """One model's headline figures in one run, as its report gives them."""

    run_id: str = Field(description="The run the figures come from.")
    model: str = Field(description="The model's name in that run.")
    quality_metric: str | None = Field(
        description="The report's headline quality: 'f1_macro' (classification), "
        "'task_score' (LLM tasks), or None when quality was not measured."
    )
    quality: float | None = Field(description="Its value.")
    quality_low: float | None = Field(description="Lower limit of its 95% interval, if any.")
    quality_high: float | None = Field(description="Upper limit of its 95% interval, if any.")
    p95_ms: float | None = Field(description="P95 response time of the load phase, ms.")
    error_rate: float | None = Field(description="Share of load-phase requests that failed.")
    cost_per_1000_requests: Money | None = Field(description="Cost of 1,000 requests.")
    currency: str = Field(description="ISO 4217 code of the cost.")
    sla_met: bool = Field(description="Whether the run's SLA was met.")
    sla_violations: list[str] = Field(description="The SLA limits broken, in words.")
    monthly_cost: Money | None = Field(description="Monthly cost of the declared workload.")
    monthly_budget: Money | None = Field(description="The declared monthly budget, if any.")
    within_budget: bool | None = Field(
        description="monthly_cost ≤ monthly_budget; None when no budget was declared."
    )


class ModelComparison(_Model):
    """One BASELINE model held against one NEW model: four checks and their figures."""

    label: str = Field(
        description="The pair's name in outputs: the model name, or 'baseline → new' when the "
        "names differ."
    )
    baseline: ModelFigures = Field(description="The BASELINE model's figures.")
    new: ModelFigures = Field(description="The NEW model's figures.")
    quality: QualityComparison | None = Field(
        description="The paired quality test; None when neither run graded items."
    )
    latency: LatencyComparison | None = Field(
        description="The P95 comparison; None when a run had no load phase."
    )
    checks: list[Check] = Field(description="quality, latency, sla and budget, in that order.")
    passed: bool = Field(description="No check failed.")


class ComparisonResult(_Model):
    """The regression gate's answer for two runs (or two models of one run)."""

    schema_version: Literal[1] = Field(
        default=COMPARE_SCHEMA_VERSION, description="Version of this result's layout."
    )
    baseline_run: str = Field(description="Run id of BASELINE.")
    baseline_name: str = Field(description="Study name of BASELINE.")
    new_run: str = Field(description="Run id of NEW.")
    new_name: str = Field(description="Study name of NEW.")
    alpha: float = Field(gt=0.0, lt=1.0, description="Significance level of the quality tests.")
    tolerance: float = Field(
        ge=0.0, description="Largest quality drop (absolute, e.g. 0.01 = 1 point) that passes."
    )
    latency_tolerance: float = Field(
        ge=0.0, description="Largest relative P95 increase (0.10 = 10%) without a warning."
    )
    adjustment: str = Field(
        default="holm", description="Multiple-testing adjustment over the quality tests."
    )
    models: list[ModelComparison] = Field(description="One entry per model pair compared.")
    failures: int = Field(ge=0, description="Checks that failed, over all pairs.")
    warnings: int = Field(ge=0, description="Checks that warned, over all pairs.")
    passed: bool = Field(description="No check failed: the gate lets the change through.")
    notes: list[str] = Field(
        default_factory=list, description="What the reader should know about the comparison."
    )

    def failed_checks(self) -> list[tuple[str, Check]]:
        """(pair label, check) for every failed check, in order."""
        return [
            (model.label, check)
            for model in self.models
            for check in model.checks
            if check.status == "fail"
        ]
