"""Paired comparisons within a run, tie groups, and a decision that does not split ties."""

from __future__ import annotations

from scipy.stats import binomtest

from modelmeter.decide import decide, rank
from modelmeter.decide.paired import compare_models
from modelmeter.results import ItemResults, ModelResult
from modelmeter.spec.objectives import Objectives, Sla
from tests.unit._decide_models import model_result


def _with_items(model: ModelResult, correct: list[bool]) -> ModelResult:
    items = ItemResults(ids=[f"i{k}" for k in range(len(correct))], correct=correct)
    return model.model_copy(update={"items": items})


def test_mcnemar_on_shared_items_gives_holm_adjusted_pairs_and_tie_groups() -> None:
    n = 400
    # a right on all but 20; b differs from a on 2 items only; c wrong on 60 more than a.
    a = [k >= 20 for k in range(n)]
    b = [(k >= 20) != (k in (100, 10)) for k in range(n)]
    c = [k >= 80 for k in range(n)]
    models = [
        _with_items(model_result("a", 0.95, 10.0, "1"), a),
        _with_items(model_result("b", 0.95, 10.0, "1"), b),
        _with_items(model_result("c", 0.80, 10.0, "1"), c),
    ]
    comparisons, ties = compare_models(models)
    assert ties == [["a", "b"], ["c"]]
    pair = next(p for p in comparisons if (p.a, p.b) == ("a", "c"))
    # 60 discordant items, all a's: exact two-sided binomial p, then Holm over 3 pairs.
    raw = binomtest(60, 60, 0.5).pvalue
    assert abs(pair.p_value - raw) < 1e-12 and pair.distinguishable
    assert pair.items == n and abs(pair.difference - 60 / n) < 1e-12
    tied = next(p for p in comparisons if (p.a, p.b) == ("a", "b"))
    assert not tied.distinguishable and "not distinguishable" in tied.sentence


def test_items_missing_in_a_model_are_left_out_of_every_pair() -> None:
    first = _with_items(model_result("a", 0.9, 10.0, "1"), [True, True, False])
    second = model_result("b", 0.9, 10.0, "1").model_copy(
        update={"items": ItemResults(ids=["i1", "i2", "extra"], correct=[True, True, True])}
    )
    comparisons, _ties = compare_models([first, second])
    assert comparisons[0].items == 2  # i1 and i2 only


def _order(models: list[ModelResult], objectives: Objectives, comparisons=()) -> list[str]:
    decision = decide(models, objectives, comparisons)
    return [ranked.name for ranked in rank(models, decision, objectives)]


def test_models_the_paired_test_cannot_tell_apart_are_one_quality_group() -> None:
    # Quality first: without a paired test, a's 0.001 lead (narrow intervals) decides; with a
    # paired test that is not significant, both are the top group and the cheaper b wins.
    a = model_result("a", 0.902, 15.9, "0.0000318", interval=(0.9015, 0.9025))
    b = model_result("b", 0.901, 4.7, "0.0000126", interval=(0.9005, 0.9015 - 1e-9))
    objectives = Objectives(priority="quality")
    assert _order([a, b], objectives) == ["a", "b"]
    graded = [
        _with_items(a, [True, True, False, True]),
        _with_items(b, [True, False, True, True]),
    ]
    comparisons, _ties = compare_models(graded)
    assert not comparisons[0].distinguishable
    decision = decide([a, b], objectives, comparisons)
    assert decision.chosen == "b"
    assert decision.top_group == ["a", "b"]
    assert "paired test not significant" in decision.choices[0].steps[0]


def test_a_cost_limit_makes_a_model_ineligible() -> None:
    cheap = model_result("cheap", 0.80, 10.0, "0.5")
    dear = model_result("dear", 0.95, 10.0, "2.0")
    objectives = Objectives(priority="quality", sla=Sla(max_cost_per_1000=1.0))
    decision = decide([dear, cheap], objectives)
    ranked = rank([dear, cheap], decision, objectives)
    assert [r.name for r in ranked] == ["cheap", "dear"]
    assert not ranked[1].eligible
    assert any("cost per 1,000 requests 2 > 1" in r for r in ranked[1].reasons)


def test_cost_per_correct_answer_can_be_what_cost_first_weighs() -> None:
    # Per 1,000 requests a is cheaper; per correct answer (cost / 1000 / accuracy) b is:
    # a: 1.00 / 1000 / 0.50 = 0.0020, b: 1.20 / 1000 / 0.90 = 0.00133.
    a = model_result("a", 0.50, 10.0, "1.00")
    b = model_result("b", 0.90, 10.0, "1.20")
    tolerant = {"priority": "cost", "quality_tolerance": 1.0}
    assert _order([a, b], Objectives(**tolerant)) == ["a", "b"]
    per_correct = Objectives(**tolerant, cost_metric="per_correct_answer")
    assert _order([a, b], per_correct) == ["b", "a"]
    # Per correct answer, b is as fast, better and cheaper: a is off the front.
    assert decide([a, b], per_correct).dominated == {"a": ["b"]}
