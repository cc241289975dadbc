"""Ranking under SLA constraints by a weighted score over quality, latency and cost.

Each criterion is normalised across the models with min-max scaling to [0, 1]: the best measured
value scores 1 and the worst 0 (latency is response-time P95 and cost is per 1,000 requests, both
inverted so that lower is better). When every measured value is equal, each scores 1. A model
without a figure for a criterion scores 0 on it, the same as the worst measured value, so a missing
figure is never an advantage. The score is the weighted sum, in [0, 1].

Models that break an SLA limit are not eligible: they come after every eligible model, each group
ordered by score (ties keep the input order). Normalisation runs over all models, eligible or
not, so a model's score does not depend on which others broke the SLA.

Eligibility reads both the objectives' SLA, checked afresh on each model's figures, and the
model's own recorded ``sla`` check, which can carry failures no figure shows (a target that did
not start). To rank stored results under a different SLA, refresh each model's ``sla`` with
:func:`~modelmeter.decide.check_sla` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from modelmeter._figures import fmt_ms, fmt_quality
from modelmeter.decide._facts import (
    QUALITY_LABELS,
    check_names_and_currency,
    cost_of,
    fmt_cost,
    fmt_score,
    p95_of,
    quality_of,
)
from modelmeter.decide.sla import sla_violations
from modelmeter.results import ModelResult, RankedModel
from modelmeter.spec.objectives import CRITERIA, Objectives, QualityMetric
from modelmeter.spec.sla import SlaViolation

__all__ = ["normalise", "rank"]


def normalise(values: Sequence[float | None], *, higher_is_better: bool) -> list[float]:
    """Min-max scale to [0, 1], best = 1; all equal -> 1 each; missing (None) -> 0."""
    present = [value for value in values if value is not None]
    if not present:
        return [0.0 for _ in values]
    low, high = min(present), max(present)
    if high == low:
        return [0.0 if value is None else 1.0 for value in values]
    span = high - low
    scaled = []
    for value in values:
        if value is None:
            scaled.append(0.0)
        elif higher_is_better:
            scaled.append((value - low) / span)
        else:
            scaled.append((high - value) / span)
    return scaled


@dataclass(frozen=True, slots=True)
class _Scored:
    model: ModelResult
    position: int
    quality: float | None
    p95_ms: float | None
    cost: Decimal | None
    normalised: Mapping[str, float]
    score: float
    violations: list[SlaViolation]
    recorded: list[str]
    """Failures in the model's recorded SLA check that the figures do not show."""
    tied_with: tuple[str, ...] = ()
    """Models the paired tests cannot tell apart from this one on quality."""

    @property
    def eligible(self) -> bool:
        return not self.violations and not self.recorded


def _recorded_failures(model: ModelResult, found: Sequence[SlaViolation]) -> list[str]:
    described = {violation.describe() for violation in found}
    extra = [text for text in model.sla.violations if text not in described]
    if not model.sla.met and not extra and not found:
        extra = ["its recorded SLA check failed"]
    return extra


def _tied_quality(
    models: Sequence[ModelResult], quality: Sequence[float | None], ties: Sequence[Sequence[str]]
) -> tuple[list[float | None], list[tuple[str, ...]]]:
    """Quality as the ranking scores it: the mean of each tie group for its members.

    Min-max normalisation would otherwise stretch a difference the paired tests call noise
    into the full range of the quality criterion.
    """
    value = {model.name: q for model, q in zip(models, quality, strict=True)}
    group_of = {name: tuple(group) for group in ties for name in group}
    scored: list[float | None] = []
    partners: list[tuple[str, ...]] = []
    for model, q in zip(models, quality, strict=True):
        group = [n for n in group_of.get(model.name, ()) if value.get(n) is not None]
        if q is None or len(group) < 2:
            scored.append(q)
            partners.append(())
            continue
        scored.append(sum(value[n] or 0.0 for n in group) / len(group))
        partners.append(tuple(n for n in group if n != model.name))
    return scored, partners


def _score(
    models: Sequence[ModelResult],
    objectives: Objectives,
    weights: Mapping[str, float],
    ties: Sequence[Sequence[str]] = (),
) -> list[_Scored]:
    """Score every model (input order) with ``weights``; SLA from ``objectives``; models in one
    tie group count as equal on quality."""
    check_names_and_currency(models)
    metric = objectives.quality_metric
    quality = [quality_of(model, metric) for model in models]
    scored_quality, partners = _tied_quality(models, quality, ties)
    p95 = [p95_of(model) for model in models]
    cost = [cost_of(model, objectives.cost_metric) for model in models]
    columns = {
        "quality": normalise(scored_quality, higher_is_better=True),
        "latency": normalise(p95, higher_is_better=False),
        # float is exact enough to scale; the amounts themselves stay Decimal.
        "cost": normalise([None if c is None else float(c) for c in cost], higher_is_better=False),
    }
    scored = []
    for i, model in enumerate(models):
        violations = sla_violations(model, objectives.sla, metric)
        normalised: dict[str, float] = {c: columns[c][i] for c in CRITERIA}
        score = sum(weights.get(criterion, 0.0) * normalised[criterion] for criterion in CRITERIA)
        scored.append(
            _Scored(
                model=model,
                position=i,
                quality=quality[i],
                p95_ms=p95[i],
                cost=cost[i],
                normalised=normalised,
                score=score,
                violations=violations,
                recorded=_recorded_failures(model, violations),
                tied_with=partners[i],
            )
        )
    return scored


def _ordered(scored: Sequence[_Scored]) -> list[_Scored]:
    # Rounded so that float noise in equal weighted sums does not decide a tie.
    return sorted(scored, key=lambda s: (not s.eligible, -round(s.score, 12), s.position))


def _reasons(
    item: _Scored,
    weights: Mapping[str, float],
    metric: QualityMetric,
    cost_metric: str = "per_1000_requests",
) -> list[str]:
    def term(criterion: str) -> str:
        return (
            f"normalised {fmt_score(item.normalised[criterion])} × weight "
            f"{fmt_score(weights.get(criterion, 0.0))}"
        )

    label = QUALITY_LABELS[metric]
    quality = (
        f"{label} {fmt_quality(item.quality)}"
        if item.quality is not None
        else (f"{label} not measured")
    )
    latency = f"P95 {fmt_ms(item.p95_ms)} ms" if item.p95_ms is not None else "P95 not measured"
    model_cost = item.model.cost
    if item.cost is not None:
        per = "per correct answer" if cost_metric == "per_correct_answer" else "per 1,000 requests"
        cost = f"cost {fmt_cost(item.cost, model_cost.currency)} {per}"
        if model_cost.within_sla is False:
            cost += " (at a throughput beyond the SLA)"
    else:
        cost = "cost unknown"
    if item.tied_with:
        quality += (
            f", not distinguishable from {', '.join(item.tied_with)} (paired test, Holm-adjusted)"
            ": scored as their group's mean"
        )
    reasons = [
        f"{quality}: {term('quality')}",
        f"{latency}: {term('latency')}",
        f"{cost}: {term('cost')}",
        f"score {fmt_score(item.score)}",
    ]
    reasons.extend(f"breaks the SLA: {violation.describe()}" for violation in item.violations)
    reasons.extend(f"breaks the SLA: {failure}" for failure in item.recorded)
    return reasons


def rank(
    models: Sequence[ModelResult], objectives: Objectives, ties: Sequence[Sequence[str]] = ()
) -> list[RankedModel]:
    """Rank ``models`` by the weighted score of ``objectives``, SLA-eligible models first.

    ``reasons`` gives each criterion's figure, its normalised value and weight, the score, and
    each broken SLA limit. ``ties`` are the tie groups of the paired comparisons
    (:func:`~modelmeter.decide.paired.compare_models`): their members count as equal on quality.
    Raises :class:`~modelmeter.economics.CurrencyMismatchError` when costs
    are in more than one currency, and ``ValueError`` for duplicate model names.
    """
    weights = objectives.resolved_weights()
    return [
        RankedModel(
            name=item.model.name,
            score=item.score,
            eligible=item.eligible,
            reasons=_reasons(item, weights, objectives.quality_metric, objectives.cost_metric),
        )
        for item in _ordered(_score(models, objectives, weights, ties))
    ]
