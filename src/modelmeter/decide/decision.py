"""The one decision of a run: hard constraints, the front, the quality groups, a rule per priority.

:func:`decide` is the only place a model is chosen. It runs in four stages, each of which a
reviewer can redo by hand from the report (docs/decisions.md):

1. Hard constraints: a model that breaks an SLA limit (latency, errors, minimum quality, cost)
   or whose recorded check failed is out, whatever its other figures.
2. The front: an eligible model that another eligible model matches or beats on quality, P95
   and cost, and beats on one, is out (missing figures count as the worst).
3. The quality groups: the reference is the front's best quality figure; the top group is the
   reference and every front model the tests cannot tell from it; the acceptable set adds the
   models within ``quality_tolerance`` of it.
4. The rule of each priority (:mod:`~.rules`) picks from those sets.

Only eligible models enter stages 2-4, so an SLA breaker can neither be chosen nor move the
choice between the others; a model off the front can neither. The ranking is the rule applied
again to the models not yet ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from modelmeter.decide._facts import QUALITY_LABELS, check_names_and_currency
from modelmeter.decide.noise import Figures, Noise, figures_of
from modelmeter.decide.pareto import ParetoPoint, dominates
from modelmeter.decide.rules import Context, choose
from modelmeter.decide.sla import sla_violations
from modelmeter.results import Decision, ModelResult, PairComparison, PriorityChoice
from modelmeter.spec.objectives import DEFAULT_VALUE_PER_CORRECT, Objectives

__all__ = ["PRINCIPLE", "PRIORITY_ORDER", "RULES", "decide", "eligibility"]

PRIORITY_ORDER = ("quality", "latency", "cost", "balanced")

RULES = {
    "quality": "the top quality group (the best model and those the tests cannot tell from it), "
    "then the cheapest, then the fastest",
    "latency": "the fastest model within the quality tolerance of the best (or not "
    "significantly below it), then the cheapest",
    "cost": "the cheapest model within the quality tolerance of the best (or not significantly "
    "below it), then the fastest",
    "balanced": "the highest net value per 1,000 requests (correct answers at their stated "
    "value, minus the cost), then the fastest",
    "custom": "the highest weighted sum of quality, P95 and cost, each min-max scaled over the "
    "eligible models on the front",
}

PRINCIPLE = (
    "Hard constraints first: a model that breaks the SLA is never chosen. Then only models no "
    "other eligible model beats on every criterion. Then each priority applies its own rule, "
    "one criterion at a time, and a difference the measurement cannot tell from noise (a "
    "paired test that is not significant, overlapping P95 intervals) never decides: the next "
    "criterion does. A model that breaks the SLA or is beaten on every criterion cannot change "
    "the choice; nor can another model that is not chosen, unless it is the best on quality or "
    "the only model beating another."
)


def eligibility(model: ModelResult, objectives: Objectives) -> list[str]:
    """The hard constraints ``model`` breaks, in words (empty when it is eligible)."""
    found = sla_violations(model, objectives.sla, objectives.quality_metric)
    broken = [
        v.describe() + (f" ({v.describe_excess()})" if v.value is not None else "") for v in found
    ]
    described = {v.describe() for v in found}
    extra = [text for text in model.sla.violations if text not in described]
    if not model.sla.met and not extra and not found:
        extra = ["its recorded SLA check failed"]
    return broken + extra


def _point(item: Figures) -> ParetoPoint:
    return ParetoPoint(name=item.name, quality=item.quality, p95_ms=item.p95_ms, cost=item.cost)


def _context(
    eligible: Sequence[Figures],
    noise: Noise,
    objectives: Objectives,
    value: Decimal,
    currency: str,
) -> tuple[Context, dict[str, list[str]]]:
    dominated = {
        item.name: [o.name for o in eligible if dominates(_point(o), _point(item))]
        for item in eligible
    }
    front = [item for item in eligible if not dominated[item.name]]
    measured = [item for item in front if item.quality is not None]
    reference = max(measured, key=lambda i: (i.quality, -i.position)) if measured else None
    if reference is None:
        top, acceptable = list(front), list(front)
    else:
        assert reference.quality is not None
        top = [i for i in front if i.quality is not None and noise.same_quality(reference, i)]
        floor = reference.quality - objectives.quality_tolerance - 1e-12
        acceptable = [
            i for i in front if i in top or (i.quality is not None and i.quality >= floor)
        ]
    per_correct = objectives.cost_metric == "per_correct_answer"
    context = Context(
        noise=noise,
        front=front,
        reference=reference,
        top_group=top,
        acceptable=acceptable,
        tolerance=objectives.quality_tolerance,
        value_per_correct=value,
        currency=currency,
        quality_label=QUALITY_LABELS[objectives.quality_metric],
        cost_label="cost per correct answer" if per_correct else "cost per 1,000 requests",
        weights=objectives.weights,
    )
    return context, {k: v for k, v in dominated.items() if v}


def _ranking(
    priority: str,
    eligible: Sequence[Figures],
    noise: Noise,
    objectives: Objectives,
    value: Decimal,
    currency: str,
) -> list[str]:
    left = list(eligible)
    order: list[str] = []
    while left:
        context, _ = _context(left, noise, objectives, value, currency)
        chosen = choose(priority, context).chosen
        assert chosen is not None
        order.append(chosen.name)
        left = [item for item in left if item is not chosen]
    return order


def decide(
    models: Sequence[ModelResult],
    objectives: Objectives,
    comparisons: Sequence[PairComparison] = (),
    *,
    value_per_correct: Decimal | None = None,
    value_source: str = "",
) -> Decision:
    """Decide, for every priority, which model to choose and record why.

    ``comparisons`` are the run's paired tests (they decide which quality differences are
    noise); ``value_per_correct`` is what balanced counts a correct answer as (default: the
    objectives', else :data:`~modelmeter.spec.objectives.DEFAULT_VALUE_PER_CORRECT`), and
    ``value_source`` says where it came from. Raises
    :class:`~modelmeter.economics.CurrencyMismatchError` when costs are in more than one
    currency, and ``ValueError`` for duplicate model names.
    """
    currency = check_names_and_currency(models) or ""
    if objectives.value_per_correct is not None:
        value, source = objectives.value_per_correct, "objectives.value_per_correct"
    elif value_per_correct is not None:
        value, source = value_per_correct, value_source or "given"
    else:
        value, source = DEFAULT_VALUE_PER_CORRECT, "the default (docs/decisions.md)"
    noise = Noise(comparisons)
    metric, cost_metric = objectives.quality_metric, objectives.cost_metric
    ineligible: dict[str, list[str]] = {}
    eligible: list[Figures] = []
    for position, model in enumerate(models):
        broken = eligibility(model, objectives)
        if broken:
            ineligible[model.name] = broken
        else:
            eligible.append(figures_of(model, position, metric, cost_metric))
    context, dominated = _context(eligible, noise, objectives, value, currency)
    priorities = [*PRIORITY_ORDER, *(["custom"] if objectives.weights is not None else [])]
    choices = []
    for priority in priorities:
        outcome = choose(priority, context)
        order = _ranking(priority, eligible, noise, objectives, value, currency)
        choices.append(
            PriorityChoice(
                priority=priority,
                rule=RULES[priority],
                chosen=outcome.chosen.name if outcome.chosen is not None else None,
                candidates=[item.name for item in outcome.candidates],
                steps=outcome.steps,
                ranking=[*order, *ineligible],
                values=outcome.values,
            )
        )
    label = objectives.label
    chosen = next(c.chosen for c in choices if c.priority == label)
    return Decision(
        principle=PRINCIPLE,
        priority=label,
        chosen=chosen,
        eligible=[item.name for item in eligible],
        ineligible=ineligible,
        front=[item.name for item in context.front],
        dominated=dominated,
        quality_reference=context.reference.name if context.reference is not None else None,
        top_group=[item.name for item in context.top_group],
        acceptable=[item.name for item in context.acceptable],
        quality_tolerance=objectives.quality_tolerance,
        value_per_correct=value,
        value_source=source,
        currency=currency,
        choices=choices,
    )
