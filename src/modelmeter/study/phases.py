"""The phases of one target: start it, evaluate its quality (labelled items or LLM tasks), then
measure it under load. Targets are measured one at a time so that they never compete for this
machine's cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from modelmeter._exceptions import TargetError
from modelmeter._net import display_url
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop
from modelmeter.load.outcome import Outcome
from modelmeter.load.phase import (
    LoadListener,
    LoadMeasurement,
    SearchSettings,
    SweepSettings,
    measure_load,
)
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.sweep import Slo
from modelmeter.progress import OutcomeListener, ProgressListener
from modelmeter.quality import evaluate_classification
from modelmeter.results import ItemResults, QualityResult
from modelmeter.spec import LlmTaskSpec, Spec, TargetSpec
from modelmeter.store.cache import AnswerCache, target_identity
from modelmeter.targets import Target
from modelmeter.tasks.evaluate import TaskEvaluation, evaluate_task

__all__ = ["LlmContext", "Measured", "measure_target"]


@dataclass
class Measured:
    """Everything measured of one target: quality, task answers, load, and what went wrong."""

    quality: QualityResult | None = None
    quality_outcomes: list[Outcome] = field(default_factory=list)
    load: LoadMeasurement = field(default_factory=LoadMeasurement)
    start_error: str | None = None
    tasks: list[TaskEvaluation] = field(default_factory=list)
    items: ItemResults | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class LlmContext:
    """What the LLM tasks of a run share across targets."""

    tasks: list[tuple[LlmTaskSpec, list[Sample]]]
    cache: AnswerCache | None = None
    resume_from: str | None = None
    judge: Target | None = None


class _Progress(LoadListener):
    """Adapts the load measurement's hooks to a ProgressListener."""

    def __init__(self, listener: ProgressListener, target: str) -> None:
        self.listener = listener
        self.target = target
        self._each = listener.outcome if isinstance(listener, OutcomeListener) else None

    def begin(self, description: str, total: int | None) -> None:
        self.listener.begin(description, total)

    def end(self) -> None:
        self.listener.end()

    def tick(self, outcome: Outcome) -> None:
        self.listener.advance(1)
        if self._each is not None:
            self._each(self.target, outcome)


async def measure_target(
    target: Target,
    spec: Spec,
    samples: Sequence[Sample],
    listener: ProgressListener,
    measured: Measured,
    client_ceiling_rps: float | None,
    target_spec: TargetSpec,
    llm: LlmContext | None = None,
) -> None:
    ticker = _Progress(listener, target.name)
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
        sweep, search = spec.load.sweep, spec.load.search
        await measure_load(
            target,
            samples,
            LoadPlan.from_section(spec.load, spec.seed),
            slo=Slo.from_sla(spec.objectives.sla),
            state=measured.load,
            sweep_settings=SweepSettings.from_section(sweep) if sweep else None,
            search_settings=SearchSettings.from_section(search) if search else None,
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
    llm: LlmContext,
    listener: ProgressListener,
    measured: Measured,
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
