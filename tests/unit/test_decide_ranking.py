"""Ranking under SLA constraints with weighted, normalised criteria."""

from __future__ import annotations

import pytest

from modelmeter.decide import normalise, rank
from modelmeter.economics import CurrencyMismatchError
from modelmeter.results import SlaCheck
from modelmeter.spec.objectives import Objectives, Sla
from tests.unit._decide_models import model_result

REFERENCE = [
    model_result("optimised", 0.88, 85, "0.12"),
    model_result("base", 0.81, 120, "0.22"),
    model_result("distilled", 0.84, 60, "0.08"),
]


def test_normalise() -> None:
    assert normalise([1.0, 3.0, 2.0], higher_is_better=True) == [0.0, 1.0, 0.5]
    assert normalise([1.0, 3.0, 2.0], higher_is_better=False) == [1.0, 0.0, 0.5]
    assert normalise([2.0, 2.0], higher_is_better=False) == [1.0, 1.0]
    assert normalise([2.0, None], higher_is_better=True) == [1.0, 0.0]
    assert normalise([None, None], higher_is_better=True) == [0.0, 0.0]
    assert normalise([], higher_is_better=True) == []


def test_balanced_scores_hand_computed() -> None:
    ranking = rank(REFERENCE, Objectives())
    assert [r.name for r in ranking] == ["distilled", "optimised", "base"]
    scores = {r.name: r.score for r in ranking}
    # quality (0.84-0.81)/0.07, latency 1, cost 1
    assert scores["distilled"] == pytest.approx((3 / 7 + 1 + 1) / 3)
    # quality 1, latency (120-85)/60, cost (0.22-0.12)/0.14
    assert scores["optimised"] == pytest.approx((1 + 35 / 60 + 0.10 / 0.14) / 3)
    assert scores["base"] == pytest.approx(0.0)
    assert all(r.eligible for r in ranking)


def test_priority_changes_the_order() -> None:
    assert rank(REFERENCE, Objectives(priority="quality"))[0].name == "optimised"
    assert rank(REFERENCE, Objectives(priority="cost"))[0].name == "distilled"
    only_quality = Objectives(weights={"quality": 1})
    assert [r.name for r in rank(REFERENCE, only_quality)] == ["optimised", "distilled", "base"]


def test_sla_violators_rank_after_every_eligiblemodel_result() -> None:
    objectives = Objectives(sla=Sla(p95_ms=70))
    ranking = rank(REFERENCE, objectives)
    assert [(r.name, r.eligible) for r in ranking] == [
        ("distilled", True),
        ("optimised", False),
        ("base", False),
    ]
    strict = Objectives(priority="quality", sla=Sla(p95_ms=70))
    ranking = rank(REFERENCE, strict)
    assert ranking[0].name == "distilled"  # optimised scores higher but breaks the SLA
    assert ranking[1].score > ranking[0].score
    assert "breaks the SLA: P95 85 ms > 70 ms" in ranking[1].reasons


def test_reasons_carry_the_numbers() -> None:
    reasons = {r.name: r.reasons for r in rank(REFERENCE, Objectives(priority="cost"))}
    assert reasons["distilled"] == [
        "macro F1 0.84: normalised 0.43 × weight 0.20",
        "P95 60 ms: normalised 1.00 × weight 0.20",
        "cost 0.08 EUR per 1,000 requests: normalised 1.00 × weight 0.60",
        "score 0.89",
    ]


def test_missing_values_score_as_the_worst() -> None:
    models = [model_result("priced", 0.9, 50, "1.00"), model_result("unpriced", 0.9, 50, None)]
    ranking = rank(models, Objectives(priority="cost"))
    assert [r.name for r in ranking] == ["priced", "unpriced"]
    assert ranking[1].score == pytest.approx(0.4)
    assert "cost unknown: normalised 0.00 × weight 0.60" in ranking[1].reasons


def test_all_equal_scores_one_and_ties_keep_input_order() -> None:
    models = [model_result("b", 0.9, 50, "1"), model_result("a", 0.9, 50, "1")]
    ranking = rank(models, Objectives())
    assert [r.name for r in ranking] == ["b", "a"]
    assert [r.score for r in ranking] == pytest.approx([1.0, 1.0])


def test_costs_in_two_currencies_are_refused() -> None:
    models = [model_result("eu", 0.9, 50, "1"), model_result("us", 0.8, 40, "1", currency="USD")]
    with pytest.raises(CurrencyMismatchError, match="EUR: eu; USD: us"):
        rank(models, Objectives())


def test_a_model_without_cost_does_not_count_as_a_currency() -> None:
    models = [model_result("eu", 0.9, 50, "1"), model_result("free", 0.8, 40, None)]
    assert len(rank(models, Objectives())) == 2


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        rank([model_result("a", 0.9, 50, "1"), model_result("a", 0.8, 40, "1")], Objectives())


def test_no_models() -> None:
    assert rank([], Objectives()) == []


def test_a_recorded_failure_makes_a_model_ineligible() -> None:
    broken = model_result("broken", None, None, None)
    broken = broken.model_copy(
        update={"sla": SlaCheck(met=False, violations=["did not start: port in use"])}
    )
    ranking = rank([broken, *REFERENCE], Objectives())
    assert ranking[-1].name == "broken"
    assert not ranking[-1].eligible
    assert "breaks the SLA: did not start: port in use" in ranking[-1].reasons
    # A recorded violation that the objectives' SLA also finds is not listed twice.
    slow = model_result("slow", 0.9, 150, "0.1")
    slow = slow.model_copy(update={"sla": SlaCheck(met=False, violations=["P95 150 ms > 100 ms"])})
    reasons = rank([slow], Objectives(sla=Sla(p95_ms=100)))[0].reasons
    assert reasons.count("breaks the SLA: P95 150 ms > 100 ms") == 1
