"""The Report: versioned data that every output format (HTML, Markdown, JSON) renders.

Other tools read ``report.json``; the names here are a contract. Add fields, never rename them
without bumping ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelmeter._money import Money

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Interval(_Model):
    """A two-sided confidence interval for an estimate."""

    low: float
    high: float
    level: float = 0.95
    method: str = Field(description="How the interval was computed, e.g. 'bootstrap-percentile'.")


class ClassMetrics(_Model):
    precision: float
    recall: float
    f1: float
    support: int


class SliceQuality(_Model):
    """Quality on the samples of one slice value (e.g. language = fr)."""

    n: int
    accuracy: float
    f1_macro: float
    f1_macro_ci: Interval | None = None


class QualityResult(_Model):
    """Classification quality of one target on the labelled samples it answered.

    Failed requests count as wrong answers (prediction = none) so that an unreliable target cannot
    look better by failing on hard items; ``n_failed`` says how many.
    """

    n: int
    n_failed: int = 0
    accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    intervals: dict[str, Interval] = Field(
        default_factory=dict, description="95% intervals keyed by metric name (e.g. 'f1_macro')."
    )
    per_class: dict[str, ClassMetrics] = Field(default_factory=dict)
    confusion_labels: list[str] = Field(default_factory=list)
    confusion_matrix: list[list[int]] = Field(
        default_factory=list, description="Rows are true labels, columns predicted labels."
    )
    by_slice: dict[str, dict[str, SliceQuality]] = Field(
        default_factory=dict, description="slice name -> slice value -> quality."
    )


TaskMetric = Literal["accuracy", "exact_match", "token_f1", "regex", "judge", "pass@1"]
METRICS: tuple[TaskMetric, ...] = (
    "accuracy",
    "exact_match",
    "token_f1",
    "regex",
    "judge",
    "pass@1",
)


class SliceScore(_Model):
    """Quality on the samples of one slice value (e.g. subject = computer_security)."""

    n: int = Field(ge=1, description="Samples with this slice value.")
    n_failed: int = Field(
        ge=0, description="Of those, samples whose request failed or that have no grade."
    )
    n_correct: int = Field(ge=0, description="Of those, samples graded right.")
    accuracy: float = Field(ge=0.0, le=1.0, description="n_correct / n.")
    accuracy_ci: Interval = Field(description="Wilson interval for the accuracy.")
    mean_score: float = Field(ge=0.0, le=1.0, description="Mean item score in [0, 1].")
    mean_score_ci: Interval | None = Field(
        default=None,
        description="Percentile bootstrap interval for the mean score; null when no resamples "
        "were asked for.",
    )


class TaskQuality(_Model):
    """Quality of one target on one LLM task, with 95% intervals and per-slice figures.

    Failed and ungraded samples count as wrong with score 0 (see ``n_failed``).
    """

    metric: TaskMetric = Field(
        description="What an item's grade means: accuracy (multiple choice), exact_match, "
        "token_f1, regex, judge (normalised judge score) or pass@1 (code)."
    )
    n: int = Field(ge=1, description="Samples evaluated, failed ones included.")
    n_failed: int = Field(
        ge=0, description="Samples whose request failed or that have no grade (counted wrong)."
    )
    n_correct: int = Field(ge=0, description="Samples graded right.")
    accuracy: float = Field(
        ge=0.0, le=1.0, description="Share of samples graded right (pass rate for pass@1)."
    )
    accuracy_ci: Interval = Field(description="Wilson interval for the accuracy.")
    mean_score: float = Field(
        ge=0.0,
        le=1.0,
        description="Mean item score in [0, 1]: graded for token_f1 and judge, else the accuracy.",
    )
    mean_score_ci: Interval | None = Field(
        default=None,
        description="Percentile bootstrap interval for the mean score; null when n_bootstrap is 0.",
    )
    n_bootstrap: int = Field(ge=0, description="Bootstrap resamples behind mean_score_ci.")
    seed: int = Field(ge=0, description="Seed of the bootstrap; the same seed gives the same CIs.")
    by_slice: dict[str, dict[str, SliceScore]] = Field(
        default_factory=dict, description="slice name -> slice value -> quality."
    )


class TaskResult(_Model):
    """One LLM task (an evaluation set) on one target."""

    name: str
    kind: Literal["multiple_choice", "generation", "code"]
    route: str = Field(description="The request kind this task stands for, for routing.")
    quality: TaskQuality
    pass_at_k: dict[str, float] = Field(
        default_factory=dict, description="Code: k -> unbiased pass@k over the problems."
    )
    answers: int = Field(description="Answers scored (problems × draws for code).")
    sent: int = Field(description="Of those, requests sent in this run.")
    cached: int = Field(
        default=0, description="Of those, answers taken from the response cache (not re-sent)."
    )
    failed: int = Field(default=0, description="Requests that got no answer (counted wrong).")
    input_tokens: int = Field(default=0, description="Prompt tokens of the answers (usage).")
    output_tokens: int = Field(
        default=0, description="Output tokens of the answers' visible text (usage)."
    )
    reasoning_tokens: int = Field(
        default=0, description="Reasoning tokens (usage), billed as output on top of those."
    )
    cached_input_tokens: int = Field(
        default=0, description="Of the prompt tokens, those the provider read from its cache."
    )
    cost_per_correct: Money | None = Field(
        default=None, description="This task's token cost / its correct answers."
    )
    judge_requests: int = Field(default=0, description="Requests sent to the judge.")
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    judge_cost: Money | None = Field(
        default=None, description="The judge's cost, kept apart from the model's."
    )


class LatencySummary(_Model):
    """Percentiles in milliseconds over the measured window (warm-up excluded)."""

    count: int
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    method: str = "exact"
    p95_ci: Interval | None = Field(
        default=None,
        description="95% distribution-free interval of P95 (order statistics); null when too "
        "few requests or percentiles came from a histogram.",
    )
    p99_ci: Interval | None = Field(default=None, description="The same for P99.")


class LlmLoadMetrics(_Model):
    """Streaming LLM timing over the measured window, successful requests only."""

    ttft_ms: LatencySummary | None = Field(
        default=None, description="Time to first output token, from the actual send."
    )
    time_to_first_reasoning_ms: LatencySummary | None = Field(
        default=None, description="Time to the first reasoning chunk, for models that think."
    )
    itl_ms: LatencySummary | None = Field(
        default=None,
        description="Inter-token latency: gaps between content chunks divided by their tokens.",
    )
    tpot_ms: LatencySummary | None = Field(
        default=None,
        description="Per request: (done − first token) / (output tokens − 1).",
    )
    output_tokens: int = Field(description="Output tokens of the measured requests.")
    output_tokens_per_s: float | None = Field(
        default=None, description="Output tokens / measured window, all requests together."
    )
    token_source: dict[str, int] = Field(
        default_factory=dict,
        description="Where output counts came from (usage | tokenizer | chunks): requests each.",
    )


class LoadResult(_Model):
    """What the load phase measured for one target."""

    mode: str = Field(description="concurrency | constant | poisson")
    concurrency: int | None = None
    rate_rps: float | None = None
    duration_s: float = Field(description="Wall time of the measured window.")
    requests: int
    completed: int
    errors: dict[str, int] = Field(default_factory=dict, description="Failed requests by kind.")
    error_rate: float
    latency_histogram_ms: list[tuple[float, int]] = Field(
        default_factory=list,
        description="(upper bound ms, count) buckets of response time, for the distribution chart.",
    )
    service_time_ms: LatencySummary | None = None
    schedule_lag_ms: LatencySummary | None = None
    client_cpu_percent: float | None = Field(
        default=None,
        description="CPU time the load generator's process used during the phase, in % of one "
        "core; near 100 the client, not the target, may set the pace.",
    )
    client_bound: bool = Field(
        default=False,
        description="True when the load generator may have set the pace (see client_bound_reason).",
    )
    client_bound_reason: str = Field(
        default="", description="Why the run is marked client-bound, with the figures."
    )
    llm: LlmLoadMetrics | None = Field(
        default=None, description="Streaming LLM metrics, when the target streams tokens."
    )


class SweepPoint(_Model):
    """One load level of a sweep or an SLA search, measured like a load phase."""

    mode: Literal["concurrency", "rate"]
    value: float = Field(description="Requests in flight, or arrivals per second.")
    throughput_rps: float | None = None
    goodput_rps: float | None = Field(
        default=None, description="Requests per second that met every SLO (errors are misses)."
    )
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float = 0.0
    ttft_p95_ms: float | None = None
    itl_p95_ms: float | None = None
    client_bound: bool = False
    slo_met: bool | None = Field(default=None, description="None when no SLO applies.")


class SweepResult(_Model):
    """A series of load levels: a sweep, or the search for the highest rate within the SLA."""

    kind: Literal["sweep", "sla_search"]
    points: list[SweepPoint]
    stopped_because: str = Field(description="Why the series ended, in words.")
    best: SweepPoint | None = Field(
        default=None, description="SLA search: the highest load level that met the SLA."
    )


class SlaCheck(_Model):
    met: bool
    violations: list[str] = Field(default_factory=list)


class ItemResults(_Model):
    """Each evaluated item's grade for one model, in one order: what paired comparisons
    (McNemar, paired bootstrap) between models of a run, or between runs, are computed on."""

    ids: list[str] = Field(description="Item ids (LLM tasks: 'task/id').")
    correct: list[bool] = Field(description="Whether each item was answered right.")
    score: list[float] | None = Field(
        default=None,
        description="Graded score in [0, 1] per item, where it differs from right/wrong "
        "(token F1, judge, code pass rate); null: the score is 1 if correct else 0.",
    )


class ModelResult(_Model):
    name: str
    target_kind: str
    description: str = ""
    quality: QualityResult | None
    latency_ms: LatencySummary | None = Field(
        description="Response time (from intended send time) in the load phase."
    )
    throughput_rps: float | None
    load: LoadResult | None
    cost: CostResult
    sla: SlaCheck
    sweep: SweepResult | None = Field(
        default=None, description="Throughput-vs-latency series, when the spec asks for one."
    )
    tasks: list[TaskResult] = Field(
        default_factory=list, description="LLM runs: quality and tokens per evaluation set."
    )
    task_score: float | None = Field(
        default=None,
        description="LLM runs: share of all task items answered right (the quality used to "
        "rank models).",
    )
    task_score_ci: Interval | None = Field(
        default=None, description="Wilson 95% interval of task_score."
    )
    context_window: int | None = Field(
        default=None, description="Largest prompt in tokens, from the price catalogue."
    )
    items: ItemResults | None = Field(
        default=None, description="Per-item grades, for paired comparisons."
    )
    llm_cost: LlmCostBreakdown | None = Field(
        default=None,
        description="LLM runs: what the evaluated requests cost per request, per 1M tokens and "
        "per correct answer, with the formulas.",
    )
    budget: Budget | None = Field(
        default=None, description="Monthly cost of the declared workload (economics.workload)."
    )
    break_even: BreakEven | None = Field(
        default=None,
        description="API vs self-hosting (economics.self_hosted) at this target's measured "
        "throughput.",
    )


class RankedModel(_Model):
    name: str
    score: float
    eligible: bool = Field(description="False when the model broke an SLA limit.")
    reasons: list[str] = Field(default_factory=list)


class Recommendation(_Model):
    text: str = Field(description="The recommendation in words, with the numbers behind it.")
    by_priority: dict[str, str | None] = Field(
        description="priority (quality, latency, cost, balanced) -> chosen model name, or None."
    )
    chosen: str | None = Field(description="The model chosen for the spec's own priority.")
    priority: str


class RouteChoiceResult(_Model):
    route: str = Field(description="default, background, think, longContext or webSearch.")
    model: str
    reason: str = Field(description="The figures behind the choice.")


class PairComparison(_Model):
    """Two models compared on the same items (paired), Holm-corrected over all pairs."""

    a: str
    b: str
    difference: float = Field(description="Quality of a − quality of b on the shared items.")
    interval: Interval = Field(description="95% interval of the difference (not Holm-adjusted).")
    p_value: float = Field(description="Two-sided p-value of the paired test.")
    p_adjusted: float = Field(description="Holm-adjusted over all pairs of the run.")
    distinguishable: bool = Field(description="p_adjusted ≤ 0.05.")
    method: str = Field(description="mcnemar-exact (right/wrong) or paired-bootstrap (scores).")
    items: int = Field(description="Items both models were graded on.")
    sentence: str = Field(description="The comparison in words.")


Horizon = Literal["weeks 1-2", "weeks 3-6", "weeks 7-12"]


class Advice(_Model):
    """One piece of optimisation advice, grounded in a measurement of this run."""

    title: str = Field(description="What to do, in a few words.")
    finding: str = Field(description="The measurement behind it, with the figures.")
    action: str = Field(description="The step to take.")
    expected_effect: str = Field(description="What it should change, from the measurements.")
    verify: str = Field(description="How to check that it did.")
    horizon: Horizon = Field(description="When, in the 90-day plan.")


class HostFacts(_Model):
    python: str
    platform: str
    cpu_count: int
    machine: str


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    tool_version: str
    run_id: str
    name: str
    created_at: datetime
    spec_hash: str
    seed: int
    host: HostFacts
    task: str
    dataset: dict[str, str | int] = Field(default_factory=dict)
    models: list[ModelResult]
    pareto: list[str] = Field(description="Names of the models on the quality/P95/cost frontier.")
    ranking: list[RankedModel]
    recommendation: Recommendation
    sla: dict[str, float] = Field(default_factory=dict, description="The SLA limits applied.")
    quality_metric: str = Field(
        default="f1_macro", description="The quality metric the ranking and the SLA used."
    )
    priority_weights: dict[str, dict[str, float]] = Field(default_factory=dict)
    definitions: dict[str, str] = Field(
        default_factory=dict, description="Metric name -> one-line definition."
    )
    notes: list[str] = Field(default_factory=list)
    pricing_source: str | None = Field(
        default=None, description="The price catalogue used: its source and date."
    )
    routing: list[RouteChoiceResult] = Field(
        default_factory=list, description="LLM runs: which model takes each request kind, why."
    )
    routing_files: list[str] = Field(
        default_factory=list, description="Router configurations written with the report."
    )
    comparisons: list[PairComparison] = Field(
        default_factory=list, description="Every pair of models compared on the same items."
    )
    tie_groups: list[list[str]] = Field(
        default_factory=list,
        description="Models ranked by quality in groups that the paired tests cannot tell apart.",
    )
    capacity: CapacityPlan | None = Field(
        default=None, description="Capacity plan for the chosen model (spec: capacity)."
    )
    capacity_model: str | None = Field(default=None, description="The model the plan is for.")
    capacity_reference: bool = Field(
        default=False,
        description="True when the spec declared no peak and the plan is for a reference peak "
        "of 1,000 req/s, to show the scale.",
    )
    manifest_file: str | None = Field(
        default=None, description="Kubernetes manifests written beside the report."
    )
    business_case: BusinessCase | None = Field(
        default=None, description="Whether switching to the chosen model pays (spec: business)."
    )
    advice: list[Advice] = Field(
        default_factory=list,
        description="Optimisation advice grounded in this run's measurements, by horizon: the "
        "90-day plan.",
    )


# The cost models live with their arithmetic in the economics package, which needs nothing from
# here; they are imported last (report -> economics only) and the models that hold them
# completed here. Importing them from this module keeps working.
from modelmeter.economics.cost import CostResult as CostResult  # noqa: E402
from modelmeter.economics.llm_costs import BreakEven, Budget, LlmCostBreakdown  # noqa: E402
from modelmeter.plan import BusinessCase, CapacityPlan  # noqa: E402

ModelResult.model_rebuild()
Report.model_rebuild()
