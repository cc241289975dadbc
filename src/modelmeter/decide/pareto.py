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

from modelmeter._figures import finite_or_none
from modelmeter.decide._facts import check_names_and_currency, cost_of, p95_of, quality_of
from modelmeter.economics import ensure_single_currency
from modelmeter.results import ModelResult
from modelmeter.spec.objectives import QualityMetric

__all__ = ["ParetoPoint", "dominated_by", "dominates", "pareto_front", "pareto_points"]

_WORST = float("inf")
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
        """The three criteria as "lower is better", missing or non-finite as the worst."""
        quality = finite_or_none(self.quality)
        p95 = finite_or_none(self.p95_ms)
        cost = self.cost if self.cost is not None and self.cost.is_finite() else _WORST_COST
        return (
            -quality if quality is not None else _WORST,
            p95 if p95 is not None else _WORST,
            cost,
        )


def dominates(a: ParetoPoint, b: ParetoPoint) -> bool:
    """True when ``a`` is at least as good as ``b`` on every criterion and better on one."""
    (qa, la, ca), (qb, lb, cb) = a._key(), b._key()
    no_worse = qa <= qb and la <= lb and ca <= cb
    return no_worse and (qa < qb or la < lb or ca < cb)


def _as_points(
    items: Sequence[ParetoPoint | ModelResult], quality_metric: QualityMetric
) -> list[ParetoPoint]:
    models = [item for item in items if isinstance(item, ModelResult)]
    check_names_and_currency(models)
    points = [
        item if isinstance(item, ParetoPoint) else _point(item, quality_metric) for item in items
    ]
    names = [point.name for point in points]
    if len(set(names)) != len(names):
        raise ValueError("point names must be unique")
    ensure_single_currency({p.name: p.currency for p in points if p.cost is not None})
    return points


def dominated_by(
    points: Sequence[ParetoPoint | ModelResult], quality_metric: QualityMetric = "f1_macro"
) -> dict[str, list[str]]:
    """For every point, the names of the points that dominate it (empty on the frontier).

    Model results are read as by :func:`pareto_points` with ``quality_metric``.
    """
    checked = _as_points(points, quality_metric)
    return {
        point.name: [other.name for other in checked if dominates(other, point)]
        for point in checked
    }


def pareto_front(
    points: Sequence[ParetoPoint | ModelResult], quality_metric: QualityMetric = "f1_macro"
) -> list[str]:
    """Names of the non-dominated points (or model results), in input order.

    Pass the objectives' ``quality_metric`` with model results so that the frontier and the
    ranking judge quality alike. Raises :class:`~modelmeter.economics.CurrencyMismatchError`
    when costs are in more than one currency, and ``ValueError`` for duplicate names.
    """
    return [
        name for name, dominators in dominated_by(points, quality_metric).items() if not dominators
    ]


def _point(model: ModelResult, quality_metric: QualityMetric) -> ParetoPoint:
    return ParetoPoint(
        name=model.name,
        quality=quality_of(model, quality_metric),
        p95_ms=p95_of(model),
        cost=cost_of(model),
        currency=model.cost.currency,
    )


def pareto_points(
    models: Sequence[ModelResult], quality_metric: QualityMetric = "f1_macro"
) -> list[ParetoPoint]:
    """The points of ``models``: ``quality_metric``, response-time P95 and cost per 1,000."""
    check_names_and_currency(models)
    return [_point(model, quality_metric) for model in models]
