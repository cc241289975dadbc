"""When two models' figures differ by no more than the measurement can tell.

Quality: the paired test of the run (Holm-adjusted over all its pairs) where the two models were
graded on the same items; otherwise their confidence intervals overlap; without intervals, only
equal figures are the same. P95: the order-statistics intervals of the two P95s overlap; without
intervals, only equal figures. Cost carries no interval (it is a price divided by a measured
throughput, or a price times counted tokens), so costs are the same only when equal.

The decision never lets a difference these relations call noise decide (docs/decisions.md), and
it words pairs with the same relation the paired-test section shows, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from modelmeter.decide._facts import cost_of, p95_of, quality_interval, quality_of
from modelmeter.results import Interval, ModelResult, PairComparison
from modelmeter.stats.pairwise import format_p_value

__all__ = ["Figures", "Noise", "figures_of"]


@dataclass(frozen=True, slots=True)
class Figures:
    """What the rules read of one model."""

    name: str
    position: int
    quality: float | None
    quality_ci: Interval | None
    p95_ms: float | None
    p95_ci: Interval | None
    cost: Decimal | None
    """Cost on the objectives' basis (per 1,000 requests, or per correct answer)."""
    cost_per_1000: Decimal | None
    """Cost per 1,000 requests, which balanced subtracts from the value of the answers."""


def figures_of(model: ModelResult, position: int, metric: str, cost_metric: str) -> Figures:
    latency = model.latency_ms
    return Figures(
        name=model.name,
        position=position,
        quality=quality_of(model, metric),
        quality_ci=quality_interval(model, metric),
        p95_ms=p95_of(model),
        p95_ci=latency.p95_ci if latency is not None else None,
        cost=cost_of(model, cost_metric),
        cost_per_1000=cost_of(model),
    )


def _overlap(a: Interval, b: Interval) -> bool:
    return a.low <= b.high and b.low <= a.high


class Noise:
    """The "same within noise" relations on quality and P95 (see the module docstring)."""

    def __init__(self, comparisons: Iterable[PairComparison] = ()) -> None:
        self._pairs = {frozenset((c.a, c.b)): c for c in comparisons}

    def paired(self, a: str, b: str) -> PairComparison | None:
        return self._pairs.get(frozenset((a, b)))

    def same_quality(self, a: Figures, b: Figures) -> bool:
        if a.name == b.name:
            return True
        pair = self.paired(a.name, b.name)
        if pair is not None:
            return not pair.distinguishable
        if a.quality_ci is not None and b.quality_ci is not None:
            return _overlap(a.quality_ci, b.quality_ci)
        return a.quality == b.quality

    def quality_evidence(self, a: Figures, b: Figures) -> str:
        """Why ``a`` and ``b`` are (or are not) the same on quality, in a few words."""
        pair = self.paired(a.name, b.name)
        if pair is not None:
            p = format_p_value(pair.p_adjusted, 1.0 - pair.interval.level)
            p = f"p {p}" if p.startswith("<") else f"p = {p}"
            verdict = "not significant" if not pair.distinguishable else "significant"
            return f"paired test {verdict}, Holm {p}"
        if a.quality_ci is not None and b.quality_ci is not None:
            overlap = _overlap(a.quality_ci, b.quality_ci)
            return "intervals overlap" if overlap else "intervals do not overlap"
        return "equal figures" if a.quality == b.quality else "no interval to test"

    def same_p95(self, a: Figures, b: Figures) -> bool:
        if a.name == b.name:
            return True
        if a.p95_ci is not None and b.p95_ci is not None:
            return _overlap(a.p95_ci, b.p95_ci)
        return a.p95_ms == b.p95_ms
