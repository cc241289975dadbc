"""Service-level objectives read from a spec's SLA, as the SRE Workbook states them: a share of
events allowed to be bad (the error budget) over a rolling window.

* ``max_error_rate: 0.01`` → *availability*: at most 1% of requests fail (5xx).
* ``p95_ms: 300`` → *latency_p95*: at most 5% of requests take longer than 300 ms; ``p99_ms``
  the same with 1%; ``ttft_p95_ms`` on the time to first chunk.

A latency objective is counted from a histogram: requests faster than the threshold are the
bucket ``le=threshold``. That needs the threshold to be a bucket boundary; when it is not, the
largest boundary below it is used (stricter: more requests count as slow, so an alert can fire
early, never late), and the objective says so in ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelmeter.monitor.sources import Source
from modelmeter.spec.objectives import Sla

__all__ = ["MONTH_S", "Slo", "budget_slo", "slos_from_sla", "unwatched"]

MONTH_S = 30 * 86_400  # the budget's month, as the SRE Workbook's 30-day error budget


@dataclass(frozen=True)
class Slo:
    name: str  # availability, latency_p95, latency_p99, ttft_p95
    budget: float  # share of requests allowed to be bad
    description: str
    histogram: str | None = None  # latency objectives: the histogram's base name
    threshold_s: float | None = None  # the boundary used (a bucket's le)
    asked_s: float | None = None  # what the SLA asked, when no boundary matched it
    note: str = ""
    spend_per_s: float | None = None  # a spend objective: the budget's even rate, per second
    currency: str = ""


def slos_from_sla(sla: Sla, source: Source) -> list[Slo]:
    """The objectives ``sla`` sets that ``source`` exports the metrics for; ValueError names
    a limit that cannot be watched (ttft on a source without a first-chunk histogram, a
    threshold below every bucket)."""
    slos = []
    if sla.max_error_rate is not None and sla.max_error_rate > 0:
        slos.append(
            Slo(
                "availability",
                sla.max_error_rate,
                f"at most {sla.max_error_rate:.2%} of requests fail (5xx)",
            )
        )
    histograms = source.histograms()
    latency = [
        ("latency_p95", sla.p95_ms, 0.05, "latency"),
        ("latency_p99", sla.p99_ms, 0.01, "latency"),
        ("ttft_p95", sla.ttft_p95_ms, 0.05, "ttft"),
        ("itl_p95", sla.itl_p95_ms, 0.05, "itl"),
    ]
    for name, limit_ms, budget, kind in latency:
        if limit_ms is None or (kind == "itl" and kind not in histograms):
            continue  # an inter-token limit a source cannot count: named by unwatched()
        if kind not in histograms:
            raise ValueError(
                f"the SLA's {name.replace('_', ' ')} limit needs a time-to-first-chunk histogram, "
                f"which {source.name} does not export"
            )
        histogram, boundaries = histograms[kind]
        asked = limit_ms / 1000
        below = [b for b in boundaries if b <= asked * (1 + 1e-9)]
        if not below:
            raise ValueError(
                f"{name}: {limit_ms} ms is below {source.name}'s smallest bucket "
                f"({boundaries[0] * 1000:g} ms)"
            )
        used = below[-1]
        note = ""
        if abs(used - asked) > asked * 1e-9:
            note = (
                f"{limit_ms:g} ms is not a bucket boundary of {histogram}; counted against "
                f"{used * 1000:g} ms, the largest one below (stricter)"
            )
        what = {
            "ttft": "time to first chunk",
            "itl": "time per output token (a request's mean gap)",
        }.get(kind, "response time")
        slos.append(
            Slo(
                name,
                budget,
                f"at most {budget:.0%} of requests have a {what} over {limit_ms:g} ms",
                histogram,
                used,
                asked if note else None,
                note,
            )
        )
    return slos


def budget_slo(monthly: float, currency: str, source: Source) -> Slo:
    """The monthly budget as an objective: spend at most ``monthly`` in 30 days, read as a
    burn rate (the spend rate over the budget's even rate), alerted on like the others: a
    page when 2% of the month's budget goes in an hour, a ticket when it runs over steadily.
    ValueError when ``source`` exports no spend."""
    if source.spend is None:
        raise ValueError(f"{source.name} exports no spend counter (the gateway does)")
    return Slo(
        "spend",
        1.0,  # the burn rate is the share: 1 spends exactly the budget in 30 days
        f"spend at most {monthly:g} {currency} in 30 days",
        spend_per_s=monthly / MONTH_S,
        currency=currency,
    )


def unwatched(sla: Sla, source: Source | None = None) -> list[str]:
    """The SLA's limits these rules do not watch on ``source``, each with why."""
    reasons = {
        "itl_p95_ms": f"{source.name if source else 'this source'} exports no time per output "
        "token (simulate does)",
        "min_quality": "quality needs labelled answers, not request metrics",
        "max_cost_per_1000": "cost is the gateway's budgets' job (docs/gateway.md)",
    }
    if source is not None and source.per_token is not None:
        del reasons["itl_p95_ms"]
    return [
        f"{name}: not watched ({why})"
        for name, why in reasons.items()
        if getattr(sla, name) is not None
    ]
