"""The recommendation in words, written from the decision record and nothing else.

The text says, in order: the model chosen for the spec's priority and the rule with the figures
that chose it; what the other priorities choose; the front and who beats the models off it;
which models break the SLA (or were not measured); how the quality figures differ, in the words
of the paired tests the report shows beside it; and which figures are missing or optimistic.
Every model named and every figure given is one of :class:`~modelmeter.results.Decision`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelmeter._figures import fmt_quality
from modelmeter.decide._facts import QUALITY_LABELS, fmt_interval, join_words
from modelmeter.decide.noise import Noise, figures_of
from modelmeter.decide.pareto import dominated_by
from modelmeter.results import Decision, ModelResult, PairComparison, Recommendation
from modelmeter.spec.objectives import Objectives, QualityMetric

__all__ = ["SHORT", "recommend"]

SHORT = {
    "quality": "quality-first",
    "latency": "latency-first",
    "cost": "cost-first",
    "balanced": "balanced",
    "custom": "custom-weights",
}


def _choice_text(decision: Decision) -> list[str]:
    own = decision.choice(decision.priority)
    if own is None or own.chosen is None:
        if not decision.eligible and decision.ineligible:
            return ["No model meets the SLA, so none is recommended."]
        return ["No models were measured, so there is nothing to recommend."]
    sentences = [f"For {SHORT[decision.priority]} use, choose {own.chosen}."]
    if len(decision.eligible) == 1:
        why = "only model measured" if not decision.ineligible else "only model that meets the SLA"
        sentences.append(f"It is the {why}, so every priority chooses it.")
        return sentences
    sentences.append(f"The {SHORT[decision.priority]} rule: {'; then '.join(own.steps)}.")
    groups: dict[str, list[str]] = {}
    for choice in decision.choices:
        if choice.priority != decision.priority and choice.chosen is not None:
            groups.setdefault(choice.chosen, []).append(SHORT[choice.priority])
    for name, priorities in groups.items():
        same = " too" if name == own.chosen else ""
        sentences.append(f"For {join_words(priorities)} use, choose {name}{same}.")
    return sentences


def _front_text(models: Sequence[ModelResult], pareto: Sequence[str], metric: QualityMetric) -> str:
    if len(models) < 2:
        return ""
    frontier = f"the frontier of {QUALITY_LABELS[metric]}, P95 and cost"
    if len(pareto) == len(models):
        every = "Both models are" if len(models) == 2 else f"All {len(models)} models are"
        return (
            f"{every} on {frontier}: none is at least as good as another on all three and "
            "better on one."
        )
    dominators = dominated_by(models, metric)
    off = []
    for model in models:
        if model.name in pareto:
            continue
        beaten_by = dominators.get(model.name, [])
        off.append(
            f"{model.name} is dominated by {join_words(beaten_by)}"
            if beaten_by
            else f"{model.name} is not on it"
        )
    on = join_words(list(pareto)) if pareto else "no model"
    return f"On {frontier}: {on}; {'; '.join(off)}."


def _sla_text(decision: Decision, objectives: Objectives) -> str:
    if not decision.ineligible:
        limits = objectives.sla.limits()
        if not limits:
            return "No SLA limits were set."
        return "Every model meets the SLA."
    parts = []
    for name, broken in decision.ineligible.items():
        unmeasured = [b for b in broken if "not measured" in b]
        if unmeasured and len(unmeasured) == len(broken):
            parts.append(f"{name} was not measured ({'; '.join(broken)}), so it cannot be chosen")
        else:
            parts.append(f"{name} breaks the SLA: {'; '.join(broken)}")
    return ". ".join(parts) + "."


def _pairs_text(
    models: Sequence[ModelResult],
    decision: Decision,
    comparisons: Sequence[PairComparison],
    metric: str,
) -> str:
    """Quality differences among the eligible models, in the paired tests' own verdicts (or,
    without paired tests, the intervals')."""
    label = QUALITY_LABELS[metric]
    eligible = set(decision.eligible)
    noise = Noise(comparisons)
    items = [
        figures_of(m, i, metric, "per_1000_requests")
        for i, m in enumerate(models)
        if m.name in eligible
    ]
    items = [i for i in items if i.quality is not None]
    if len(items) < 2:
        return ""
    items.sort(key=lambda i: (-(i.quality or 0.0), i.position))
    leader = items[0]
    same: list[str] = []
    behind: list[str] = []
    untested: list[str] = []
    for item in items[1:]:
        paired = noise.paired(leader.name, item.name)
        if paired is None and (leader.quality_ci is None or item.quality_ci is None):
            untested.append(item.name)
            continue
        shown = f"{item.name} ({fmt_quality(item.quality or 0.0)}; "
        shown += f"{noise.quality_evidence(leader, item)})"
        (same if noise.same_quality(leader, item) else behind).append(shown)
    lead = f"{leader.name} ({fmt_quality(leader.quality or 0.0)}"
    if leader.quality_ci is not None:
        lead += f", {fmt_interval(leader.quality_ci)}"
    lead += ")"
    clauses = []
    if same:
        clauses.append(f"cannot be told apart from {join_words(same)}")
    if behind:
        clauses.append(f"is ahead of {join_words(behind)}")
    text = f"On {label}, {lead} {', and '.join(clauses)}." if clauses else ""
    if untested:
        verb = "has" if len(untested) == 1 else "have"
        text += (
            f" {join_words(untested)} {verb} no paired test or interval against "
            f"{leader.name}, so the difference is not tested."
        )
    return text.strip()


def _caveats_text(models: Sequence[ModelResult], metric: str) -> str:
    label = QUALITY_LABELS[metric]
    missing = []
    for position, model in enumerate(models):
        item = figures_of(model, position, metric, "per_1000_requests")
        absent = [
            name
            for name, value in ((label, item.quality), ("P95", item.p95_ms), ("cost", item.cost))
            if value is None
        ]
        if absent:
            missing.append(f"{model.name} has no {join_words(absent)}")
    optimistic = [
        m.name
        for m in models
        if m.cost.per_1000_requests is not None and m.cost.within_sla is False
    ]
    upper = [
        m.name
        for m in models
        if m.cost.per_1000_requests is not None and m.cost.at_capacity is False
    ]
    parts = []
    if missing:
        parts.append(f"Missing figures count as the worst value: {'; '.join(missing)}.")
    if upper:
        parts.append(
            f"The cost of {join_words(upper)} is an upper bound: measured at an offered "
            "open-loop rate, not at capacity."
        )
    if optimistic:
        parts.append(
            f"The cost of {join_words(optimistic)} uses a throughput measured beyond the SLA, so "
            "it is optimistic."
        )
    return " ".join(parts)


def recommend(
    models: Sequence[ModelResult],
    decision: Decision,
    pareto: Sequence[str],
    objectives: Objectives,
    comparisons: Sequence[PairComparison] = (),
) -> Recommendation:
    """The recommendation of ``decision`` (from :func:`~modelmeter.decide.decide` over
    ``models``) in words; ``pareto`` is the frontier over all models and ``comparisons`` the
    paired tests the decision used."""
    names = {model.name for model in models}
    unknown = sorted(set(pareto) - names)
    if unknown:
        raise ValueError(f"pareto names unknown model(s): {', '.join(unknown)}")
    metric = objectives.quality_metric
    sentences = (
        _choice_text(decision)
        if models
        else ["No models were measured, so there is nothing to recommend."]
    )
    sections = [
        _front_text(models, pareto, metric),
        _sla_text(decision, objectives) if models else "",
        _pairs_text(models, decision, comparisons, metric),
        _caveats_text(models, metric),
    ]
    sentences.extend(text for text in sections if text)
    return Recommendation(
        text=" ".join(sentences),
        by_priority={c.priority: c.chosen for c in decision.choices},
        chosen=decision.chosen,
        priority=decision.priority,
    )
