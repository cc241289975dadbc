"""The decision and its words: each priority's rule on worked examples a reviewer can redo."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from modelmeter.decide import decide, pareto_front, rank, recommend
from modelmeter.economics import CurrencyMismatchError
from modelmeter.results import (
    Decision,
    Interval,
    ModelResult,
    PairComparison,
    Recommendation,
    SlaCheck,
)
from modelmeter.spec.objectives import Objectives, Sla
from tests.unit._decide_models import model_result, paired_test


def _reference() -> list[ModelResult]:
    return [
        model_result("optimised", 0.88, 85, "0.12", interval=(0.85, 0.91)),
        model_result("base", 0.81, 120, "0.22", interval=(0.78, 0.83)),
        model_result("distilled", 0.84, 60, "0.08", interval=(0.81, 0.87)),
    ]


def _recommend(
    models: Sequence[ModelResult],
    objectives: Objectives,
    comparisons: Sequence[PairComparison] = (),
) -> tuple[Recommendation, Decision]:
    decision = decide(models, objectives, comparisons)
    front = pareto_front(models, objectives.quality_metric)
    return recommend(models, decision, front, objectives, comparisons), decision


def test_reference_scenario_every_priority_takes_distilled_and_says_why() -> None:
    # optimised and distilled overlap on F1 (0.85-0.91 vs 0.81-0.87): one quality group, so
    # quality-first takes its cheaper member; base is beaten on every criterion by both.
    result, decision = _recommend(_reference(), Objectives())
    assert result.by_priority == {
        "quality": "distilled",
        "latency": "distilled",
        "cost": "distilled",
        "balanced": "distilled",
    }
    assert decision.front == ["optimised", "distilled"]
    assert decision.dominated == {"base": ["optimised", "distilled"]}
    assert decision.top_group == ["optimised", "distilled"]
    text = result.text
    assert text.startswith("For balanced use, choose distilled. The balanced rule: ")
    # Both in the top group, so both answers count at optimised's 0.88 x 1000 x 0.01 = 8.80.
    assert "distilled (8.80 EUR of answers at the top group's quality − 0.08 EUR cost)" in text
    assert "For quality-first, latency-first and cost-first use, choose distilled too." in text
    assert "optimised and distilled; base is dominated by optimised and distilled" in text
    assert "optimised (0.88, 0.85–0.91) cannot be told apart from distilled (0.84; " in text
    assert "is ahead of base (0.81; intervals do not overlap)" in text


def test_priorities_differ_when_the_figures_do() -> None:
    # a is the best by a margin the paired tests call real; b is the fastest, c the cheapest.
    models = [
        model_result("a", 0.95, 200, "0.50", interval=(0.94, 0.96)),
        model_result("b", 0.93, 20, "0.10", interval=(0.92, 0.94)),
        model_result("c", 0.935, 40, "0.05", interval=(0.925, 0.945)),
    ]
    comparisons = [
        paired_test("a", "b", 0.01, difference=0.02),
        paired_test("a", "c", 0.01, difference=0.015),
        paired_test("b", "c", 0.6, difference=-0.005),
    ]
    decision = decide(models, Objectives(), comparisons)
    chosen = {c.priority: c.chosen for c in decision.choices}
    # Balanced at 0.01 per correct answer: a 9.50 - 0.50 = 9.00, b and c (one group at c's
    # 0.935) 9.35 - 0.10 = 9.25 and 9.35 - 0.05 = 9.30.
    assert chosen == {"quality": "a", "latency": "b", "cost": "c", "balanced": "c"}
    assert decision.acceptable == ["a", "b", "c"]  # within 0.02 of 0.95
    # Tighter tolerance: b and c are significantly and more than 0.01 below a.
    strict = decide(models, Objectives(quality_tolerance=0.01), comparisons)
    assert {c.priority: c.chosen for c in strict.choices}["latency"] == "a"
    # A correct answer worth a euro: a's lead of 0.015 is worth 15 EUR per 1,000 requests.
    dear = decide(models, Objectives(value_per_correct=Decimal(1)), comparisons)
    assert dear.chosen == "a" and dear.value_source == "objectives.value_per_correct"


def test_balanced_weighs_a_quality_gap_in_money_not_in_min_max_units() -> None:
    # The llm-tasks case: the weak model saves 0.063 USD per 1,000 requests and answers 30
    # points fewer right; at a cent a correct answer that is 3.03 USD of answers lost.
    models = [
        model_result("strong", 0.924, 900, "0.130", currency="USD", interval=(0.89, 0.95)),
        model_result("weak", 0.621, 450, "0.067", currency="USD", interval=(0.57, 0.67)),
    ]
    decision = decide(models, Objectives())
    assert decision.chosen == "strong"
    assert decision.value_source.startswith("the default")
    balanced = decision.choice("balanced")
    assert balanced is not None
    assert balanced.values == pytest.approx({"strong": 9.24 - 0.13, "weak": 6.21 - 0.067})
    assert decision.choice("latency").chosen == "strong"  # type: ignore[union-attr]


def test_latency_first_takes_the_faster_model_inside_the_tolerance() -> None:
    # The demo's complaint: distilled is significantly below base, but by 0.016 < 0.02.
    models = [
        model_result("base", 0.902, 42, "0.0000713", interval=(0.884, 0.918)),
        model_result("optimised", 0.901, 10.8, "0.0000181", interval=(0.883, 0.917)),
        model_result("distilled", 0.886, 3.3, "0.00000633", interval=(0.867, 0.903)),
    ]
    comparisons = [
        paired_test("base", "optimised", 0.6, difference=0.001),
        paired_test("base", "distilled", 0.01, difference=0.016),
        paired_test("optimised", "distilled", 0.01, difference=0.015),
    ]
    result, decision = _recommend(models, Objectives(priority="latency"), comparisons)
    assert decision.chosen == "distilled"
    assert decision.top_group == ["base", "optimised"]
    assert decision.choice("quality").chosen == "optimised"  # type: ignore[union-attr]
    assert "base (0.902, 0.884–0.918) cannot be told apart from optimised" in result.text
    assert "is ahead of distilled (0.886; paired test significant, Holm p = 0.01)" in result.text
    assert "not clearly distinguishable" not in result.text


def test_p95_differences_inside_the_intervals_do_not_decide() -> None:
    # a is faster by a point estimate, but the P95 intervals overlap: cost decides.
    a = model_result("a", 0.90, 50, "0.20")
    b = model_result("b", 0.90, 52, "0.10")
    wide = Interval(low=45, high=60, method="order-statistics")
    a = a.model_copy(update={"latency_ms": a.latency_ms.model_copy(update={"p95_ci": wide})})  # type: ignore[union-attr]
    b = b.model_copy(update={"latency_ms": b.latency_ms.model_copy(update={"p95_ci": wide})})  # type: ignore[union-attr]
    decision = decide([a, b], Objectives(priority="latency"))
    assert decision.chosen == "b"
    steps = decision.choice("latency").steps  # type: ignore[union-attr]
    assert "level within the P95 intervals with b (52 ms)" in steps[1]
    assert steps[2].startswith("the lowest cost per 1,000 requests: b")


def test_sla_breakers_are_named_with_the_excess_and_never_chosen() -> None:
    models = _reference()
    result, decision = _recommend(models, Objectives(sla=Sla(p95_ms=70)))
    assert decision.ineligible == {
        "optimised": ["P95 85 ms > 70 ms (15 ms over)"],
        "base": ["P95 120 ms > 70 ms (50 ms over)"],
    }
    assert "optimised breaks the SLA: P95 85 ms > 70 ms (15 ms over)" in result.text
    assert "It is the only model that meets the SLA, so every priority chooses it." in result.text
    assert set(result.by_priority.values()) == {"distilled"}


def test_a_model_without_measurements_is_not_said_to_break_the_sla() -> None:
    models = [*_reference(), model_result("late", None, None, None)]
    result, _ = _recommend(models, Objectives(sla=Sla(p95_ms=500)))
    assert "late was not measured (P95 not measured (limit 500 ms)), so it cannot" in result.text
    assert "late breaks" not in result.text


def test_nobody_meets_the_sla() -> None:
    result, decision = _recommend(_reference(), Objectives(sla=Sla(p95_ms=10)))
    assert result.chosen is None and decision.eligible == []
    assert result.text.startswith("No model meets the SLA, so none is recommended.")


def test_no_models() -> None:
    result, _ = _recommend([], Objectives())
    assert result.text == "No models were measured, so there is nothing to recommend."
    assert result.chosen is None


def test_custom_weights_are_a_priority_of_their_own() -> None:
    result, decision = _recommend(_reference(), Objectives(weights={"quality": 1.0}))
    assert decision.priority == "custom" and result.chosen == "optimised"
    assert result.by_priority["custom"] == "optimised"
    assert result.text.startswith("For custom-weights use, choose optimised.")


def test_a_recorded_failure_makes_a_model_ineligible() -> None:
    models = _reference()
    models[2] = models[2].model_copy(
        update={"sla": SlaCheck(met=False, violations=["did not start"])}
    )
    _, decision = _recommend(models, Objectives())
    assert decision.ineligible == {"distilled": ["did not start"]}
    assert decision.chosen == "optimised"


def test_missing_and_optimistic_figures_are_called_out() -> None:
    models = [*_reference(), model_result("api", 0.70, None, None)]
    models[0] = model_result("optimised", 0.88, 85, "0.12", within_sla=False)
    result, _ = _recommend(models, Objectives())
    assert "Missing figures count as the worst value: api has no P95 and cost." in result.text
    assert "The cost of optimised uses a throughput measured beyond the SLA" in result.text


def test_the_ranking_follows_the_rule_and_starts_with_the_choice() -> None:
    objectives = Objectives(priority="cost", sla=Sla(p95_ms=100))
    decision = decide(_reference(), objectives)
    ranked = rank(_reference(), decision, objectives)
    assert [r.name for r in ranked] == ["distilled", "optimised", "base"]
    assert [r.eligible for r in ranked] == [True, True, False]
    assert any(reason.startswith("chosen: ") for reason in ranked[0].reasons)
    assert "breaks the SLA: P95 120 ms > 100 ms (20 ms over)" in ranked[2].reasons


def test_costs_in_two_currencies_are_refused() -> None:
    models = [model_result("a", 0.9, 10, "1"), model_result("b", 0.9, 10, "1", currency="USD")]
    with pytest.raises(CurrencyMismatchError):
        decide(models, Objectives())


def test_unknown_names_in_the_frontier_are_refused() -> None:
    decision = decide(_reference(), Objectives())
    with pytest.raises(ValueError, match="ghost"):
        recommend(_reference(), decision, ["ghost"], Objectives())
