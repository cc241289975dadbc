"""The Report of a run, assembled in one place from what was measured: the models, the
decision, the LLM parts (tasks, prices, routing), the production plans and the advice."""

from __future__ import annotations

import os
import platform
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelmeter._version import __version__
from modelmeter.advice import RunFacts, advise
from modelmeter.data.sample import Sample
from modelmeter.decide import decide, pareto_front, rank, recommend
from modelmeter.decide.paired import compare_models
from modelmeter.definitions import DEFINITIONS
from modelmeter.economics.catalogue import Catalogue
from modelmeter.load.outcome import OutcomeSink
from modelmeter.production.kubernetes import deployment_manifests, kubernetes_name
from modelmeter.results import Decision, HostFacts, ModelResult, Report, RouteChoiceResult
from modelmeter.routing import Candidate, RoutingDecision, choose_routes
from modelmeter.spec import Spec
from modelmeter.spec.pricing import ApiPricing, InstancePricing
from modelmeter.study.models import model_result
from modelmeter.study.options import TaskItems
from modelmeter.study.phases import Measured
from modelmeter.study.production import Decided, ProductionPlans, production_plans
from modelmeter.study.result import (
    CLAUDE_CODE_ROUTER_FILE,
    KUBERNETES_FILE,
    LITELLM_CONFIG_FILE,
    LOAD_PHASE,
    QUALITY_PHASE,
    RunResult,
    without_side_files,
)
from modelmeter.tasks.results import routing_candidate

__all__ = ["PLACEHOLDER_IMAGE", "Pricing", "host_facts", "new_run_id", "run_result"]

# Manifests need an image; without one the plan's files carry this reserved, unresolvable name.
PLACEHOLDER_IMAGE = "registry.invalid/modelmeter-serve:replace-me"

Pricing = InstancePricing | ApiPricing | None


def host_facts() -> HostFacts:
    return HostFacts(
        python=platform.python_version(),
        platform=platform.platform(terse=True),
        cpu_count=os.cpu_count() or 1,
        machine=platform.machine(),
    )


def new_run_id() -> str:
    """Sortable by time, unique: 20261122-120634-3f9a1c."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


@dataclass
class _LlmParts:
    """What an LLM run adds to the report: its tasks, the catalogue, the routing decision."""

    dataset: dict[str, str | int] = field(default_factory=dict)
    pricing_source: str | None = None
    routes: list[RouteChoiceResult] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decision: RoutingDecision | None = None
    candidates: list[Candidate] = field(default_factory=list)


def _llm_parts(
    spec: Spec,
    models: Sequence[ModelResult],
    measured: Mapping[str, Measured],
    catalogue: Catalogue | None,
    decision: Decision,
) -> _LlmParts:
    parts = _LlmParts(
        dataset={
            f"task {task.name}": f"{task.kind}, {task.dataset.path.name}" for task in spec.tasks
        },
        pricing_source=catalogue.describe() if catalogue is not None else None,
    )
    by_name = {t.name: t for t in spec.targets}
    for model in models:
        candidate = routing_candidate(model, by_name[model.name], measured[model.name].tasks)
        if candidate is not None and model.task_score is not None:
            parts.candidates.append(candidate)
    if spec.routing is not None and parts.candidates:
        parts.decision = choose_routes(
            parts.candidates,
            long_context_threshold=spec.routing.long_context_threshold,
            recommended=decision.chosen,
            recommended_why=f"the model chosen for {decision.priority} use by its rule "
            "(see the recommendation)",
        )
        parts.routes = [
            RouteChoiceResult(route=c.route, model=c.model_name, reason=c.reason)
            for c in parts.decision.routes
        ]
        names = {"claude-code-router": CLAUDE_CODE_ROUTER_FILE, "litellm": LITELLM_CONFIG_FILE}
        parts.files = [names[f] for f in spec.routing.export]
    elif spec.routing is not None:
        parts.notes.append("No routing configuration: no openai target answered any task.")
    return parts


def _manifests(spec: Spec, plans: ProductionPlans) -> list[dict[str, Any]]:
    """Kubernetes manifests for a plan made for a declared peak (never for the reference one)."""
    section = spec.capacity
    if plans.capacity is None or section is None or plans.capacity_reference:
        return []
    if section.image is None:
        plans.notes.append(
            f"{KUBERNETES_FILE} names no real image: set capacity.image to your model "
            "server's image."
        )
    return deployment_manifests(
        plans.capacity,
        name=kubernetes_name(plans.capacity_model or "model"),
        image=section.image or PLACEHOLDER_IMAGE,
        port=section.container_port,
        cpu_request=section.cpu,
        memory_request=section.memory,
    )


def _stated_value(spec: Spec, models: Sequence[ModelResult]) -> dict[str, Any]:
    """The business section's value of a correct answer, for balanced, when it is in the
    currency the models are priced in (amounts are never converted)."""
    business = spec.business
    if business is None or business.value_per != "correct":
        return {}
    currencies = {m.cost.currency for m in models if m.cost.per_1000_requests is not None}
    if currencies and currencies != {business.currency}:
        return {}
    return {
        "value_per_correct": business.value_per_correct,
        "value_source": "business.value_per_correct",
    }


def run_result(
    spec: Spec,
    measured: Mapping[str, Measured],
    samples: Sequence[Sample],
    tasks: TaskItems,
    *,
    catalogue: Catalogue | None,
    pricing: Mapping[str, Pricing],
    judge_pricing: Pricing,
    run_id: str | None,
    interrupted: bool,
) -> RunResult:
    """The report of everything measured (partial when ``interrupted``), and the files to
    write beside it."""
    objectives = spec.objectives
    models = [
        model_result(spec, t, measured[t.name], pricing[t.name], catalogue, judge_pricing)
        for t in spec.targets
    ]
    comparisons, ties = compare_models(models, seed=spec.seed)
    decision = decide(models, objectives, comparisons, **_stated_value(spec, models))
    ranking = rank(models, decision, objectives)
    pareto = pareto_front(models, quality_metric=objectives.quality_metric)
    recommendation = recommend(models, decision, pareto, objectives, comparisons)
    notes = []
    if interrupted:
        notes.append("The run was interrupted; figures cover only what was measured before.")
    notes += [note for t in spec.targets for note in measured[t.name].notes]
    llm = (
        _llm_parts(spec, models, measured, catalogue, decision)
        if spec.task == "llm"
        else _LlmParts()
    )
    plans = production_plans(Decided(models, recommendation.chosen, comparisons), spec)
    manifests = _manifests(spec, plans)
    report = Report(
        tool_version=__version__,
        run_id=run_id or new_run_id(),
        name=spec.name,
        created_at=datetime.now(UTC),
        spec_hash=spec.fingerprint(),
        seed=spec.seed,
        host=host_facts(),
        task=spec.task,
        dataset={
            "path": spec.dataset.path.name if spec.dataset is not None else "(task prompts)",
            "items": len(samples),
            "labelled": sum(1 for s in samples if s.label is not None),
            **llm.dataset,
        },
        models=models,
        pareto=pareto,
        ranking=ranking,
        recommendation=recommendation,
        decision=decision,
        sla={k: v for k, v in objectives.sla.model_dump().items() if v is not None},
        priority_weights={"custom": dict(objectives.weights)} if objectives.weights else {},
        definitions=dict(DEFINITIONS),
        notes=[*notes, *llm.notes, *plans.notes],
        interrupted=interrupted,
        comparisons=comparisons,
        tie_groups=ties,
        quality_metric=objectives.quality_metric,
        pricing_source=llm.pricing_source,
        routing=llm.routes,
        routing_files=llm.files,
        capacity=plans.capacity,
        capacity_model=plans.capacity_model,
        capacity_reference=plans.capacity_reference,
        manifest_file=KUBERNETES_FILE if manifests else None,
        business_case=plans.business,
    )
    # The advice reads the whole report, so it comes last.
    if spec.task == "llm":
        inputs = [s.input for _task, items in tasks for s in items]
    else:
        inputs = [s.input for s in samples]
    report.advice = advise(report, RunFacts(inputs=inputs))
    if interrupted and (llm.decision is not None or manifests):
        # Deployable files from partial measurements would route traffic on half the evidence.
        report = without_side_files(
            report,
            "The run was interrupted, so no router configuration or Kubernetes manifests were "
            "written from its partial measurements.",
        )
        llm.decision, manifests = None, []
    outcomes: dict[tuple[str, str], OutcomeSink] = {}
    for name, m in measured.items():
        outcomes[(name, QUALITY_PHASE)] = m.quality_outcomes
        outcomes[(name, LOAD_PHASE)] = m.load.outcomes
    return RunResult(
        report=report,
        outcomes=outcomes,
        interrupted=interrupted,
        routing=llm.decision,
        routing_candidates=llm.candidates,
        routing_formats=tuple(spec.routing.export) if spec.routing is not None else (),
        manifests=manifests,
    )
