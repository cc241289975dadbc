"""What a load phase measured: latency percentiles, streaming LLM timing, sweeps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelmeter.results._base import Interval, ResultModel

__all__ = [
    "LatencySummary",
    "LlmLoadMetrics",
    "LoadResult",
    "SweepPoint",
    "SweepResult",
]


class LatencySummary(ResultModel):
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


class LlmLoadMetrics(ResultModel):
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


class LoadResult(ResultModel):
    """What the load phase measured for one target."""

    mode: str = Field(description="concurrency | constant | poisson")
    concurrency: int | None = None
    rate_rps: float | None = None
    duration_s: float = Field(description="Wall time of the measured window.")
    requests: int
    completed: int
    errors: dict[str, int] = Field(default_factory=dict, description="Failed requests by kind.")
    errors_by_status: dict[str, int] = Field(
        default_factory=dict,
        description="Failed requests by kind, HTTP status failures by their status "
        "('http_status 401').",
    )
    error_samples: dict[str, str] = Field(
        default_factory=dict,
        description="The first error message of each key of errors_by_status (500 characters "
        "at most).",
    )
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
    offered_rps: float | None = Field(
        default=None, description="Open loop: the arrival rate offered (None in a closed loop)."
    )
    host_busy_before_percent: float | None = Field(
        default=None,
        description="Share of all cores busy in a quiet moment just before the phase: other "
        "processes' work (Linux; None elsewhere).",
    )
    host_steal_percent: float | None = Field(
        default=None, description="CPU time the hypervisor gave to other guests during the phase."
    )
    host_load_average: float | None = Field(
        default=None, description="The host's 1-minute load average at the end of the phase."
    )
    verdict: Literal["ok", "host busy", "client-bound", "target saturated"] = Field(
        default="ok",
        description="What set the pace: the target (ok), other work on the host, the load "
        "generator, or the target's capacity below the offered rate.",
    )
    diagnosis: str = Field(default="", description="The verdict in a sentence, with the figures.")
    llm: LlmLoadMetrics | None = Field(
        default=None, description="Streaming LLM metrics, when the target streams tokens."
    )


class SweepPoint(ResultModel):
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


class SweepResult(ResultModel):
    """A series of load levels: a sweep, or the search for the highest rate within the SLA."""

    kind: Literal["sweep", "sla_search"]
    points: list[SweepPoint]
    stopped_because: str = Field(description="Why the series ended, in words.")
    best: SweepPoint | None = Field(
        default=None, description="SLA search: the highest load level that met the SLA."
    )
