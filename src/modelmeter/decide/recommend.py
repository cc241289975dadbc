"""The recommendation: which model for which priority, and why, written from the measurements.

Every sentence is assembled from the figures of the models passed in; nothing is canned. The text
covers, in order: the model chosen for the spec's priority; the pick for each preset priority
with the figures that make it the pick (compared with the runner-up among the models that meet
the SLA) and how far it is from the best on the other criteria; the Pareto frontier and who
dominates the models off it; which models break the SLA and by how much; whether the quality
differences are larger than the bootstrap intervals (overlapping intervals: not clearly
distinguishable); and which figures are missing or optimistic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from modelmeter._figures import fmt_ms, fmt_percent, fmt_quality
from modelmeter.decide._facts import (
    QUALITY_LABELS,
    check_names_and_currency,
    fmt_cost,
    fmt_interval,
    fmt_score,
    join_words,
    quality_interval,
)
from modelmeter.decide.pareto import dominated_by
from modelmeter.decide.ranking import _ordered, _score, _Scored
from modelmeter.results import ModelResult, RankedModel, Recommendation
from modelmeter.spec.objectives import CRITERIA, PRESET_WEIGHTS, Objectives, Priority

__all__ = ["recommend"]

_TEXT_ORDER: tuple[Priority, ...] = ("quality", "latency", "cost", "balanced")
_SHORT = {
    "quality": "quality-first",
    "latency": "latency-first",
    "cost": "cost-first",
    "balanced": "balanced",
}


@dataclass(frozen=True, slots=True)
class _Pick:
    priority: str
    name: str | None
    ordered: list[_Scored]

    @property
    def eligible(self) -> list[_Scored]:
        return [item for item in self.ordered if item.eligible]


def _criterion_text(criterion: str, objectives: Objectives) -> tuple[str, bool]:
    """(name in prose, higher is better) of a criterion."""
    if criterion == "quality":
        return QUALITY_LABELS[objectives.quality_metric], True
    if criterion == "latency":
        return "P95", False
    return "cost per 1,000 requests", False


def _value_of(item: _Scored, criterion: str) -> float | None:
    if criterion == "quality":
        return item.quality
    if criterion == "latency":
        return item.p95_ms
    return None if item.cost is None else float(item.cost)


def _shown(item: _Scored, criterion: str) -> str:
    if criterion == "quality":
        return "not measured" if item.quality is None else fmt_quality(item.quality)
    if criterion == "latency":
        return "not measured" if item.p95_ms is None else f"{fmt_ms(item.p95_ms)} ms"
    if item.cost is None:
        return "unknown"
    return fmt_cost(item.cost, item.model.cost.currency)


def _best_on(items: Sequence[_Scored], criterion: str, higher_is_better: bool) -> list[_Scored]:
    """Items with a figure for ``criterion``, best first (ties keep their order)."""
    measured = [item for item in items if _value_of(item, criterion) is not None]

    def key(item: _Scored) -> float:
        value = _value_of(item, criterion)
        assert value is not None
        return -value if higher_is_better else value

    return sorted(measured, key=key)


def _main_claim(pick: _Pick, chosen: _Scored, objectives: Objectives) -> str:
    """Why ``chosen`` is the pick for ``pick.priority`` (a noun phrase)."""
    others = [item for item in pick.eligible if item is not chosen]
    runner = others[0] if others else None
    score_claim = f"the best {_SHORT[pick.priority]} score ({fmt_score(chosen.score)}"
    score_claim += (
        f" vs {fmt_score(runner.score)} for {runner.model.name})" if runner is not None else ")"
    )
    if pick.priority == "balanced":
        return score_claim
    criterion = pick.priority
    label, higher = _criterion_text(criterion, objectives)
    extreme = "highest" if higher else "lowest"
    if _value_of(chosen, criterion) is None:
        return f"{score_claim}, though its {label} is not measured"
    ranked = _best_on(pick.eligible, criterion, higher)
    best = ranked[0]
    if _value_of(best, criterion) != _value_of(chosen, criterion):
        return (
            f"{score_claim}, although {best.model.name} has the {extreme} {label} "
            f"({_shown(best, criterion)} vs {_shown(chosen, criterion)})"
        )
    rivals = [item for item in ranked if item is not chosen]
    if not rivals:
        return f"the {extreme} {label} ({_shown(chosen, criterion)})"
    rival = rivals[0]
    if _value_of(rival, criterion) == _value_of(chosen, criterion):
        return (
            f"the {extreme} {label} ({_shown(chosen, criterion)}, level with "
            f"{rival.model.name}) and {score_claim}"
        )
    return (
        f"the {extreme} {label} ({_shown(chosen, criterion)} vs {_shown(rival, criterion)} "
        f"for {rival.model.name})"
    )


def _context(
    chosen: _Scored, criterion: str, eligible: Sequence[_Scored], objectives: Objectives
) -> str:
    """The figure of ``chosen`` on a criterion that did not decide its pick."""
    if criterion == "latency":
        return f"P95 {_shown(chosen, 'latency')}"
    if criterion == "cost":
        if chosen.cost is None:
            return "cost unknown"
        return f"{_shown(chosen, 'cost')} per 1,000 requests"
    label, _ = _criterion_text("quality", objectives)
    if chosen.quality is None:
        return f"{label} not measured"
    ranked = _best_on(eligible, "quality", True)
    best = ranked[0]
    assert best.quality is not None
    if best is chosen or best.quality == chosen.quality:
        return f"the highest {label} ({fmt_quality(chosen.quality)})"
    gap = best.quality - chosen.quality
    return (
        f"{label} {fmt_quality(chosen.quality)}, {fmt_quality(gap)} below "
        f"{best.model.name}'s {fmt_quality(best.quality)}"
    )


def _summary(item: _Scored, objectives: Objectives) -> str:
    label, _ = _criterion_text("quality", objectives)
    return (
        f"{label} {_shown(item, 'quality')}, P95 {_shown(item, 'latency')}, "
        f"cost per 1,000 requests {_shown(item, 'cost')}"
    )


def _picks_text(picks: dict[str, _Pick], objectives: Objectives) -> list[str]:
    groups: dict[str, list[str]] = {}
    for preset in _TEXT_ORDER:
        name = picks[preset].name
        if name is not None:
            groups.setdefault(name, []).append(preset)
    eligible = picks["balanced"].eligible
    if len(eligible) == 1:
        only = eligible[0]
        why = (
            "only model measured"
            if len(picks["balanced"].ordered) == 1
            else ("only model that meets the SLA")
        )
        return [
            f"{only.model.name} is the {why}, so it is the pick for every priority "
            f"({_summary(only, objectives)})."
        ]
    sentences = []
    for name, priorities in groups.items():
        claims = []
        decided: set[str] = set()
        for priority in priorities:
            pick = picks[priority]
            chosen = next(item for item in pick.ordered if item.model.name == name)
            claims.append(_main_claim(pick, chosen, objectives))
            if priority in CRITERIA:
                decided.add(priority)
        reference = next(item for item in picks["balanced"].ordered if item.model.name == name)
        context = [
            _context(reference, criterion, eligible, objectives)
            for criterion in CRITERIA
            if criterion not in decided
        ]
        uses = join_words([_SHORT[priority] for priority in priorities]) + " use"
        sentence = f"{name} is the pick for {uses}: {'; '.join(claims)}."
        if context:
            sentence += f" Its other figures: {', '.join(context)}."
        sentences.append(sentence)
    return sentences


def _pareto_text(
    models: Sequence[ModelResult], front: Sequence[str], objectives: Objectives
) -> str:
    if len(models) < 2:
        return ""
    label, _ = _criterion_text("quality", objectives)
    frontier = f"the frontier of {label}, P95 and cost"
    if len(front) == len(models):
        every = "Both models are" if len(models) == 2 else f"All {len(models)} models are"
        return (
            f"{every} on {frontier}: none is at least as good as another on all three and "
            "better on one."
        )
    dominators = dominated_by(models, objectives.quality_metric)
    off = []
    for model in models:
        if model.name in front:
            continue
        beaten_by = dominators.get(model.name, [])
        if beaten_by:
            off.append(f"{model.name} is dominated by {join_words(beaten_by)}")
        else:
            off.append(f"{model.name} is not on it")
    on = join_words(list(front)) if front else "no model"
    return f"On {frontier}: {on}; {'; '.join(off)}."


def _sla_text(scored: Sequence[_Scored], objectives: Objectives) -> str:
    sla = objectives.sla
    if not sla.limits() and all(item.eligible for item in scored):
        return "No SLA limits were set."
    breaking = [item for item in scored if not item.eligible]
    if not breaking:
        label, _ = _criterion_text("quality", objectives)
        limits = []
        if sla.p95_ms is not None:
            limits.append(f"P95 ≤ {fmt_ms(sla.p95_ms)} ms")
        if sla.p99_ms is not None:
            limits.append(f"P99 ≤ {fmt_ms(sla.p99_ms)} ms")
        if sla.max_error_rate is not None:
            limits.append(f"error rate ≤ {fmt_percent(sla.max_error_rate)}")
        if sla.min_quality is not None:
            limits.append(f"{label} ≥ {fmt_quality(sla.min_quality)}")
        return f"Every model meets the SLA ({', '.join(limits)})."
    parts = []
    for item in breaking:
        described = "; ".join(
            [
                found.describe()
                + (f" ({found.describe_excess()})" if found.value is not None else "")
                for found in item.violations
            ]
            + item.recorded
        )
        parts.append(f"{item.model.name} breaks the SLA: {described}")
    return ". ".join(parts) + "."


def _intervals_text(scored: Sequence[_Scored], objectives: Objectives) -> str:
    metric = objectives.quality_metric
    label, _ = _criterion_text("quality", objectives)
    pool = [item for item in scored if item.eligible] or list(scored)
    ranked = _best_on(pool, "quality", True)
    if len(ranked) < 2:
        return ""
    leader = ranked[0]
    lead_interval = quality_interval(leader.model, metric)
    assert leader.quality is not None
    if lead_interval is None:
        return (
            f"{leader.model.name} has no interval for {label}, so quality differences are not "
            "tested."
        )
    level = f"{lead_interval.level * 100:g}%"

    def described(item: _Scored) -> str:
        interval = quality_interval(item.model, metric)
        assert item.quality is not None and interval is not None
        return f"{item.model.name} ({fmt_quality(item.quality)}, {fmt_interval(interval)})"

    close, behind, untested = [], [], []
    for item in ranked[1:]:
        interval = quality_interval(item.model, metric)
        if interval is None:
            untested.append(item.model.name)
        elif interval.high < lead_interval.low:
            behind.append(described(item))
        else:
            # Overlapping (or, oddly, above the leader's): no clear difference is claimed.
            close.append(described(item))
    clauses = []
    if close:
        clauses.append(
            f"is not clearly distinguishable from {join_words(close)}, as the intervals overlap"
        )
    if behind:
        clauses.append(f"is clearly ahead of {join_words(behind)}, with no overlap")
    text = ""
    if clauses:
        text = f"With {level} intervals on {label}, {described(leader)} {', and '.join(clauses)}."
    if untested:
        verb = "has" if len(untested) == 1 else "have"
        text += (
            f" {join_words(untested)} {verb} no interval for {label}, so "
            f"{'its' if len(untested) == 1 else 'their'} difference from {leader.model.name} "
            "is not tested."
        )
    return text.strip()


def _caveats_text(scored: Sequence[_Scored], objectives: Objectives) -> str:
    label, _ = _criterion_text("quality", objectives)
    missing = []
    for item in scored:
        absent = []
        if item.quality is None:
            absent.append(label)
        if item.p95_ms is None:
            absent.append("P95")
        if item.cost is None:
            absent.append("cost")
        if absent:
            missing.append(f"{item.model.name} has no {join_words(absent)}")
    optimistic = [
        item.model.name
        for item in scored
        if item.cost is not None and item.model.cost.within_sla is False
    ]
    parts = []
    if missing:
        parts.append(f"Missing figures count as the worst value: {'; '.join(missing)}.")
    if optimistic:
        whose = join_words(optimistic)
        parts.append(
            f"The cost of {whose} uses a throughput measured beyond the SLA, so it is optimistic."
        )
    return " ".join(parts)


def recommend(
    models: Sequence[ModelResult],
    ranking: Sequence[RankedModel],
    pareto: Sequence[str],
    objectives: Objectives,
    ties: Sequence[Sequence[str]] = (),
) -> Recommendation:
    """Choose a model per priority and explain the choice from the figures.

    ``ranking`` is :func:`~modelmeter.decide.rank` of ``models`` under ``objectives`` (its first
    eligible model is ``chosen``) and ``pareto`` the frontier from
    :func:`~modelmeter.decide.pareto_front` with ``objectives.quality_metric``. ``by_priority``
    holds, for each preset priority, the SLA-eligible model with the best score under that
    preset's weights (None when no model meets the SLA), plus ``"custom"`` when ``objectives``
    has custom weights; ``priority`` is the priority's name or ``"custom"``. Raises
    :class:`~modelmeter.economics.CurrencyMismatchError` when costs are in more than one
    currency, and ``ValueError`` when ``ranking`` or ``pareto`` names an unknown model.
    """
    check_names_and_currency(models)
    names = {model.name for model in models}
    unknown = sorted({item.name for item in ranking} - names | set(pareto) - names)
    if unknown:
        raise ValueError(f"ranking or pareto names unknown model(s): {', '.join(unknown)}")

    picks: dict[str, _Pick] = {}
    for priority, weights in PRESET_WEIGHTS.items():
        ordered = _ordered(_score(models, objectives, weights, ties))
        first = next((item.model.name for item in ordered if item.eligible), None)
        picks[priority] = _Pick(priority, first, ordered)
    by_priority: dict[str, str | None] = {priority: picks[priority].name for priority in picks}
    chosen = next((item.name for item in ranking if item.eligible), None)
    label = objectives.label
    if objectives.weights is not None:
        by_priority["custom"] = chosen

    sentences: list[str] = []
    scored = _score(models, objectives, objectives.resolved_weights(), ties)
    by_name = {item.model.name: item for item in scored}
    if not models:
        sentences.append("No models were measured, so there is nothing to recommend.")
    elif chosen is None:
        sentences.append("No model meets the SLA, so none is recommended.")
    else:
        if objectives.weights is not None:
            shares = ", ".join(f"{k} {fmt_score(v)}" for k, v in objectives.weights.items())
            sentences.append(
                f"With the custom weights ({shares}), choose {chosen}: score "
                f"{fmt_score(by_name[chosen].score)}, {_summary(by_name[chosen], objectives)}."
            )
        else:
            sentences.append(f"For {_SHORT[objectives.priority]} use, choose {chosen}.")
        sentences.extend(_picks_text(picks, objectives))

    sections: list[Callable[[], str]] = [
        lambda: _pareto_text(models, pareto, objectives),
        lambda: _sla_text(scored, objectives) if models else "",
        lambda: _intervals_text(scored, objectives),
        lambda: _caveats_text(scored, objectives),
    ]
    sentences.extend(text for section in sections if (text := section()))
    return Recommendation(
        text=" ".join(sentences), by_priority=by_priority, chosen=chosen, priority=label
    )
