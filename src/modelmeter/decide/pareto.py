"""The Pareto frontier over quality (higher is better), P95 latency and cost (lower is better).

A model is dominated when another is at least as good on all three criteria and strictly better
on at least one; the frontier is the models no other model dominates. Identical models do not
dominate each other, so both stay on it.

Missing values: a criterion a model has no figure for (no quality, no latency, no cost, or a
non-finite value) counts as the worst possible value on that criterion. A missing figure can
therefore never put a model on the frontier, but a model can still be on it by being best at
something else. When no model has a figure for a criterion, they all tie on it, which is the
same as leaving that criterion out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from modelmeter.decide._facts import check_names_and_currency, cost_of, p95_of, quality_of
from modelmeter.decide.objectives import QualityMetric
from modelmeter.economics import ensure_single_currency
from modelmeter.report.model import ModelResult

__all__ = ["ParetoPoint", "dominated_by", "dominates", "pareto_front", "pareto_points"]

_WORST_COST = Decimal("Infinity")


@dataclass(frozen=True, slots=True)
class ParetoPoint:
    """One model's position: quality ↑, P95 in ms ↓, cost per 1,000 requests ↓ (in currency)."""

    name: str
    quality: float | None
    p95_ms: float | None
    cost: Decimal | None
    currency: str = ""

    def _key(self) -> tuple[float, float, Decimal]:
        quality = -self.quality if self.quality is not None else float("inf")
        p95 = self.p95_ms if self.p95_ms is not None else float("inf")
        cost = self.cost if self.cost is not None and self.cost.is_finite() else _WORST_COST
        # All three "lower is better" after negating quality; NaN never gets here (see below).
        return quality, p95, cost


def _clean(point: ParetoPoint) -> ParetoPoint:
    def finite(value: float | None) -> float | None:
        return None if value is None or value != value or abs(value) == float("inf") else value

    return ParetoPoint(
        point.name, finite(point.quality), finite(point.p95_ms), point.cost, point.currency
    )


def dominates(a: ParetoPoint, b: ParetoPoint) -> bool:
    """True when ``a`` is at least as good as ``b`` on every criterion and better on one."""
    key_a, key_b = _clean(a)._key(), _clean(b)._key()
    no_worse = all(x <= y for x, y in zip(key_a, key_b, strict=True))
    return no_worse and any(x < y for x, y in zip(key_a, key_b, strict=True))


def _check(points: Sequence[ParetoPoint]) -> None:
    names = [point.name for point in points]
    if len(set(names)) != len(names):
        raise ValueError("point names must be unique")
    ensure_single_currency({p.name: p.currency for p in points if p.cost is not None})


def dominated_by(points: Sequence[ParetoPoint]) -> dict[str, list[str]]:
    """For every point, the names of the points that dominate it (empty on the frontier)."""
    _check(points)
    return {
        point.name: [other.name for other in points if dominates(other, point)]
        for point in points
    }


def pareto_front(points: Sequence[ParetoPoint]) -> list[str]:
    """Names of the non-dominated points, in input order.

    Raises :class:`~modelmeter.economics.CurrencyMismatchError` when costs are in more than one
    currency, and ``ValueError`` for duplicate names.
    """
    return [name for name, dominators in dominated_by(points).items() if not dominators]


def pareto_points(
    models: Sequence[ModelResult], quality_metric: QualityMetric = "f1_macro"
) -> list[ParetoPoint]:
    """The points of ``models``: ``quality_metric``, response-time P95 and cost per 1,000."""
    check_names_and_currency(models)
    return [
        ParetoPoint(
            name=model.name,
            quality=quality_of(model, quality_metric),
            p95_ms=p95_of(model),
            cost=cost_of(model),
            currency=model.cost.currency,
        )
        for model in models
    ]
