"""Paired comparisons within a run, tie groups, and a ranking that does not stretch ties."""

from __future__ import annotations

from scipy.stats import binomtest

from modelmeter.decide import rank
from modelmeter.decide.paired import compare_models
from modelmeter.results import ItemResults, ModelResult
from modelmeter.spec.objectives import Objectives
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


def test_tied_models_count_as_equal_on_quality_in_the_ranking() -> None:
    # Quality first: without ties, a's 0.001 lead would take the whole quality range.
    a = model_result("a", 0.902, 15.9, "0.0000318")
    b = model_result("b", 0.901, 4.7, "0.0000126")
    objectives = Objectives(priority="quality")
    assert rank([a, b], objectives)[0].name == "a"
    ranked = rank([a, b], objectives, ties=[["a", "b"]])
    assert ranked[0].name == "b"  # equal on quality, so latency and cost decide
    assert any("not distinguishable from a" in reason for reason in ranked[0].reasons)


def test_a_cost_limit_makes_a_model_ineligible() -> None:
    from modelmeter.spec.objectives import Sla

    cheap = model_result("cheap", 0.80, 10.0, "0.5")
    dear = model_result("dear", 0.95, 10.0, "2.0")
    objectives = Objectives(priority="quality", sla=Sla(max_cost_per_1000=1.0))
    ranked = rank([dear, cheap], objectives)
    assert [r.name for r in ranked] == ["cheap", "dear"]
    assert not ranked[1].eligible
    assert any("cost per 1,000 requests 2 > 1" in r for r in ranked[1].reasons)


def test_cost_per_correct_answer_can_be_what_the_ranking_weighs() -> None:
    # Per 1,000 requests a is cheaper; per correct answer (cost / 1000 / accuracy) b is:
    # a: 1.00 / 1000 / 0.50 = 0.0020, b: 1.20 / 1000 / 0.90 = 0.00133.
    a = model_result("a", 0.50, 10.0, "1.00")
    b = model_result("b", 0.90, 10.0, "1.20")
    a = a.model_copy(update={"quality": a.quality.model_copy(update={"accuracy": 0.50})})  # type: ignore[union-attr]
    b = b.model_copy(update={"quality": b.quality.model_copy(update={"accuracy": 0.90})})  # type: ignore[union-attr]
    per_request = rank([a, b], Objectives(weights={"cost": 1.0}))
    per_correct = rank([a, b], Objectives(weights={"cost": 1.0}, cost_metric="per_correct_answer"))
    assert per_request[0].name == "a"
    assert per_correct[0].name == "b"
    assert any("per correct answer" in reason for reason in per_correct[0].reasons)
