"""The ranking table: the models in the order the spec's priority prefers them, with why.

The order is the decision record's (:func:`~modelmeter.decide.decide`): the chosen model, then
the rule applied again to the eligible models left, then the models that break the SLA. Each row
gives the figures the rule read, its net value or weighted score where the rule weighs one, and
what put the model where it is (off the front, outside the quality tolerance, an SLA breach).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from modelmeter._figures import fmt_ms, fmt_quality
from modelmeter.decide._facts import QUALITY_LABELS, fmt_cost, join_words
from modelmeter.decide.noise import figures_of
from modelmeter.results import Decision, ModelResult, RankedModel
from modelmeter.spec.objectives import Objectives

__all__ = ["rank"]


def _figures_text(model: ModelResult, position: int, objectives: Objectives) -> list[str]:
    item = figures_of(model, position, objectives.quality_metric, objectives.cost_metric)
    label = QUALITY_LABELS[objectives.quality_metric]
    quality = (
        f"{label} {fmt_quality(item.quality)}"
        if item.quality is not None
        else (f"{label} not measured")
    )
    latency = f"P95 {fmt_ms(item.p95_ms)} ms" if item.p95_ms is not None else "P95 not measured"
    if item.cost is None:
        cost = "cost unknown"
    else:
        per = (
            "per correct answer"
            if objectives.cost_metric == "per_correct_answer"
            else "per 1,000 requests"
        )
        cost = f"cost {fmt_cost(item.cost, model.cost.currency)} {per}"
        if model.cost.within_sla is False:
            cost += " (at a throughput beyond the SLA)"
        if model.cost.at_capacity is False:
            cost += " (an upper bound: not at capacity)"
    return [quality, latency, cost]


def _standing(name: str, decision: Decision) -> list[str]:
    """What placed ``name``: chosen, off the front, outside the tolerance, SLA breaches."""
    own = decision.choice(decision.priority)
    if name in decision.ineligible:
        return [f"breaks the SLA: {text}" for text in decision.ineligible[name]]
    notes = []
    if own is not None and own.chosen == name:
        notes.append(f"chosen: {'; then '.join(own.steps)}")
    if name in decision.dominated:
        beaten_by = join_words(decision.dominated[name])
        notes.append(f"off the front: beaten on every criterion by {beaten_by}")
    elif decision.priority in ("latency", "cost") and name not in decision.acceptable:
        notes.append(
            f"below {decision.quality_reference} by more than the quality tolerance "
            f"({fmt_quality(decision.quality_tolerance)}), and significantly"
        )
    elif decision.priority == "quality" and name not in decision.top_group:
        notes.append(f"significantly below {decision.quality_reference} on quality")
    return notes


def rank(
    models: Sequence[ModelResult], decision: Decision, objectives: Objectives
) -> list[RankedModel]:
    """The models of ``decision`` in its priority's order, each with its figures and standing."""
    own = decision.choice(decision.priority)
    order = own.ranking if own is not None else [m.name for m in models]
    position = {model.name: i for i, model in enumerate(models)}
    by_name = {model.name: model for model in models}
    values = own.values if own is not None else {}
    ranked = []
    for name in order:
        reasons = _figures_text(by_name[name], position[name], objectives)
        if name in values:
            kind = "net value" if decision.priority == "balanced" else "weighted score"
            if decision.priority == "balanced":
                amount = Decimal(repr(values[name]))
                shown = f"{fmt_cost(amount, decision.currency)} per 1,000 requests"
            else:
                shown = f"{values[name]:.2f}"
            reasons.append(f"{kind} {shown}")
        reasons += _standing(name, decision)
        ranked.append(
            RankedModel(
                name=name,
                score=values.get(name),
                eligible=name not in decision.ineligible,
                reasons=reasons,
            )
        )
    return ranked
