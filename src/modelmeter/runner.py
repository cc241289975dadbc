"""``run(spec) -> RunResult``: the whole study, from dataset to report, as one library call.

For each target in turn: a quality pass (every labelled item once), then a load phase at the
spec's arrival process; then cost, SLA checks, Pareto frontier, ranking and recommendation.
Targets are measured one at a time so that they never compete for this machine's cores.
"""

from __future__ import annotations

import asyncio
import os
import platform
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelmeter._exceptions import TargetError
from modelmeter._loop import run as run_on_fast_loop
from modelmeter._net import display_url
from modelmeter._version import __version__
from modelmeter.advice import RunFacts, advise
from modelmeter.data.loaders import load_samples
from modelmeter.data.sample import Sample
from modelmeter.decide import check_sla, pareto_front, rank, recommend
from modelmeter.decide.paired import compare_models
from modelmeter.definitions import DEFINITIONS
from modelmeter.economics import cost_per_1000_requests
from modelmeter.economics.catalogue import Catalogue, open_catalogue
from modelmeter.economics.pricing import resolve_target_pricing
from modelmeter.load.engine import run_closed_loop
from modelmeter.load.outcome import Outcome, OutcomeSink
from modelmeter.load.phase import (
    LoadListener,
    LoadMeasurement,
    SearchSettings,
    SweepSettings,
    measure_load,
)
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.stats import summarize_phase
from modelmeter.load.sweep import SaturationRule, Slo
from modelmeter.load.trace import TraceSource
from modelmeter.plan.from_run import plans_for
from modelmeter.plan.kubernetes import deployment_manifests, kubernetes_name, write_manifests
from modelmeter.progress import ProgressListener, SilentProgress
from modelmeter.quality import evaluate_classification
from modelmeter.results import (
    CostResult,
    HostFacts,
    ItemResults,
    ModelResult,
    QualityResult,
    Report,
    RouteChoiceResult,
    SlaCheck,
)
from modelmeter.routing import (
    Candidate,
    RoutingDecision,
    choose_routes,
    write_claude_code_router,
    write_litellm_config,
)
from modelmeter.spec import LlmTaskSpec, Spec, TargetSpec
from modelmeter.spec.objectives import PRESET_WEIGHTS
from modelmeter.spec.pricing import ApiPricing, InstancePricing
from modelmeter.store.cache import ResponseCache, target_identity
from modelmeter.targets import Target, create_target
from modelmeter.tasks.evaluate import TaskEvaluation, evaluate_task, load_task_samples
from modelmeter.tasks.results import (
    economics_for,
    pooled_score,
    routing_candidate,
    task_results,
)

CLAUDE_CODE_ROUTER_FILE = "claude-code-router.json"
LITELLM_CONFIG_FILE = "litellm-config.yaml"
KUBERNETES_FILE = "kubernetes.yaml"
# Manifests need an image; without one the plan's files carry this reserved, unresolvable name.
PLACEHOLDER_IMAGE = "registry.invalid/modelmeter-serve:replace-me"
QUALITY_PHASE = "quality"
LOAD_PHASE = "load"


@dataclass
class RunResult:
    """The report, and every request's outcome keyed by (target name, phase)."""

    report: Report
    outcomes: dict[tuple[str, str], OutcomeSink] = field(default_factory=dict)
    interrupted: bool = False
    routing: RoutingDecision | None = None
    routing_candidates: list[Candidate] = field(default_factory=list)
    routing_formats: tuple[str, ...] = ()
    manifests: list[dict[str, Any]] = field(default_factory=list)

    def write_extras(self, out_dir: Path) -> list[Path]:
        """Write the router configurations and Kubernetes manifests beside the report."""
        written = self._write_routing(out_dir)
        if self.manifests:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / KUBERNETES_FILE
            write_manifests(self.manifests, path, plan=self.report.capacity)
            written.append(path)
        return written

    def _write_routing(self, out_dir: Path) -> list[Path]:
        if self.routing is None:
            return []
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        if "claude-code-router" in self.routing_formats:
            written.append(
                write_claude_code_router(
                    self.routing, self.routing_candidates, out_dir / CLAUDE_CODE_ROUTER_FILE
                )
            )
        if "litellm" in self.routing_formats:
            written.append(
                write_litellm_config(
                    self.routing, self.routing_candidates, out_dir / LITELLM_CONFIG_FILE
                )
            )
        return written


def host_facts() -> HostFacts:
    return HostFacts(
        python=platform.python_version(),
        platform=platform.platform(terse=True),
        cpu_count=os.cpu_count() or 1,
        machine=platform.machine(),
    )


def _plan(spec: Spec) -> LoadPlan:
    load = spec.load
    trace = load.trace
    return LoadPlan(
        mode=load.mode,
        concurrency=load.concurrency,
        rate_rps=load.rate_rps,
        duration_s=load.duration_s,
        warmup_s=load.warmup_s,
        cooldown_s=load.cooldown_s,
        ramp_up_s=load.ramp_up_s,
        max_requests=load.max_requests,
        max_in_flight=load.max_in_flight,
        seed=spec.seed,
        rate_end_rps=load.rate_end_rps,
        steps=tuple((stage.duration_s, stage.rate_rps) for stage in load.steps or ()),
        burstiness=load.burstiness,
        trace=TraceSource(trace.path, trace.field, trace.format, trace.unit) if trace else None,
        trace_speedup=trace.speedup if trace else 1.0,
    )


def _series_settings(spec: Spec) -> tuple[SweepSettings | None, SearchSettings | None]:
    sweep, search = spec.load.sweep, spec.load.search
    sweep_settings = (
        SweepSettings(
            mode=sweep.mode,
            start=sweep.start,
            stop=sweep.stop,
            factor=sweep.factor,
            rule=SaturationRule(
                max_error_rate=sweep.max_error_rate,
                min_throughput_gain=sweep.min_throughput_gain,
                min_latency_growth=sweep.min_latency_growth,
            ),
        )
        if sweep
        else None
    )
    search_settings = (
        SearchSettings(
            low_rps=search.low_rps,
            high_rps=search.high_rps,
            tolerance=search.tolerance,
            max_steps=search.max_steps,
            growth=search.growth,
            noise_margin=search.noise_margin,
        )
        if search
        else None
    )
    return sweep_settings, search_settings


@dataclass
class _Measured:
    quality: QualityResult | None = None
    quality_outcomes: list[Outcome] = field(default_factory=list)
    load: LoadMeasurement = field(default_factory=LoadMeasurement)
    start_error: str | None = None
    tasks: list[TaskEvaluation] = field(default_factory=list)
    items: ItemResults | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _LlmContext:
    """What the LLM tasks of a run share across targets."""

    tasks: list[tuple[LlmTaskSpec, list[Sample]]]
    cache: ResponseCache | None = None
    resume_from: str | None = None
    judge: Target | None = None


class _Progress(LoadListener):
    """Adapts the load measurement's hooks to a ProgressListener."""

    def __init__(self, listener: ProgressListener) -> None:
        self.listener = listener

    def begin(self, description: str, total: int | None) -> None:
        self.listener.begin(description, total)

    def end(self) -> None:
        self.listener.end()

    def tick(self, _outcome: Outcome) -> None:
        self.listener.advance(1)


async def _measure_target(
    target: Target,
    spec: Spec,
    samples: Sequence[Sample],
    listener: ProgressListener,
    measured: _Measured,
    client_ceiling_rps: float | None,
    target_spec: TargetSpec,
    llm: _LlmContext | None = None,
) -> None:
    ticker = _Progress(listener)
    listener.begin(f"{target.name}: starting", None)
    try:
        await target.start()
    except TargetError as exc:
        url = getattr(target_spec, "url", None)
        exc.located(target.name, display_url(url) if isinstance(url, str) else None)
        measured.start_error = f"{exc.kind}: {exc}"
        listener.note(f"did not start: {exc}")
        await target.close()
        return
    finally:
        listener.end()
    try:
        labelled = [s for s in samples if s.label is not None] if llm is None else []
        if llm is not None:
            await _evaluate_tasks(target, target_spec, spec, llm, listener, measured)
        if labelled:
            listener.begin(f"{target.name}: quality pass", len(labelled))
            await run_closed_loop(
                target,
                labelled,
                concurrency=spec.evaluation.concurrency,
                duration_s=None,
                sink=measured.quality_outcomes,
                on_outcome=ticker.tick,
            )
            listener.end()
            answers = {o.sample_id: o.prediction for o in measured.quality_outcomes}
            measured.items = ItemResults(
                ids=[s.id for s in labelled],
                correct=[answers.get(s.id) == s.label for s in labelled],
            )
            measured.quality = evaluate_classification(
                [s.label or "" for s in labelled],
                [answers.get(s.id) for s in labelled],
                [s.slices for s in labelled],
                n_bootstrap=spec.evaluation.bootstrap_resamples,
                seed=spec.seed,
            )
        sweep_settings, search_settings = _series_settings(spec)
        await measure_load(
            target,
            samples,
            _plan(spec),
            slo=Slo.from_sla(spec.objectives.sla),
            state=measured.load,
            sweep_settings=sweep_settings,
            search_settings=search_settings,
            client_ceiling_rps=client_ceiling_rps,
            listener=ticker,
            processes=spec.load.processes,
            target_spec=target_spec,
        )
    finally:
        await target.close()


async def _evaluate_tasks(
    target: Target,
    target_spec: TargetSpec,
    spec: Spec,
    llm: _LlmContext,
    listener: ProgressListener,
    measured: _Measured,
) -> None:
    identity = target_identity(target_spec)
    for task, task_samples in llm.tasks:
        draws = len(task_samples) * (task.samples_per_item if task.kind == "code" else 1)
        listener.begin(f"{target.name}: {task.name}", draws)
        try:
            evaluation = await evaluate_task(
                target,
                task,
                task_samples,
                identity=identity,
                evaluation=spec.evaluation,
                seed=spec.seed,
                cache=llm.cache,
                resume_from=llm.resume_from,
                judge=llm.judge,
                on_answer=lambda: listener.advance(1),
            )
        finally:
            listener.end()
        measured.tasks.append(evaluation)
        measured.quality_outcomes.extend(evaluation.outcomes)
    scores = [score for evaluation in measured.tasks for score in evaluation.scores]
    graded = any(score.score != float(score.correct) for score in scores)
    measured.items = ItemResults(
        ids=[score.sample_id for score in scores],
        correct=[score.correct for score in scores],
        score=[score.score for score in scores] if graded else None,
    )


def _model_result(
    spec: Spec,
    target_spec: TargetSpec,
    measured: _Measured,
    pricing: InstancePricing | ApiPricing | None = None,
    catalogue: Catalogue | None = None,
    judge_pricing: InstancePricing | ApiPricing | None = None,
) -> ModelResult:
    headline = measured.load.headline
    phase = headline.summary if headline is not None else None
    if phase is None and measured.load.current is not None and len(measured.load.current):
        # Interrupted inside a level: summarise what that level had measured.
        phase = summarize_phase(measured.load.current, _plan(spec))
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
    # Checked with everything known: the cost limit, and for LLM runs the pooled score.
    sla = check_sla(
        provisional.model_copy(update={"cost": cost}),
        spec.objectives.sla,
        quality_metric=spec.objectives.quality_metric,
    )
    if measured.start_error:
        sla.met = False
        sla.violations.append(f"did not start: {measured.start_error}")
    return provisional.model_copy(update={"cost": cost, "sla": sla})


def _with_tasks(
    model: ModelResult,
    spec: Spec,
    target_spec: TargetSpec,
    measured: _Measured,
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


def study_samples(spec: Spec) -> tuple[list[Sample], list[tuple[LlmTaskSpec, list[Sample]]]]:
    """The load phase's samples and each LLM task's items, read and checked before any request.

    Classification: the dataset. LLM runs: each task's items; the load phase sends the dataset's
    prompts when one is given, else the tasks' prompts.
    """
    tasks = [(task, load_task_samples(task)) for task in spec.tasks]
    if spec.dataset is not None:
        return load_samples(spec.dataset), tasks
    pooled = [sample for _task, items in tasks for sample in items]
    return pooled, tasks


async def run_async(
    spec: Spec,
    *,
    samples: Sequence[Sample] | None = None,
    progress: ProgressListener | None = None,
    run_id: str | None = None,
    client_ceiling_rps: float | None = None,
    cache: ResponseCache | None = None,
    resume_from: str | None = None,
    tasks: Sequence[tuple[LlmTaskSpec, list[Sample]]] | None = None,
) -> RunResult:
    """Measure every target of the spec and build the report.

    ``client_ceiling_rps`` is this host's calibrated load-generation ceiling (see
    ``modelmeter calibrate``); load phases that come near it are marked client-bound.
    ``cache`` is the run store's response cache: LLM task answers are written to it as they
    arrive, and read back when ``evaluation.cache`` is on or when ``resume_from`` names the run
    being resumed.
    """
    listener = progress or SilentProgress()
    spec.check_files()
    if samples is None:
        samples, tasks = study_samples(spec)
    elif tasks is None:  # the caller read the dataset already; the tasks' items are read here
        tasks = [(task, load_task_samples(task)) for task in spec.tasks]
    catalogue = open_catalogue(spec.economics)
    pricing = {t.name: resolve_target_pricing(t.pricing, catalogue) for t in spec.targets}
    judge_spec = spec.evaluation.judge
    judge_pricing = (
        resolve_target_pricing(judge_spec.target.pricing, catalogue) if judge_spec else None
    )
    llm: _LlmContext | None = None
    if spec.task == "llm":
        llm = _LlmContext(tasks=list(tasks), cache=cache, resume_from=resume_from)
        if judge_spec is not None and any(t.scoring == "judge" for t in spec.tasks):
            llm.judge = create_target(judge_spec.target)
    measured: dict[str, _Measured] = {t.name: _Measured() for t in spec.targets}
    interrupted = False
    try:
        if llm is not None and llm.judge is not None:
            await llm.judge.start()
        for target_spec in spec.targets:
            target = create_target(target_spec)
            try:
                await _measure_target(
                    target,
                    spec,
                    samples,
                    listener,
                    measured[target_spec.name],
                    client_ceiling_rps,
                    target_spec,
                    llm,
                )
            except asyncio.CancelledError:
                # Ctrl-C: keep everything measured so far and report it as partial.
                interrupted = True
                listener.note("interrupted: reporting what was measured so far")
                break
    finally:
        if llm is not None and llm.judge is not None:
            await llm.judge.close()
    models = [
        _model_result(spec, t, measured[t.name], pricing[t.name], catalogue, judge_pricing)
        for t in spec.targets
    ]
    report = _assemble_report(spec, models, samples, run_id=run_id, interrupted=interrupted)
    target_notes = [note for t in spec.targets for note in measured[t.name].notes]
    report = report.model_copy(update={"notes": [*report.notes, *target_notes]})
    decision: RoutingDecision | None = None
    candidates: list[Candidate] = []
    if spec.task == "llm":
        report, decision, candidates = _with_llm_report(report, spec, measured, catalogue)
    plans = plans_for(report, spec)
    manifests: list[dict[str, Any]] = []
    if plans.capacity is not None and spec.capacity is not None and not plans.capacity_reference:
        section = spec.capacity
        manifests = deployment_manifests(
            plans.capacity,
            name=kubernetes_name(plans.capacity_model or "model"),
            image=section.image or PLACEHOLDER_IMAGE,
            port=section.container_port,
            cpu_request=section.cpu,
            memory_request=section.memory,
        )
        if section.image is None:
            plans.notes.append(
                f"{KUBERNETES_FILE} names no real image: set capacity.image to your model "
                "server's image."
            )
    report = report.model_copy(
        update={
            "capacity": plans.capacity,
            "capacity_model": plans.capacity_model,
            "capacity_reference": plans.capacity_reference,
            "manifest_file": KUBERNETES_FILE if manifests else None,
            "business_case": plans.business,
            "notes": [*report.notes, *plans.notes],
        }
    )
    if spec.task == "llm":
        inputs = [s.input for _task, items in tasks for s in items]
    else:
        inputs = [s.input for s in samples]
    report = report.model_copy(update={"advice": advise(report, RunFacts(inputs=inputs))})
    outcomes: dict[tuple[str, str], OutcomeSink] = {}
    for name, m in measured.items():
        outcomes[(name, QUALITY_PHASE)] = m.quality_outcomes
        outcomes[(name, LOAD_PHASE)] = m.load.outcomes
    return RunResult(
        report=report,
        outcomes=outcomes,
        interrupted=interrupted,
        routing=decision,
        routing_candidates=candidates,
        routing_formats=tuple(spec.routing.export) if spec.routing is not None else (),
        manifests=manifests,
    )


def _with_llm_report(
    report: Report, spec: Spec, measured: dict[str, _Measured], catalogue: Catalogue | None
) -> tuple[Report, RoutingDecision | None, list[Candidate]]:
    """The report's LLM parts: tasks in the dataset summary, catalogue source, routing."""
    dataset: dict[str, str | int] = {
        f"task {task.name}": f"{task.kind}, {task.dataset.path.name}" for task in spec.tasks
    }
    candidates = []
    by_name = {t.name: t for t in spec.targets}
    for model in report.models:
        candidate = routing_candidate(model, by_name[model.name], measured[model.name].tasks)
        if candidate is not None and model.task_score is not None:
            candidates.append(candidate)
    routes: list[RouteChoiceResult] = []
    notes = list(report.notes)
    decision = None
    files: list[str] = []
    if spec.routing is not None and candidates:
        decision = choose_routes(
            candidates, long_context_threshold=spec.routing.long_context_threshold
        )
        routes = [
            RouteChoiceResult(route=c.route, model=c.model_name, reason=c.reason)
            for c in decision.routes
        ]
        names = {
            "claude-code-router": CLAUDE_CODE_ROUTER_FILE,
            "litellm": LITELLM_CONFIG_FILE,
        }
        files = [names[f] for f in spec.routing.export]
    elif spec.routing is not None:
        notes.append("No routing configuration: no openai target answered any task.")
    updated = report.model_copy(
        update={
            "dataset": {**report.dataset, **dataset},
            "pricing_source": catalogue.describe() if catalogue is not None else None,
            "routing": routes,
            "routing_files": files,
            "notes": notes,
        }
    )
    return updated, decision, candidates


def _assemble_report(
    spec: Spec,
    models: list[ModelResult],
    samples: Sequence[Sample],
    *,
    run_id: str | None,
    interrupted: bool,
) -> Report:
    objectives = spec.objectives
    comparisons, ties = compare_models(models, seed=spec.seed)
    ranking = rank(models, objectives, ties)
    pareto = pareto_front(models, quality_metric=objectives.quality_metric)
    recommendation = recommend(models, ranking, pareto, objectives, ties)
    sla = {key: value for key, value in objectives.sla.model_dump().items() if value is not None}
    notes = []
    if interrupted:
        notes.append("The run was interrupted; figures cover only what was measured before.")
    return Report(
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
        },
        models=models,
        pareto=pareto,
        ranking=ranking,
        recommendation=recommendation,
        sla=sla,
        priority_weights={k: dict(v) for k, v in PRESET_WEIGHTS.items()},
        definitions=dict(DEFINITIONS),
        notes=notes,
        comparisons=comparisons,
        tie_groups=ties,
        quality_metric=objectives.quality_metric,
    )


def new_run_id() -> str:
    """Sortable by time, unique: 20261122-120634-3f9a1c."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def run(
    spec: Spec,
    *,
    samples: Sequence[Sample] | None = None,
    progress: ProgressListener | None = None,
    run_id: str | None = None,
    client_ceiling_rps: float | None = None,
    cache: ResponseCache | None = None,
    resume_from: str | None = None,
    tasks: Sequence[tuple[LlmTaskSpec, list[Sample]]] | None = None,
) -> RunResult:
    """Measure every target of the spec and build the report (blocking); see ``run_async``."""
    return run_on_fast_loop(
        run_async(
            spec,
            samples=samples,
            progress=progress,
            run_id=run_id,
            client_ceiling_rps=client_ceiling_rps,
            cache=cache,
            resume_from=resume_from,
            tasks=tasks,
        )
    )
