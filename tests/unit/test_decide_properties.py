"""Properties of the decision over random sets of models (docs/decisions.md, "What it promises").

The noise relations the rules read are fixed per pair before a set is drawn (an interval per
model, a paired verdict per pair), so that removing a model changes only what the model itself
brought, as in a run where the tests were made once.
"""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from modelmeter.decide import decide, dominates, eligibility
from modelmeter.decide.noise import figures_of
from modelmeter.decide.pareto import ParetoPoint
from modelmeter.results import Decision, Interval, ModelResult, PairComparison
from modelmeter.spec.objectives import Objectives, Sla
from tests.unit._decide_models import model_result, paired_test

RULE_PRIORITIES = ("quality", "latency", "cost", "balanced")


@st.composite
def _model(draw: st.DrawFn, name: str) -> ModelResult:
    quality = draw(st.one_of(st.none(), st.integers(50, 100).map(lambda v: v / 100)))
    spread = draw(st.integers(0, 4)) / 100
    p95 = draw(st.one_of(st.none(), st.integers(1, 40).map(lambda v: v * 5.0)))
    cost = draw(st.one_of(st.none(), st.integers(1, 30).map(lambda v: f"0.0{v:02d}")))
    model = model_result(
        name,
        quality,
        p95,
        cost,
        interval=None if quality is None else (quality - spread, quality + spread),
    )
    if p95 is not None and model.latency_ms is not None and draw(st.booleans()):
        width = draw(st.integers(0, 3)) * 5.0
        ci = Interval(low=p95 - width, high=p95 + width, method="order-statistics")
        model = model.model_copy(
            update={"latency_ms": model.latency_ms.model_copy(update={"p95_ci": ci})}
        )
    return model


@st.composite
def _study(draw: st.DrawFn) -> tuple[list[ModelResult], list[PairComparison], Objectives]:
    size = draw(st.integers(1, 6))
    models = [draw(_model(f"m{i}")) for i in range(size)]
    comparisons = []
    if draw(st.booleans()):
        for a, b in combinations(models, 2):
            significant = draw(st.booleans())
            comparisons.append(paired_test(a.name, b.name, 0.01 if significant else 0.5))
    limit = draw(st.one_of(st.none(), st.integers(2, 40).map(lambda v: v * 5.0)))
    objectives = Objectives(
        sla=Sla(p95_ms=limit),
        quality_tolerance=draw(st.sampled_from([0.0, 0.02, 0.1])),
    )
    return models, comparisons, objectives


def _choices(decision: Decision) -> dict[str, str | None]:
    return {c.priority: c.chosen for c in decision.choices}


def _point(model: ModelResult) -> ParetoPoint:
    figures = figures_of(model, 0, "f1_macro", "per_1000_requests")
    return ParetoPoint(model.name, figures.quality, figures.p95_ms, figures.cost)


def _keeps_off_the_front_alone(name: str, models: list[ModelResult], decision: Decision) -> bool:
    return any(dominators == [name] for dominators in decision.dominated.values())


@settings(max_examples=300, deadline=None)
@given(_study())
def test_an_sla_breaker_is_never_chosen(study: tuple) -> None:
    models, comparisons, objectives = study
    decision = decide(models, objectives, comparisons)
    breakers = {m.name for m in models if eligibility(m, objectives)}
    assert set(decision.ineligible) == breakers
    assert not breakers & set(_choices(decision).values())


@settings(max_examples=300, deadline=None)
@given(_study())
def test_a_model_beaten_on_every_criterion_is_never_chosen(study: tuple) -> None:
    models, comparisons, objectives = study
    decision = decide(models, objectives, comparisons)
    eligible = [m for m in models if m.name in decision.eligible]
    for model in eligible:
        beaten = any(dominates(_point(other), _point(model)) for other in eligible)
        if beaten:
            assert model.name not in _choices(decision).values()


@settings(max_examples=300, deadline=None)
@given(_study())
def test_removing_an_irrelevant_model_never_changes_a_choice(study: tuple) -> None:
    """Irrelevant: not chosen by the priority, not the quality reference, and not the only
    model keeping another off the front (docs/decisions.md says why these are the limits)."""
    models, comparisons, objectives = study
    decision = decide(models, objectives, comparisons)
    choices = _choices(decision)
    for model in models:
        if model.name == decision.quality_reference:
            continue
        if _keeps_off_the_front_alone(model.name, models, decision):
            continue
        rest = [m for m in models if m is not model]
        after = _choices(decide(rest, objectives, comparisons))
        for priority in RULE_PRIORITIES:
            if choices[priority] != model.name:
                assert after[priority] == choices[priority], (priority, model.name)


@settings(max_examples=200, deadline=None)
@given(_study(), _model("extra"))
def test_adding_an_sla_breaker_or_a_dominated_model_never_changes_a_choice(
    study: tuple, extra: ModelResult
) -> None:
    models, comparisons, objectives = study
    before = _choices(decide(models, objectives, comparisons))
    grown = decide([*models, extra], objectives, comparisons)
    if "extra" in grown.ineligible or "extra" in grown.dominated:
        assert _choices(grown) == before


@settings(max_examples=200, deadline=None)
@given(_study())
def test_the_ranking_of_each_priority_starts_with_its_choice(study: tuple) -> None:
    models, comparisons, objectives = study
    decision = decide(models, objectives, comparisons)
    for choice in decision.choices:
        eligible_first = [n for n in choice.ranking if n in decision.eligible]
        assert eligible_first[:1] == ([choice.chosen] if choice.chosen else [])
        assert sorted(choice.ranking) == sorted(m.name for m in models)
