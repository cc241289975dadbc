"""The rule of each priority: which model it takes from a set of eligible models, and why.

Each rule starts from a candidate set and applies steps in order; a step keeps the best model on
one criterion and every model the measurement cannot tell from it (:mod:`~.noise`), and the
rule stops as soon as one model is left. The last step takes the higher quality figure, then the
model listed first in the spec, so a choice is always made and always the same.

- quality-first: the top quality group (the best model and those the tests cannot tell from
  it), then the cheapest, then the fastest.
- latency-first: the acceptable models (within the quality tolerance of the best, or not
  significantly below it), then the fastest, then the cheapest.
- cost-first: the acceptable models, then the cheapest, then the fastest.
- balanced: the front, then the highest net value per 1,000 requests (correct answers at the
  value of one, members of the top group all counted at the best model's quality, minus the
  cost), then the fastest.
- custom weights: the front, then the highest weighted sum of min-max scaled criteria.

Every step writes a sentence with the figures that decided it; the decision record keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from modelmeter._figures import fmt_ms, fmt_quality
from modelmeter.decide._facts import fmt_cost, fmt_score, join_words
from modelmeter.decide.noise import Figures, Noise

__all__ = ["Context", "Outcome", "choose"]

_Key = Callable[[Figures], float | Decimal | None]


@dataclass(frozen=True, slots=True)
class Context:
    """What the rules share: the noise relations and the groups of the candidate set."""

    noise: Noise
    front: Sequence[Figures]
    reference: Figures | None
    top_group: Sequence[Figures]
    acceptable: Sequence[Figures]
    tolerance: float
    value_per_correct: Decimal
    currency: str
    quality_label: str
    cost_label: str
    weights: Mapping[str, float] | None = None


@dataclass(slots=True)
class Outcome:
    chosen: Figures | None
    candidates: list[Figures]
    steps: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)


def _names(items: Sequence[Figures]) -> str:
    return join_words([item.name for item in items])


def _cost_text(item: Figures, context: Context) -> str:
    return "unknown" if item.cost is None else fmt_cost(item.cost, context.currency)


def _keep_extreme(
    items: Sequence[Figures], key: _Key, *, higher: bool
) -> tuple[list[Figures], Figures | None]:
    """Models with the best value of ``key`` (missing values are the worst) and the first of
    them; all of ``items`` and None when no model has a value."""
    measured = [item for item in items if key(item) is not None]
    if not measured:
        return list(items), None

    def value(item: Figures) -> float | Decimal:
        found = key(item)
        assert found is not None
        return found

    best_value = max(value(i) for i in measured) if higher else min(value(i) for i in measured)
    kept = [item for item in measured if value(item) == best_value]
    return kept, kept[0]


def _step_cheapest(items: list[Figures], context: Context) -> tuple[list[Figures], str]:
    kept, best = _keep_extreme(items, lambda i: i.cost, higher=False)
    if best is None:
        return kept, f"no model has a cost, so cost does not decide among {_names(items)}"
    others = [i for i in items if i not in kept]
    text = f"the lowest {context.cost_label}: {_names(kept)} ({_cost_text(best, context)}"
    if others:
        text += ", against " + ", ".join(f"{_cost_text(i, context)} for {i.name}" for i in others)
    return kept, text + ")"


def _step_fastest(items: list[Figures], context: Context) -> tuple[list[Figures], str]:
    _, best = _keep_extreme(items, lambda i: i.p95_ms, higher=False)
    if best is None:
        return list(items), f"no model has a P95, so latency does not decide among {_names(items)}"
    kept = [i for i in items if i.p95_ms is not None and context.noise.same_p95(best, i)]
    others = [i for i in items if i not in kept]
    assert best.p95_ms is not None
    text = f"the lowest P95: {best.name} ({fmt_ms(best.p95_ms)} ms)"
    level = [i for i in kept if i is not best]
    if level:
        shown = ", ".join(f"{i.name} ({fmt_ms(i.p95_ms or 0.0)} ms)" for i in level)
        text += f", level within the P95 intervals with {shown}"
    if others:
        shown = ", ".join(
            f"{i.name} ({'no P95' if i.p95_ms is None else fmt_ms(i.p95_ms) + ' ms'})"
            for i in others
        )
        text += f"; slower beyond the intervals: {shown}"
    return kept, text


def _step_quality(items: list[Figures], context: Context) -> tuple[list[Figures], str]:
    kept, best = _keep_extreme(items, lambda i: i.quality, higher=True)
    if best is None or len(kept) == len(items):
        first = items[0]
        return [first], f"nothing left to tell them apart: {first.name}, listed first in the spec"
    assert best.quality is not None
    text = f"the highest {context.quality_label} figure: {best.name} ({fmt_quality(best.quality)})"
    return [best], text


def _answers_value(item: Figures, context: Context, *, top: set[str]) -> Decimal | None:
    """What 1,000 requests' correct answers are worth; the top group at the reference's
    quality, as the tests cannot tell its members apart."""
    reference = context.reference
    quality = item.quality
    if reference is not None and item.name in top:
        quality = reference.quality
    if quality is None:
        return None
    return Decimal(1000) * context.value_per_correct * Decimal(repr(quality))


def _step_net_value(items: list[Figures], context: Context, outcome: Outcome) -> list[Figures]:
    top = {i.name for i in context.top_group}
    answers = {i.name: _answers_value(i, context, top=top) for i in items}

    # Each model's own key, so that no other model changes it: a net value beats a value of
    # answers without a cost (a missing cost counts as the worst), which beats no quality.
    def key(item: Figures) -> tuple[int, Decimal]:
        worth, cost = answers[item.name], item.cost_per_1000
        if worth is None:
            return (0, Decimal(0))
        if cost is None:
            return (1, worth)
        return (2, worth - cost)

    # Only true net values: a model without a cost has no net value to show.
    outcome.values = {i.name: float(key(i)[1]) for i in items if key(i)[0] == 2}
    best = max(key(i) for i in items)
    kept = [i for i in items if key(i) == best]
    value = fmt_cost(context.value_per_correct, context.currency)

    def shown(item: Figures) -> str:
        worth = answers[item.name]
        if worth is None:
            return f"{item.name} (no quality figure)"
        tied = " at the top group's quality" if item.name in top and len(top) > 1 else ""
        cost = item.cost_per_1000
        minus = " − unknown cost" if cost is None else f" − {fmt_cost(cost, context.currency)} cost"
        return f"{item.name} ({fmt_cost(worth, context.currency)} of answers{tied}{minus})"

    ordered = sorted(items, key=key, reverse=True)
    outcome.steps.append(
        f"the highest net value per 1,000 requests, a correct answer counted at {value}: "
        f"{', '.join(shown(i) for i in ordered)}"
    )
    return kept


def _step_weighted(items: list[Figures], context: Context, outcome: Outcome) -> list[Figures]:
    weights = context.weights or {}
    columns: dict[str, list[float | None]] = {
        "quality": [i.quality for i in items],
        "latency": [None if i.p95_ms is None else -i.p95_ms for i in items],
        "cost": [None if i.cost is None else -float(i.cost) for i in items],
    }
    scores = dict.fromkeys((i.name for i in items), 0.0)
    for criterion, column in columns.items():
        present = [v for v in column if v is not None]
        low, high = (min(present), max(present)) if present else (0.0, 0.0)
        for item, v in zip(items, column, strict=True):
            scaled = 0.0 if v is None else (1.0 if high == low else (v - low) / (high - low))
            scores[item.name] += weights.get(criterion, 0.0) * scaled
    outcome.values = scores
    best = max(round(s, 12) for s in scores.values())
    kept = [i for i in items if round(scores[i.name], 12) == best]
    shares = ", ".join(f"{k} {fmt_score(v)}" for k, v in weights.items())
    shown = ", ".join(f"{i.name} {fmt_score(scores[i.name])}" for i in items)
    outcome.steps.append(
        f"the highest weighted score ({shares}; each criterion min-max scaled over the front): "
        f"{shown}"
    )
    return kept


def _describe_start(priority: str, context: Context) -> str:
    reference = context.reference
    if priority in ("balanced", "custom"):
        return f"from the eligible models on the front: {_names(context.front)}"
    if reference is None or reference.quality is None:
        return f"no model has a {context.quality_label} figure, so all of the front compete"
    best = f"{reference.name}'s {fmt_quality(reference.quality)}"
    if priority == "quality":
        partners = [i for i in context.top_group if i is not reference]
        if not partners:
            return f"the best {context.quality_label}: {best}, ahead of every other eligible model"
        evidence = join_words(
            [
                f"{i.name} ({fmt_quality(i.quality or 0.0)}; "
                f"{context.noise.quality_evidence(reference, i)})"
                for i in partners
            ]
        )
        return (
            f"the best {context.quality_label} group: {reference.name} "
            f"({fmt_quality(reference.quality)}) and {evidence}"
        )
    shut_out = [i for i in context.front if i not in context.acceptable]
    text = (
        f"models within {fmt_quality(context.tolerance)} of {best} {context.quality_label} or "
        f"not significantly below it: {_names(context.acceptable)}"
    )
    if shut_out:
        text += f" (not {_names(shut_out)}: significantly lower by more than the tolerance)"
    return text


def choose(priority: str, context: Context) -> Outcome:
    """Apply ``priority``'s rule (quality, latency, cost, balanced or custom) to the front."""
    if not context.front:
        return Outcome(chosen=None, candidates=[])
    if priority == "quality":
        start = list(context.top_group)
    elif priority in ("latency", "cost"):
        start = list(context.acceptable)
    else:
        start = list(context.front)
    outcome = Outcome(chosen=None, candidates=start, steps=[_describe_start(priority, context)])
    items = start
    plain_steps = {
        "quality": (_step_cheapest, _step_fastest),
        "latency": (_step_fastest, _step_cheapest),
        "cost": (_step_cheapest, _step_fastest),
        "balanced": (_step_fastest,),
        "custom": (),
    }[priority]
    if priority == "balanced" and len(items) > 1:
        items = _step_net_value(items, context, outcome)
    elif priority == "custom" and len(items) > 1:
        items = _step_weighted(items, context, outcome)
    for step in plain_steps:
        if len(items) == 1:
            break
        items, text = step(items, context)
        outcome.steps.append(text)
    if len(items) > 1:
        items, text = _step_quality(items, context)
        outcome.steps.append(text)
    outcome.chosen = items[0]
    return outcome
