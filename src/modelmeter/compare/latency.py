"""The latency check of the regression gate: a rise fails only when it is real and large.

Two runs' latency samples are not paired, and a P95 moves with the machine as well as the
model; see :data:`LATENCY_RULE` and docs/compare.md.
"""

from __future__ import annotations

from modelmeter.compare.model import Check, LatencyComparison
from modelmeter.results import Interval, ModelResult

__all__ = ["LATENCY_RULE", "latency_check", "latency_comparison", "unpaced", "unpaced_runs"]

LATENCY_RULE = (
    "Latency has no paired test (two runs' requests are different requests at different "
    "moments): a P95 increase fails only when the two P95 intervals do not overlap and the "
    "rise exceeds the latency tolerance; beyond the tolerance but inside the intervals it is a "
    "warning; a phase the target did not pace alone (host busy, client-bound, saturated) makes "
    "the check inconclusive."
)


def unpaced_runs(baseline: ModelResult, new: ModelResult) -> str:
    """Which run's load phase the target did not pace alone, and why; empty when both did."""
    return "; ".join(
        f"{run} ({text})"
        for run, text in (("BASELINE", unpaced(baseline)), ("NEW", unpaced(new)))
        if text
    )


def unpaced(model: ModelResult) -> str:
    """Why ``model``'s load phase was not paced by the target alone, or empty."""
    load = model.load
    if load is None or load.verdict == "ok":
        return ""
    return load.diagnosis or load.verdict


def latency_comparison(
    baseline: ModelResult, new: ModelResult, tolerance: float, sla_limit: float | None
) -> LatencyComparison | None:
    """The P95 of ``baseline`` and ``new`` side by side, None when either has none."""
    base, cand = baseline.latency_ms, new.latency_ms
    if base is None or cand is None:
        return None
    relative = cand.p95 / base.p95 - 1.0 if base.p95 > 0 else None
    beyond = cand.p95 > base.p95 if relative is None else relative > tolerance
    # Real: NEW's interval lies wholly above BASELINE's; without intervals, the point figures.
    if base.p95_ci is not None and cand.p95_ci is not None:
        real = cand.p95_ci.low > base.p95_ci.high
    else:
        real = cand.p95 > base.p95
    reasons = unpaced_runs(baseline, new)
    return LatencyComparison(
        baseline_p95_ms=base.p95,
        new_p95_ms=cand.p95,
        relative_change=relative,
        tolerance=tolerance,
        sla_p95_ms=sla_limit,
        beyond_tolerance=beyond,
        breaks_sla=sla_limit is not None and cand.p95 > sla_limit,
        baseline_p95_ci=base.p95_ci,
        new_p95_ci=cand.p95_ci,
        real=real,
        inconclusive=reasons,
    )


def _interval(ci: Interval | None) -> str:
    return "" if ci is None else f" [{ci.low:,.1f}–{ci.high:,.1f}]"


def latency_check(latency: LatencyComparison | None) -> Check:
    """The latency verdict: inconclusive, pass, warn (not established) or fail (real)."""
    if latency is None:
        return Check(
            name="latency",
            status="skip",
            message="no load phase in one of the runs, so there is no P95 to compare",
        )
    change = f"{latency.relative_change:+.1%}" if latency.relative_change is not None else "from 0"
    figures = (
        f"P95 {latency.baseline_p95_ms:,.1f}{_interval(latency.baseline_p95_ci)} ms → "
        f"{latency.new_p95_ms:,.1f}{_interval(latency.new_p95_ci)} ms ({change})"
    )
    allowed = f"the {latency.tolerance:.0%} latency tolerance"
    if latency.inconclusive:
        return Check(
            name="latency",
            status="skip",
            message=f"inconclusive: {figures}, but the target did not pace a load phase alone: "
            f"{latency.inconclusive}",
        )
    if not latency.beyond_tolerance:
        return Check(name="latency", status="pass", message=f"{figures}, within {allowed}")
    if not latency.real:
        return Check(
            name="latency",
            status="warn",
            message=f"{figures}, beyond {allowed} but inside the two runs' P95 intervals, so "
            "the rise is not established",
        )
    sla = ""
    if latency.breaks_sla and latency.sla_p95_ms is not None:
        sla = f", and above the SLA's P95 limit of {latency.sla_p95_ms:,.1f} ms"
    return Check(
        name="latency",
        status="fail",
        message=f"regression: {figures}, beyond {allowed} and above BASELINE's P95 interval{sla}",
    )
