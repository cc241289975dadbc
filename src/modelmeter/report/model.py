"""The Report: versioned data that every output format (HTML, Markdown, JSON) renders.

Other tools read ``report.json``; the names here are a contract. Add fields, never rename them
without bumping ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

SCHEMA_VERSION = 1

# Money is Decimal in memory; in JSON it is a plain number so that any tool can compare it.
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


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


class CostResult(_Model):
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


class SlaCheck(_Model):
    met: bool
    violations: list[str] = Field(default_factory=list)


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
    priority_weights: dict[str, dict[str, float]] = Field(default_factory=dict)
    definitions: dict[str, str] = Field(
        default_factory=dict, description="Metric name -> one-line definition."
    )
    notes: list[str] = Field(default_factory=list)
