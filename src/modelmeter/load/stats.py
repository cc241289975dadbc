"""Summaries of a load phase: percentiles, histogram buckets, throughput and errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import NS_PER_S, LoadPlan
from modelmeter.report.model import LatencySummary, LlmLoadMetrics, LoadResult

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


def summarize_ms(values_ns: np.ndarray) -> LatencySummary | None:
    """Exact percentiles (linear interpolation between order statistics), in milliseconds."""
    if values_ns.size == 0:
        return None
    ms = values_ns.astype(np.float64) / NS_PER_MS
    p50, p90, p95, p99 = np.percentile(ms, [50, 90, 95, 99])
    return LatencySummary(
        count=int(ms.size),
        mean=float(ms.mean()),
        p50=float(p50),
        p90=float(p90),
        p95=float(p95),
        p99=float(p99),
        max=float(ms.max()),
        method="exact",
    )


def histogram_ms(values_ns: np.ndarray, buckets_per_decade: int = 20) -> list[tuple[float, int]]:
    """Log-spaced buckets (upper bound in ms, count), for the latency distribution chart."""
    if values_ns.size == 0:
        return []
    ms = np.maximum(values_ns.astype(np.float64) / NS_PER_MS, 1e-3)
    low = np.floor(np.log10(ms.min()) * buckets_per_decade) / buckets_per_decade
    high = np.ceil(np.log10(ms.max()) * buckets_per_decade) / buckets_per_decade
    edges = 10 ** np.arange(low, high + 1e-9 + 1 / buckets_per_decade, 1 / buckets_per_decade)
    counts, edges = np.histogram(ms, bins=edges)
    return [(round(float(up), 6), int(c)) for up, c in zip(edges[1:], counts, strict=True) if c]


def _ns(values: list[int] | list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def summarize_llm(ok: Sequence[Outcome], duration_s: float) -> LlmLoadMetrics | None:
    """TTFT, ITL, TPOT and output tokens/s of successful requests; None for non-LLM targets."""
    if not any(o.first_token_at is not None or o.token_source is not None for o in ok):
        return None
    ttft = [o.first_token_at - o.sent_at for o in ok if o.first_token_at is not None]
    reasoning = [o.first_reasoning_at - o.sent_at for o in ok if o.first_reasoning_at is not None]
    gaps = [gap for o in ok for gap in o.token_gaps_ns]
    tpot = [t for o in ok if (t := o.tpot_ns) is not None]
    tokens = sum(o.output_tokens or 0 for o in ok)
    return LlmLoadMetrics(
        ttft_ms=summarize_ms(_ns(ttft)),
        time_to_first_reasoning_ms=summarize_ms(_ns(reasoning)),
        itl_ms=summarize_ms(_ns(gaps)),
        tpot_ms=summarize_ms(_ns(tpot)),
        output_tokens=tokens,
        output_tokens_per_s=tokens / duration_s if duration_s > 0 else None,
        token_source=dict(Counter(o.token_source for o in ok if o.token_source is not None)),
    )


@dataclass(frozen=True)
class PhaseSummary:
    load: LoadResult
    response_time_ms: LatencySummary | None
    throughput_rps: float | None


def summarize_phase(
    outcomes: Sequence[Outcome],
    plan: LoadPlan,
    client_cpu_percent: float | None = None,
    client_ceiling_rps: float | None = None,
) -> PhaseSummary:
    """Statistics over the measured window: requests intended after the warm-up.

    The window runs from the first measured request's intended send time (the end of the
    warm-up) to the last answer; throughput counts successful answers only. Percentiles are
    over successful answers; errors are counted by kind.
    """
    measured = [o for o in outcomes if o.measured]
    ok = [o for o in measured if o.ok]
    errors = Counter(str(o.error) for o in measured if not o.ok)
    duration_s = 0.0
    if measured:
        window_start = min(o.intended_at for o in measured)
        window_end = max(o.done_at for o in measured)
        duration_s = (window_end - window_start) / NS_PER_S
    response = np.fromiter((o.done_at - o.intended_at for o in ok), dtype=np.int64, count=len(ok))
    service = np.fromiter((o.done_at - o.sent_at for o in ok), dtype=np.int64, count=len(ok))
    lag = np.fromiter(
        (o.sent_at - o.intended_at for o in measured), dtype=np.int64, count=len(measured)
    )
    service_summary = summarize_ms(service)
    lag_summary = summarize_ms(lag)
    reasons = []
    if lag_summary is not None and service_summary is not None:
        threshold = max(CLIENT_BOUND_MIN_LAG_MS, CLIENT_BOUND_LAG_SHARE * service_summary.p50)
        if lag_summary.p99 > threshold:
            reasons.append(
                f"schedule lag P99 {lag_summary.p99:.2f} ms passed the "
                f"{threshold:.2f} ms threshold."
            )
    if client_cpu_percent is not None and client_cpu_percent >= CLIENT_BOUND_CPU_PERCENT:
        reasons.append(
            f"the load generator used {client_cpu_percent:.0f}% of a CPU core (threshold "
            f"{CLIENT_BOUND_CPU_PERCENT:.0f}%), so it may have been the bottleneck."
        )
    throughput = len(ok) / duration_s if duration_s > 0 else None
    if client_ceiling_rps and throughput and throughput >= NEAR_CEILING_SHARE * client_ceiling_rps:
        reasons.append(
            f"{throughput:,.0f} req/s is {throughput / client_ceiling_rps:.0%} of this host's "
            f"calibrated load-generation ceiling ({client_ceiling_rps:,.0f} req/s)."
        )
    load = LoadResult(
        mode=plan.mode,
        concurrency=plan.concurrency if plan.mode == "concurrency" else None,
        rate_rps=plan.rate_rps if plan.mode != "concurrency" else None,
        duration_s=duration_s,
        requests=len(measured),
        completed=len(ok),
        errors=dict(errors),
        error_rate=(len(measured) - len(ok)) / len(measured) if measured else 0.0,
        latency_histogram_ms=histogram_ms(response),
        service_time_ms=service_summary,
        schedule_lag_ms=lag_summary,
        client_cpu_percent=client_cpu_percent,
        client_bound=bool(reasons),
        client_bound_reason=" ".join(r[0].upper() + r[1:] for r in reasons),
        llm=summarize_llm(ok, duration_s),
    )
    return PhaseSummary(
        load=load, response_time_ms=summarize_ms(response), throughput_rps=throughput
    )
