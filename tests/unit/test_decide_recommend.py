"""The recommendation: every claim in its text must follow from the figures."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmeter.decide import pareto_front, pareto_points, rank, recommend
from modelmeter.economics import CurrencyMismatchError
from modelmeter.results import ModelResult, Recommendation, SlaCheck
from modelmeter.spec.objectives import PRIORITIES, Objectives, Sla
from tests.unit._decide_models import model_result


def _reference() -> list[ModelResult]:
    return [
        model_result("optimised", 0.88, 85, "0.12", interval=(0.85, 0.91)),
        model_result("base", 0.81, 120, "0.22", interval=(0.78, 0.83)),
        model_result("distilled", 0.84, 60, "0.08", interval=(0.81, 0.87)),
    ]


def _recommend(models: Sequence[ModelResult], objectives: Objectives) -> Recommendation:
    ranking = rank(models, objectives)
    front = pareto_front(models, objectives.quality_metric)
    assert front == pareto_front(pareto_points(models, objectives.quality_metric))
    return recommend(models, ranking, front, objectives)


def test_reference_scenario_choices() -> None:
    result = _recommend(_reference(), Objectives())
    assert result.by_priority == {
        "balanced": "distilled",
        "quality": "optimised",
        "latency": "distilled",
        "cost": "distilled",
    }
    assert result.chosen == "distilled"
    assert result.priority == "balanced"


def test_reference_scenario_text_gives_the_numbers() -> None:
    text = _recommend(_reference(), Objectives()).text
    assert text.startswith("For balanced use, choose distilled.")
    assert "the lowest cost per 1,000 requests (0.08 EUR vs 0.12 EUR for optimised)" in text
    assert "the lowest P95 (60 ms vs 85 ms for optimised)" in text
    assert "macro F1 0.84, 0.04 below optimised's 0.88" in text
    assert "the highest macro F1 (0.88 vs 0.84 for distilled)" in text
    assert "optimised and distilled; base is dominated by optimised and distilled" in text
    assert "optimised (0.88, 0.85–0.91) is not clearly distinguishable from distilled" in text
    assert "clearly ahead of base (0.81, 0.78–0.83)" in text
    assert "No SLA limits were set." in text


def test_a_different_cheapest_model_changes_the_conclusion() -> None:
    models = _reference()
    models[1] = model_result("base", 0.81, 120, "0.02", interval=(0.78, 0.83))
    result = _recommend(models, Objectives(priority="cost"))
    assert result.by_priority["cost"] == "base"
    assert result.chosen == "base"
    assert "the lowest cost per 1,000 requests (0.02 EUR vs 0.08 EUR for distilled)" in (
        result.text
    )
    assert result.text.startswith("For cost-first use, choose base.")
    assert "base is dominated" not in result.text  # now on the frontier


def test_cheapest_but_outweighed_is_said_plainly() -> None:
    # base is cheapest, but worst on quality and latency: cost-first weights still pick distilled
    models = _reference()
    models[1] = model_result("base", 0.81, 120, "0.05", interval=(0.78, 0.83))
    result = _recommend(models, Objectives(priority="cost"))
    assert result.chosen == "distilled"
    assert (
        "the best cost-first score (0.63 vs 0.60 for base), although base has the lowest "
        "cost per 1,000 requests (0.05 EUR vs 0.08 EUR)"
    ) in result.text


def test_a_faster_model_changes_the_latency_pick() -> None:
    models = _reference()
    models[0] = model_result("optimised", 0.88, 40, "0.12", interval=(0.85, 0.91))
    result = _recommend(models, Objectives(priority="latency"))
    assert result.chosen == "optimised"
    assert "the lowest P95 (40 ms vs 60 ms for distilled)" in result.text


def test_sla_breakers_are_named_with_the_excess() -> None:
    result = _recommend(_reference(), Objectives(sla=Sla(p95_ms=100, max_error_rate=0.01)))
    assert "base breaks the SLA: P95 120 ms > 100 ms (20 ms over)." in result.text
    breaking = [model_result("flaky", 0.95, 30, "0.01", error_rate=0.035), *_reference()]
    result = _recommend(breaking, Objectives(sla=Sla(max_error_rate=0.01)))
    assert "flaky breaks the SLA: error rate 3.5% > 1% (2.5 percentage points over)" in (
        result.text
    )
    assert "flaky" not in result.by_priority.values()
    assert result.by_priority["quality"] == "optimised"


def test_models_meeting_the_sla_are_said_to() -> None:
    text = _recommend(_reference(), Objectives(sla=Sla(p95_ms=150, min_quality=0.8))).text
    assert "Every model meets the SLA (P95 ≤ 150 ms, macro F1 ≥ 0.80)." in text


def test_separated_intervals_are_called_clear() -> None:
    models = _reference()
    models[2] = model_result("distilled", 0.80, 60, "0.08", interval=(0.77, 0.83))
    text = _recommend(models, Objectives()).text
    assert "clearly ahead of base (0.81, 0.78–0.83) and distilled (0.80, 0.77–0.83)" in text
    assert "not clearly distinguishable" not in text


def test_nobody_meets_the_sla() -> None:
    result = _recommend(_reference(), Objectives(sla=Sla(p95_ms=10)))
    assert result.chosen is None
    assert result.by_priority == dict.fromkeys(PRIORITIES)
    assert result.text.startswith("No model meets the SLA, so none is recommended.")
    for name in ("optimised", "base", "distilled"):
        assert f"{name} breaks the SLA: P95" in result.text


def test_a_single_eligible_model_is_the_pick_for_everything() -> None:
    result = _recommend(_reference(), Objectives(sla=Sla(p95_ms=70)))
    assert set(result.by_priority.values()) == {"distilled"}
    assert "distilled is the only model that meets the SLA" in result.text


def test_custom_weights() -> None:
    objectives = Objectives(weights={"quality": 2, "cost": 1})
    result = _recommend(_reference(), objectives)
    assert result.priority == "custom"
    assert result.chosen == result.by_priority["custom"] == "optimised"
    assert result.text.startswith(
        "With the custom weights (quality 0.67, latency 0.00, cost 0.33), choose optimised"
    )


def test_missing_and_optimistic_figures_are_called_out() -> None:
    models = [
        *_reference(),
        model_result("api", 0.9, None, None),
        model_result("overloaded", 0.7, 50, "0.01", within_sla=False),
    ]
    text = _recommend(models, Objectives()).text
    assert "Missing figures count as the worst value: api has no P95 and cost." in text
    assert "The cost of overloaded uses a throughput measured beyond the SLA" in text


def test_no_models() -> None:
    result = _recommend([], Objectives())
    assert result.chosen is None
    assert result.text == "No models were measured, so there is nothing to recommend."


def test_costs_in_two_currencies_are_refused() -> None:
    models = [model_result("eu", 0.9, 50, "1"), model_result("us", 0.8, 40, "1", currency="USD")]
    with pytest.raises(CurrencyMismatchError):
        recommend(models, [], [], Objectives())


def test_unknown_names_in_ranking_or_pareto_are_refused() -> None:
    models = _reference()
    with pytest.raises(ValueError, match="ghost"):
        recommend(models, rank(models, Objectives()), ["ghost"], Objectives())


FIGURE = st.one_of(st.none(), st.floats(0.5, 1.0))
MODELS = st.lists(
    st.tuples(
        FIGURE, st.one_of(st.none(), st.floats(1, 500)), st.one_of(st.none(), st.integers(1, 99))
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=100, deadline=None)
@given(MODELS, st.sampled_from(PRIORITIES), st.one_of(st.none(), st.floats(50, 400)))
def test_choices_agree_with_the_ranking_on_any_figures(
    raw: list[tuple[float | None, float | None, int | None]],
    priority: str,
    p95_limit: float | None,
) -> None:
    models = [
        model_result(f"m{i}", f1, p95, None if cost is None else f"0.{cost:02d}")
        for i, (f1, p95, cost) in enumerate(raw)
    ]
    objectives = Objectives.model_validate({"priority": priority, "sla": {"p95_ms": p95_limit}})
    ranking = rank(models, objectives)
    result = _recommend(models, objectives)
    eligible = [r.name for r in ranking if r.eligible]
    assert result.chosen == (eligible[0] if eligible else None)
    assert result.by_priority[priority] == result.chosen
    if result.chosen is not None:
        assert result.chosen in result.text


def test_a_single_model_is_not_said_to_beat_others() -> None:
    result = _recommend([_reference()[0]], Objectives())
    assert result.chosen == "optimised"
    assert "optimised is the only model measured" in result.text
    assert "frontier" not in result.text


def test_a_model_that_did_not_start_is_not_recommended() -> None:
    broken = model_result("broken", None, None, None).model_copy(
        update={"sla": SlaCheck(met=False, violations=["did not start: port in use"])}
    )
    result = _recommend([broken], Objectives())
    assert result.chosen is None
    assert "broken breaks the SLA: did not start: port in use." in result.text
