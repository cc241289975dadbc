"""The capacity plan and the business case of a run, from its decided models and its spec.

The plan is made for the recommended model: one replica carries the highest rate that met the
SLA in an SLA search, else the throughput the load phase measured (the plan says which), at
the instance price of its pricing. The business case weighs switching from the baseline (the
spec's ``business.baseline``, else its first target) to the recommended model, with the lift's
paired interval when both were graded on the same items. Without the spec sections, nothing is
invented: a note says what to declare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from modelmeter._exceptions import ModelmeterError
from modelmeter.production.business import business_case
from modelmeter.production.capacity import plan_capacity
from modelmeter.results import (
    BusinessCase,
    CapacityPlan,
    CapacitySource,
    Interval,
    ModelResult,
    PairComparison,
    Report,
)
from modelmeter.spec import Spec
from modelmeter.spec.pricing import InstancePricing
from modelmeter.spec.production import CapacitySpec

__all__ = ["Decided", "ProductionPlans", "production_plans"]


# Without a declared peak the plan is made for this one, to show the scale, and says so.
REFERENCE_PEAK_RPS = 1000.0


@dataclass(frozen=True)
class Decided:
    """What the plans need of a run's decision: the models, the one chosen, the pairs compared."""

    models: Sequence[ModelResult]
    chosen: str | None
    comparisons: Sequence[PairComparison]

    @classmethod
    def from_report(cls, report: Report) -> Decided:
        return cls(report.models, report.recommendation.chosen, report.comparisons)


@dataclass
class ProductionPlans:
    capacity: CapacityPlan | None = None
    capacity_model: str | None = None
    capacity_reference: bool = False
    business: BusinessCase | None = None
    notes: list[str] = field(default_factory=list)


def _chosen(decided: Decided) -> ModelResult | None:
    return next((m for m in decided.models if m.name == decided.chosen), None)


def _per_replica(model: ModelResult) -> tuple[float, CapacitySource] | None:
    sweep = model.sweep
    if sweep is not None and sweep.kind == "sla_search" and sweep.best is not None:
        return sweep.best.value, "sla_search"
    if model.throughput_rps:
        within = model.cost.within_sla is True
        return model.throughput_rps, "throughput_within_sla" if within else "throughput"
    return None


def _capacity(decided: Decided, spec: Spec, plans: ProductionPlans) -> None:
    chosen = _chosen(decided)
    if chosen is None:
        return
    if chosen.cost.basis == "api":
        # A hosted API has no replicas, instances or autoscaler of ours to size.
        plans.notes.append(
            f"No capacity plan: {chosen.name} is a hosted API priced per token or request, so "
            "there are no replicas or instances to size."
        )
        return
    capacity = _per_replica(chosen)
    if capacity is None:
        plans.notes.append(f"No capacity plan: {chosen.name} has no measured throughput.")
        return
    rate, source = capacity
    section = spec.capacity
    if section is None:
        plans.capacity_reference = True
        plans.notes.append(
            f"The capacity plan is for a reference peak of {REFERENCE_PEAK_RPS:,.0f} req/s; "
            "declare capacity.peak_rps for yours (and capacity.image for the Kubernetes "
            "manifests)."
        )
        section = CapacitySpec(peak_rps=REFERENCE_PEAK_RPS)
    target = next(t for t in spec.targets if t.name == chosen.name)
    pricing = target.pricing if isinstance(target.pricing, InstancePricing) else None
    try:
        plans.capacity = plan_capacity(
            rate,
            source=source,
            peak_rps=section.peak_rps,
            headroom=section.headroom,
            min_replicas=section.min_replicas,
            max_replicas=section.max_replicas,
            price_per_hour=pricing.price_per_hour if pricing is not None else None,
            currency=pricing.currency if pricing is not None else None,
            hours_per_month=section.hours_per_month,
            target_utilisation=section.target_utilisation,
            average_rps=section.average_rps,
        )
        plans.capacity_model = chosen.name
    except ModelmeterError as exc:
        plans.notes.append(f"No capacity plan: {exc}")


def _accuracy(model: ModelResult) -> tuple[float, Interval | None] | None:
    if model.quality is not None:
        return model.quality.accuracy, model.quality.intervals.get("accuracy")
    if model.task_score is not None:
        return model.task_score, model.task_score_ci
    return None


def _lift_interval(
    comparisons: Sequence[PairComparison], baseline: str, candidate: str
) -> tuple[float, float] | None:
    for pair in comparisons:
        if pair.method != "mcnemar-exact":
            continue  # a paired bootstrap compares mean graded scores, not the accuracy lift
        if (pair.a, pair.b) == (candidate, baseline):
            return pair.interval.low, pair.interval.high
        if (pair.a, pair.b) == (baseline, candidate):
            return -pair.interval.high, -pair.interval.low
    return None


def _monthly_cost(model: ModelResult, requests: Decimal) -> tuple[Decimal | None, str | None]:
    per_1000 = model.cost.per_1000_requests
    if per_1000 is None:
        return None, None
    return per_1000 * requests / Decimal(1000), model.cost.currency


def _business(decided: Decided, spec: Spec, plans: ProductionPlans) -> None:
    section = spec.business
    chosen = _chosen(decided)
    if chosen is None:
        return
    if section is None:
        plans.notes.append(_break_even_value(decided, spec, chosen))
        return
    baseline_name = section.baseline or spec.targets[0].name
    baseline = next((m for m in decided.models if m.name == baseline_name), None)
    if baseline is None:
        plans.notes.append(f"No business case: no model named '{baseline_name}' in the run.")
        return
    if baseline is chosen:
        plans.notes.append(
            f"No business case: the recommended model is the baseline ({baseline_name}), so "
            "there is nothing to switch."
        )
        return
    base, cand = _accuracy(baseline), _accuracy(chosen)
    if base is None or cand is None:
        plans.notes.append("No business case: quality was not measured for both models.")
        return
    requests = Decimal(section.monthly_requests)
    base_cost, base_currency = _monthly_cost(baseline, requests)
    cand_cost, cand_currency = _monthly_cost(chosen, requests)
    try:
        plans.business = business_case(
            value_per_correct=section.value_per_correct,
            currency=section.currency,
            monthly_requests=requests,
            baseline_accuracy=base[0],
            candidate_accuracy=cand[0],
            monthly_cost_baseline=base_cost,
            monthly_cost_candidate=cand_cost,
            baseline_interval=(base[1].low, base[1].high) if base[1] else None,
            candidate_interval=(cand[1].low, cand[1].high) if cand[1] else None,
            lift_interval=_lift_interval(decided.comparisons, baseline.name, chosen.name),
            baseline_cost_currency=base_currency,
            candidate_cost_currency=cand_currency,
            one_off_cost=section.one_off_cost,
            horizon_months=section.horizon_months,
            value_per=section.value_per,
            baseline=baseline.name,
            candidate=chosen.name,
        )
    except ModelmeterError as exc:
        plans.notes.append(f"No business case: {exc}")


def _break_even_value(decided: Decided, spec: Spec, chosen: ModelResult) -> str:
    """Without a declared value: what a correct answer must be worth for the switch to pay."""
    declare = "declare business.value_per_correct and monthly_requests for the full case"
    baseline = next((m for m in decided.models if m.name == spec.targets[0].name), None)
    if baseline is None or baseline is chosen:
        return f"No business case: the recommended model is the first target; {declare}."
    base, cand = _accuracy(baseline), _accuracy(chosen)
    base_cost, cand_cost = baseline.cost.per_1000_requests, chosen.cost.per_1000_requests
    if base is None or cand is None or base_cost is None or cand_cost is None:
        return f"No business case: quality or cost was not measured for both models; {declare}."
    if baseline.cost.currency != chosen.cost.currency:
        return f"No business case: the two models are priced in different currencies; {declare}."
    lift = cand[0] - base[0]
    extra = float((cand_cost - base_cost) / Decimal(1000))  # per request
    money = chosen.cost.currency
    pair = f"Switching from {baseline.name} to {chosen.name}"
    if lift == 0 and extra > 0:
        return f"{pair} costs {extra:.3g} {money} more per request at the same accuracy; {declare}."
    if lift < 0 and extra == 0:
        return f"{pair} costs the same for {lift:+.4f} in accuracy; {declare}."
    if lift > 0 and extra > 0:
        return (
            f"{pair} pays when a correct answer is worth more than {extra / lift:.3g} {money} "
            f"(extra cost {extra:.3g} {money} per request / lift {lift:+.4f}); {declare}."
        )
    if lift >= 0 and extra <= 0:
        return (
            f"{pair} costs {-extra:.3g} {money} less per request with a lift of {lift:+.4f}: it "
            f"pays at any value of a correct answer; {declare}."
        )
    if lift < 0 and extra < 0:
        return (
            f"{pair} saves {-extra:.3g} {money} per request for {lift:+.4f} in accuracy: it pays "
            f"while a correct answer is worth less than {extra / lift:.3g} {money}; {declare}."
        )
    return f"{pair} costs more for less accuracy; {declare}."


def production_plans(decided: Decided, spec: Spec) -> ProductionPlans:
    """The capacity plan and business case for ``report``'s recommended model."""
    plans = ProductionPlans()
    _capacity(decided, spec, plans)
    _business(decided, spec, plans)
    return plans
