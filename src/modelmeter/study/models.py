"""One target's results: its measurements turned into a ModelResult, with cost and SLA check."""

from __future__ import annotations

from modelmeter.decide import check_sla
from modelmeter.economics import cost_per_1000_requests
from modelmeter.economics.catalogue import Catalogue
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.stats import summarize_phase
from modelmeter.results import CostResult, LoadResult, ModelResult, SlaCheck
from modelmeter.spec import Spec, TargetSpec
from modelmeter.spec.pricing import ApiPricing, InstancePricing
from modelmeter.spec.sla import empty_window
from modelmeter.study.phases import Measured
from modelmeter.tasks.results import economics_for, pooled_score, task_results

__all__ = ["model_result"]


def model_result(
    spec: Spec,
    target_spec: TargetSpec,
    measured: Measured,
    pricing: InstancePricing | ApiPricing | None = None,
    catalogue: Catalogue | None = None,
    judge_pricing: InstancePricing | ApiPricing | None = None,
) -> ModelResult:
    headline = measured.load.headline
    phase = headline.summary if headline is not None else None
    if phase is None and measured.load.current is not None and len(measured.load.current):
        # Interrupted inside a level: summarise what that level had measured.
        phase = summarize_phase(measured.load.current, LoadPlan.from_section(spec.load, spec.seed))
    latency = phase.response_time_ms if phase else None
    throughput = phase.throughput_rps if phase else None
    provisional = ModelResult(
        items=measured.items,
        name=target_spec.name,
        target_kind=target_spec.kind,
        description=target_spec.description,
        quality=measured.quality,
        latency_ms=latency,
        throughput_rps=throughput,
        load=phase.load if phase else None,
        sweep=measured.load.series,
        cost=CostResult(currency="", per_1000_requests=None, basis="none", explanation=""),
        sla=SlaCheck(met=True),
    )
    stats = phase.measured if phase is not None else None
    if measured.tasks:
        provisional = _with_tasks(provisional, spec, target_spec, measured, pricing, catalogue)
        provisional = provisional.model_copy(
            update={"tasks": task_results(measured.tasks, pricing, judge_pricing)}
        )
    # Whether the throughput the cost is computed at met the SLA: every limit but the cost's own.
    without_cost_limit = spec.objectives.sla.model_copy(update={"max_cost_per_1000": None})
    at_throughput = check_sla(
        provisional, without_cost_limit, quality_metric=spec.objectives.quality_metric
    )
    cost = cost_per_1000_requests(
        pricing,
        throughput_rps=throughput,
        within_sla=at_throughput.met,
        requests=stats.completed if stats else 0,
        input_tokens=stats.input_tokens if stats else None,
        output_tokens=stats.output_tokens if stats else None,
    )
    cost = _capacity_basis(cost, spec, measured, phase.load if phase is not None else None)
    # Checked with everything known: the cost limit, and for LLM runs the pooled score.
    sla = check_sla(
        provisional.model_copy(update={"cost": cost}),
        spec.objectives.sla,
        quality_metric=spec.objectives.quality_metric,
    )
    if measured.start_error:
        sla.met = False
        sla.violations.append(f"did not start: {measured.start_error}")
    empty = empty_window(stats.requests, stats.completed) if stats is not None else None
    if empty is not None:
        sla.met = False
        sla.violations.append(empty)
    return provisional.model_copy(update={"cost": cost, "sla": sla})


def _capacity_basis(
    cost: CostResult, spec: Spec, measured: Measured, load: LoadResult | None
) -> CostResult:
    """Say whether a self-hosted cost rests on the target's capacity.

    A closed loop, a sweep or an SLA search drives the target as fast as it goes (within the
    SLA where one is set). One open-loop phase only shows the target kept up with the rate
    offered: the cost per 1,000 requests at that rate is an upper bound, not the cost.
    """
    if cost.basis != "instance" or cost.per_1000_requests is None:
        return cost
    single_open_loop = spec.load.mode != "concurrency" and measured.load.series is None
    saturated = load is not None and load.verdict == "target saturated"
    if not single_open_loop or saturated:
        return cost.model_copy(update={"at_capacity": True})
    offered = f"{spec.load.rate_rps:g} req/s" if spec.load.rate_rps else "the offered rate"
    note = (
        f" Not at capacity: the throughput is what one open-loop phase at {offered} offered, "
        "so this is an upper bound; a closed-loop phase, a sweep or load.search measures "
        "the capacity."
    )
    return cost.model_copy(update={"at_capacity": False, "explanation": cost.explanation + note})


def _with_tasks(
    model: ModelResult,
    spec: Spec,
    target_spec: TargetSpec,
    measured: Measured,
    pricing: InstancePricing | ApiPricing | None,
    catalogue: Catalogue | None,
) -> ModelResult:
    score, interval = pooled_score(measured.tasks)
    llm_cost, budget, breakeven, notes = economics_for(
        measured.tasks, pricing, spec.economics, model.throughput_rps
    )
    measured.notes.extend(f"{target_spec.name}: {note}" for note in notes)
    window = None
    key = getattr(target_spec.pricing, "model", None)
    if catalogue is not None and isinstance(key, str) and key in catalogue.models:
        window = catalogue.models[key].context_window
    return model.model_copy(
        update={
            "task_score": score,
            "task_score_ci": interval,
            "llm_cost": llm_cost,
            "budget": budget,
            "break_even": breakeven,
            "context_window": window,
        }
    )
