"""Summaries of a load phase: percentiles, histogram buckets, throughput and errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from modelmeter.load.host import HostReading
from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder import Distribution, MeasuredStats, OutcomeRecorder, measured_stats
from modelmeter.load.recorder.recorder import error_key
from modelmeter.load.schedule import LoadPlan
from modelmeter.results import Interval, LatencySummary, LlmLoadMetrics, LoadResult

NS_PER_MS = 1_000_000

# A run whose schedule lag P99 passes max(2 ms, 1% of the median service time) is client-bound:
# the load generator, not the target, set the pace (see the metric definitions).
# The floor is 2 ms, not 1 ms: event-loop timers (uvloop's included) fire on a 1 ms clock, so
# an on-time dispatcher already shows up to ~1 ms of lag at its P99.
CLIENT_BOUND_MIN_LAG_MS = 2.0
CLIENT_BOUND_LAG_SHARE = 0.01
# A closed loop has no schedule to lag behind; there the sign is the generator's own CPU: one
# event loop runs on one core, and near a full core it cannot send any faster.
CLIENT_BOUND_CPU_PERCENT = 80.0
# Throughput at this share of the ceiling `modelmeter calibrate` measured on this host is near
# what the client can drive at all.
NEAR_CEILING_SHARE = 0.7
# Other work on the host: this share of all cores busy just before the phase, or this much steal.
HOST_BUSY_PERCENT = 25.0
HOST_STEAL_PERCENT = 10.0
# Open loop: delivering less than this share of the offered rate means the target saturated.
DELIVERED_SHARE = 0.9


def summarize_distribution(values: Distribution) -> LatencySummary | None:
    """Percentiles in ms: exact (linear interpolation between order statistics), or past the
    recorder's exact limit from a histogram of 3 significant digits; ``method`` says which."""
    if values.count == 0:
        return None
    p50, p90, p95, p99 = (v / NS_PER_MS for v in values.percentiles([50, 90, 95, 99]))
    return LatencySummary(
        count=values.count,
        mean=values.mean / NS_PER_MS,
        p50=p50,
        p90=p90,
        p95=p95,
        p99=p99,
        max=values.max / NS_PER_MS,
        method=values.method,
        p95_ci=_percentile_interval(values, 0.95),
        p99_ci=_percentile_interval(values, 0.99),
    )


def _percentile_interval(values: Distribution, q: float) -> Interval | None:
    """Order-statistics 95% interval of a percentile, from the exact values only."""
    if values.values is None or values.values.size == 0:
        return None
    # Imported here: scipy is slow to import and most commands never summarise a load phase.
    from modelmeter.stats.quantile import ORDER_STATISTICS, quantile_interval

    found = quantile_interval(values.values, q)
    if not found.reaches_level:
        return None
    return Interval(low=found.low / NS_PER_MS, high=found.high / NS_PER_MS, method=ORDER_STATISTICS)


def summarize_ms(values_ns: npt.ArrayLike) -> LatencySummary | None:
    """Exact percentiles of raw nanosecond values, in milliseconds."""
    return summarize_distribution(Distribution(values=np.asarray(values_ns)))


def histogram_ms(
    values_ns: npt.ArrayLike | Distribution, buckets_per_decade: int = 20
) -> list[tuple[float, int]]:
    """Log-spaced buckets (upper bound in ms, count), for the latency distribution chart."""
    if isinstance(values_ns, Distribution):
        values, weights = values_ns.weighted()
    else:
        values, weights = np.asarray(values_ns, dtype=np.float64), None
    if values.size == 0:
        return []
    ms = np.maximum(values / NS_PER_MS, 1e-3)
    low = np.floor(np.log10(ms.min()) * buckets_per_decade) / buckets_per_decade
    high = np.ceil(np.log10(ms.max()) * buckets_per_decade) / buckets_per_decade
    edges = 10 ** np.arange(low, high + 1e-9 + 1 / buckets_per_decade, 1 / buckets_per_decade)
    counts, edges = np.histogram(ms, bins=edges, weights=weights)
    return [(round(float(up), 6), int(c)) for up, c in zip(edges[1:], counts, strict=True) if c]


def summarize_llm(
    measured: MeasuredStats | Iterable[Outcome], duration_s: float
) -> LlmLoadMetrics | None:
    """TTFT, ITL, TPOT and output tokens/s of successful requests; None for non-LLM targets."""
    stats = measured if isinstance(measured, MeasuredStats) else measured_stats(measured)
    if not stats.streamed:
        return None
    tokens = stats.output_tokens_sum
    return LlmLoadMetrics(
        ttft_ms=summarize_distribution(stats.ttft_ns),
        time_to_first_reasoning_ms=summarize_distribution(stats.reasoning_ns),
        itl_ms=summarize_distribution(stats.itl_ns),
        tpot_ms=summarize_distribution(stats.tpot_ns),
        output_tokens=tokens,
        output_tokens_per_s=tokens / duration_s if duration_s > 0 else None,
        token_source=stats.token_source,
    )


@dataclass(frozen=True)
class PhaseSummary:
    load: LoadResult
    response_time_ms: LatencySummary | None
    throughput_rps: float | None
    measured: MeasuredStats


def _error_details(
    outcomes: OutcomeRecorder | Iterable[Outcome],
) -> tuple[dict[str, int], dict[str, str]]:
    """Failed measured requests by kind and HTTP status, and the first message of each."""
    if isinstance(outcomes, OutcomeRecorder):
        return dict(outcomes.error_counts), dict(outcomes.error_samples)
    counts: dict[str, int] = {}
    samples: dict[str, str] = {}
    for o in outcomes:
        if o.error is None or o.warmup or o.cooldown:
            continue
        key = error_key(o.error, o.error_detail)
        counts[key] = counts.get(key, 0) + 1
        samples.setdefault(key, o.error_detail or "")
    return counts, samples


def _host_busy(host: HostReading | None) -> str:
    if host is None:
        return ""
    parts = []
    if host.busy_before_percent is not None and host.busy_before_percent >= HOST_BUSY_PERCENT:
        parts.append(
            f"other processes kept {host.busy_before_percent:.0f}% of the {host.cores} cores busy "
            "just before the phase"
        )
    if host.steal_percent is not None and host.steal_percent >= HOST_STEAL_PERCENT:
        parts.append(f"the hypervisor took {host.steal_percent:.0f}% of the CPU time (steal)")
    if not parts:
        return ""
    load = f" (load average {host.load_average:.1f})" if host.load_average is not None else ""
    return (
        "Host busy: " + " and ".join(parts) + load + ", so latency and throughput are slower "
        "than on a quiet host."
    )


def summarize_phase(
    outcomes: OutcomeRecorder | Iterable[Outcome],
    plan: LoadPlan,
    client_cpu_percent: float | None = None,
    client_ceiling_rps: float | None = None,
    host: HostReading | None = None,
) -> PhaseSummary:
    """Statistics over the measured window: requests intended after the warm-up and before the
    cool-down, and what set the pace (the verdict).

    The window runs from the first measured request's intended send time to the last answer;
    throughput counts successful answers only. Percentiles are over successful answers (exact,
    or from a histogram for very long runs); errors are counted by kind. Pass
    ``client_cpu_percent`` None for an in-process target (the model runs on the generator's
    CPU) and ``client_ceiling_rps`` None where the HTTP calibration does not apply.
    """
    if not isinstance(outcomes, OutcomeRecorder):
        outcomes = list(outcomes)  # read twice below
    by_status, samples = _error_details(outcomes)
    stats = measured_stats(outcomes)
    duration_s = stats.duration_s
    service_summary = summarize_distribution(stats.service_ns)
    lag_summary = summarize_distribution(stats.lag_ns)
    reasons = []
    cpu_low = client_cpu_percent is not None and client_cpu_percent < CLIENT_BOUND_CPU_PERCENT
    lagged = ""
    if lag_summary is not None and service_summary is not None:
        threshold = max(CLIENT_BOUND_MIN_LAG_MS, CLIENT_BOUND_LAG_SHARE * service_summary.p50)
        if lag_summary.p99 > threshold:
            lagged = (
                f"schedule lag P99 {lag_summary.p99:.2f} ms passed the "
                f"{threshold:.2f} ms threshold."
            )
            # With the generator mostly idle, late sends waited for the target (its
            # connections were all busy): saturation, not a slow client.
            if not cpu_low:
                reasons.append(lagged)
    if client_cpu_percent is not None and client_cpu_percent >= CLIENT_BOUND_CPU_PERCENT:
        reasons.append(
            f"the load generator used {client_cpu_percent:.0f}% of a CPU core (threshold "
            f"{CLIENT_BOUND_CPU_PERCENT:.0f}%), so it may have been the bottleneck."
        )
    throughput = stats.completed / duration_s if duration_s > 0 else None
    if client_ceiling_rps and throughput and throughput >= NEAR_CEILING_SHARE * client_ceiling_rps:
        reasons.append(
            f"{throughput:,.0f} req/s is {throughput / client_ceiling_rps:.0%} of this host's "
            f"calibrated load-generation ceiling ({client_ceiling_rps:,.0f} req/s)."
        )
    offered = plan.rate_rps if plan.mode != "concurrency" else None
    busy = _host_busy(host)
    verdict, diagnosis = "ok", ""
    if busy:
        verdict, diagnosis = "host busy", busy
    elif reasons:
        verdict = "client-bound"
        diagnosis = "Client-bound: " + " ".join(reasons)
    elif offered and throughput is not None and throughput < DELIVERED_SHARE * offered:
        cpu = (
            f", with the load generator at {client_cpu_percent:.0f}% of a core"
            if client_cpu_percent is not None
            else ""
        )
        verdict = "target saturated"
        diagnosis = (
            f"Target saturated at {throughput:,.1f} of {offered:,.1f} req/s offered{cpu}: the "
            "target, not the client, set the pace."
        )
    load = LoadResult(
        mode=plan.mode,
        concurrency=plan.concurrency if plan.mode == "concurrency" else None,
        rate_rps=plan.rate_rps if plan.mode != "concurrency" else None,
        duration_s=duration_s,
        requests=stats.requests,
        completed=stats.completed,
        errors=stats.errors,
        errors_by_status=by_status,
        error_samples=samples,
        error_rate=(stats.requests - stats.completed) / stats.requests if stats.requests else 0.0,
        latency_histogram_ms=histogram_ms(stats.response_ns),
        service_time_ms=service_summary,
        schedule_lag_ms=lag_summary,
        client_cpu_percent=client_cpu_percent,
        client_bound=bool(reasons),
        client_bound_reason=" ".join(r[0].upper() + r[1:] for r in reasons),
        offered_rps=offered,
        host_busy_before_percent=host.busy_before_percent if host is not None else None,
        host_steal_percent=host.steal_percent if host is not None else None,
        host_load_average=host.load_average if host is not None else None,
        verdict=verdict,
        diagnosis=diagnosis,
        llm=summarize_llm(stats, duration_s),
    )
    return PhaseSummary(
        load=load,
        response_time_ms=summarize_distribution(stats.response_ns),
        throughput_rps=throughput,
        measured=stats,
    )
