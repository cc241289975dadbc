"""The consistency checker finds each kind of disagreement the issue reports listed, and none in a
report made the one way (decision first, every section from it)."""

from __future__ import annotations

from datetime import UTC, datetime

from modelmeter.decide import decide, inconsistencies, pareto_front, rank, recommend
from modelmeter.results import (
    Advice,
    HostFacts,
    ModelResult,
    Report,
    RouteChoiceResult,
)
from modelmeter.spec.objectives import Objectives
from tests.unit._decide_models import model_result, paired_test


def _models() -> list[ModelResult]:
    return [
        model_result("base", 0.902, 42, "0.0000713", interval=(0.884, 0.918)),
        model_result("optimised", 0.901, 10.8, "0.0000181", interval=(0.883, 0.917)),
        model_result("distilled", 0.886, 3.3, "0.00000633", interval=(0.867, 0.903)),
    ]


COMPARISONS = [
    paired_test("base", "optimised", 1.0, difference=0.001),
    paired_test("base", "distilled", 0.019, difference=0.016),
    paired_test("optimised", "distilled", 0.019, difference=0.015),
]


def _report() -> Report:
    models, objectives = _models(), Objectives()
    decision = decide(models, objectives, COMPARISONS)
    front = pareto_front(models)
    return Report(
        tool_version="0",
        run_id="r1",
        name="study",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        spec_hash="h",
        seed=1,
        host=HostFacts(python="3.11", platform="linux", cpu_count=2, machine="x86_64"),
        task="classify",
        models=models,
        pareto=front,
        ranking=rank(models, decision, objectives),
        recommendation=recommend(models, decision, front, objectives, COMPARISONS),
        decision=decision,
        comparisons=COMPARISONS,
        advice=[
            Advice(
                title=f"Adopt {decision.chosen}",
                finding=f"{decision.chosen} costs 0.0000181 EUR per 1,000 requests.",
                action="Route traffic.",
                expected_effect="The figures above.",
                verify="compare",
                horizon="weeks 1-2",
            )
        ],
    )


def test_a_report_made_from_one_decision_is_consistent() -> None:
    report = _report()
    assert report.recommendation.chosen == "optimised"
    assert inconsistencies(report) == []


def test_calling_a_separated_pair_level_is_found() -> None:
    report = _report()
    text = (
        report.recommendation.text + " With 95% intervals, base is not clearly distinguishable "
        "from optimised and distilled, as the intervals overlap."
    )
    report.recommendation = report.recommendation.model_copy(update={"text": text})
    assert inconsistencies(report) == [
        "recommendation calls base and distilled level on quality, but the paired test "
        "separates them (Holm p = 0.019)"
    ]


def test_no_measurable_loss_against_a_better_model_is_found() -> None:
    report = _report()
    report.advice.append(
        Advice(
            title="Serve distilled where base runs today",
            finding="distilled served 3× the requests, inside base's interval.",
            action="Deploy distilled.",
            expected_effect="3× the requests per instance at no measurable loss of quality.",
            verify="Re-run.",
            horizon="weeks 3-6",
        )
    )
    found = inconsistencies(report)
    assert any("calls base and distilled level on quality" in f for f in found), found


def test_two_costs_for_one_model_are_found() -> None:
    report = _report()
    report.advice[0] = report.advice[0].model_copy(
        update={"finding": "optimised costs 0.0000250 EUR per 1,000 requests."}
    )
    assert inconsistencies(report) == [
        "advice 'Adopt optimised' gives optimised a cost of 0.0000250 EUR per 1,000 requests, "
        "but its cost is 0.0000181 EUR per 1,000 requests"
    ]


def test_a_cited_section_that_does_not_exist_is_found() -> None:
    report = _report()
    report.advice[0] = report.advice[0].model_copy(
        update={"expected_effect": "The A/B test of weeks 3-6 confirms it (see Routing)."}
    )
    found = inconsistencies(report)
    assert "advice 'Adopt optimised' cites weeks 3-6, which the plan does not have" in found
    assert any("cites the Routing section" in f for f in found)


def test_a_route_or_a_plan_for_another_model_is_found() -> None:
    report = _report()
    report.routing = [RouteChoiceResult(route="default", model="distilled", reason="cheapest")]
    report.capacity_model = "base"
    found = inconsistencies(report)
    assert any("the default route sends traffic to distilled" in f for f in found), found
    stated = RouteChoiceResult(
        route="default", model="distilled", reason="cheaper than optimised at equal quality"
    )
    report.routing = [stated]
    assert not any("default route" in f for f in inconsistencies(report))


def test_a_choice_that_disagrees_with_the_decision_is_found() -> None:
    report = _report()
    report.recommendation = report.recommendation.model_copy(update={"chosen": "base"})
    assert inconsistencies(report)[0] == ("the recommendation chooses base, the decision optimised")
