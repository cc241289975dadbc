"""The Pareto frontier over quality, P95 and cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmeter.decide import ParetoPoint, dominated_by, dominates, pareto_front, pareto_points
from modelmeter.economics import CurrencyMismatchError
from modelmeter.results import CostResult, LatencySummary, ModelResult, QualityResult, SlaCheck


def _point(name: str, quality: float | None, p95: float | None, cost: str | None) -> ParetoPoint:
    return ParetoPoint(name, quality, p95, None if cost is None else Decimal(cost), "EUR")


REFERENCE = [
    _point("optimised", 0.88, 85, "0.12"),
    _point("base", 0.81, 120, "0.22"),
    _point("distilled", 0.84, 60, "0.08"),
]


def test_reference_scenario() -> None:
    assert pareto_front(REFERENCE) == ["optimised", "distilled"]
    assert dominated_by(REFERENCE) == {
        "optimised": [],
        "base": ["optimised", "distilled"],
        "distilled": [],
    }


def test_dominance_needs_one_strict_improvement() -> None:
    a = _point("a", 0.9, 50, "0.1")
    assert not dominates(a, _point("twin", 0.9, 50, "0.1"))
    assert dominates(a, _point("slower", 0.9, 51, "0.1"))
    assert not dominates(a, _point("better-elsewhere", 0.8, 50, "0.09"))


def test_identical_points_stay_on_the_front() -> None:
    points = [_point("a", 0.9, 50, "0.1"), _point("b", 0.9, 50, "0.1")]
    assert pareto_front(points) == ["a", "b"]


def test_a_missing_value_counts_as_the_worst() -> None:
    # Same quality and latency; the one without a cost cannot beat the one with a cost.
    points = [_point("priced", 0.9, 50, "5"), _point("unpriced", 0.9, 50, None)]
    assert pareto_front(points) == ["priced"]
    # But missing cost does not remove a model that is best at something else.
    points = [_point("priced", 0.8, 50, "5"), _point("unpriced", 0.9, 50, None)]
    assert pareto_front(points) == ["priced", "unpriced"]
    # NaN is missing too.
    points = [_point("measured", 0.9, 50, "1"), _point("nan", 0.9, float("nan"), "1")]
    assert pareto_front(points) == ["measured"]


def test_a_criterion_missing_everywhere_is_ignored() -> None:
    points = [_point("a", 0.9, 80, None), _point("b", 0.8, 60, None), _point("c", 0.7, 90, None)]
    assert pareto_front(points) == ["a", "b"]


def test_costs_in_two_currencies_are_not_compared() -> None:
    points = [
        ParetoPoint("a", 0.9, 50, Decimal("0.1"), "EUR"),
        ParetoPoint("b", 0.9, 50, Decimal("0.1"), "USD"),
    ]
    with pytest.raises(CurrencyMismatchError, match="EUR: a; USD: b"):
        pareto_front(points)


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        pareto_front([_point("a", 0.9, 50, "1"), _point("a", 0.8, 40, "1")])


def test_points_from_models() -> None:
    quality = QualityResult(
        n=10,
        accuracy=0.7,
        precision_macro=0.6,
        recall_macro=0.6,
        f1_macro=0.6,
        precision_weighted=0.65,
        recall_weighted=0.65,
        f1_weighted=0.65,
    )
    model = ModelResult(
        name="m",
        target_kind="python",
        quality=quality,
        latency_ms=LatencySummary(count=1, mean=1, p50=1, p90=2, p95=3, p99=4, max=5),
        throughput_rps=10.0,
        load=None,
        cost=CostResult(
            currency="USD", per_1000_requests=Decimal("0.5"), basis="api", explanation="-"
        ),
        sla=SlaCheck(met=True),
    )
    expected = ParetoPoint("m", 0.7, 3.0, Decimal("0.5"), "USD")
    assert pareto_points([model], "accuracy") == [expected]
    assert pareto_points([model])[0].quality == 0.6
    # Model results can go to the frontier directly, judged on the given quality metric.
    other = model.model_copy(
        update={
            "name": "other",
            "quality": quality.model_copy(update={"accuracy": 0.8, "f1_macro": 0.5}),
        }
    )
    assert pareto_front([model, other]) == ["m"]
    assert pareto_front([model, other], "accuracy") == ["other"]


VALUE = st.one_of(st.none(), st.integers(0, 4).map(float))


@given(st.lists(st.tuples(VALUE, VALUE, st.one_of(st.none(), st.integers(0, 4))), max_size=8))
def test_front_properties(raw: list[tuple[float | None, float | None, int | None]]) -> None:
    points = [
        ParetoPoint(f"m{i}", q, p, None if c is None else Decimal(c), "EUR")
        for i, (q, p, c) in enumerate(raw)
    ]
    front = pareto_front(points)
    assert bool(front) == bool(points)  # a finite non-empty set always has a frontier
    for point in points:
        beaten = any(dominates(other, point) for other in points)
        assert (point.name in front) is not beaten
        if beaten:  # dominance is transitive, so some frontier member dominates it
            assert any(dominates(other, point) for other in points if other.name in front)
