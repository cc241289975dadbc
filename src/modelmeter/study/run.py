"""``run(spec) -> RunResult``: the whole study, from dataset to report, as one library call.

For each target in turn: a quality pass (every labelled item once, or the LLM tasks), then a
load phase at the spec's arrival process; then cost, SLA checks, Pareto frontier, ranking,
recommendation, plans and advice, assembled into the Report in one place
(:func:`modelmeter.study.report.run_result`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence

from modelmeter._exceptions import SpecError
from modelmeter._interrupts import hold_off_interrupts, interrupts_deferred
from modelmeter._loop import run as run_on_fast_loop
from modelmeter.data.loaders import load_samples
from modelmeter.data.sample import Sample
from modelmeter.economics.catalogue import open_catalogue
from modelmeter.economics.pricing import resolve_target_pricing
from modelmeter.progress import SilentProgress
from modelmeter.spec import LlmTaskSpec, Spec
from modelmeter.study.options import RunOptions, TaskItems
from modelmeter.study.phases import LlmContext, Measured, measure_target
from modelmeter.study.preflight import preflight
from modelmeter.study.report import run_result
from modelmeter.study.result import RunResult
from modelmeter.targets import create_target
from modelmeter.tasks.evaluate import load_task_samples

__all__ = ["check_resumable", "check_study", "run", "run_async", "study_samples"]

_REPORT_ON_ITS_WAY = "interrupted again: the partial report is being written, a moment"


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


async def run_async(spec: Spec, options: RunOptions | None = None) -> RunResult:
    """Measure every target of the spec and build the report; see :class:`RunOptions`.

    Ctrl-C (cancellation) ends the measuring early: the report covers what was measured, and
    says so.
    """
    options = options or RunOptions()
    listener = options.progress or SilentProgress()
    spec.check_files()
    samples, tasks = options.samples, options.tasks
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
    llm: LlmContext | None = None
    if spec.task == "llm":
        llm = LlmContext(tasks=list(tasks), cache=options.cache, resume_from=options.resume_from)
        if judge_spec is not None and any(t.scoring == "judge" for t in spec.tasks):
            llm.judge = create_target(judge_spec.target)
    # Every target is built before the first is measured, so a spec error in the last one (a
    # function that cannot be imported, an unknown kind) costs seconds, not the others' runs.
    targets = {t.name: create_target(t) for t in spec.targets}
    if options.preflight:
        probe = _preflight_sample(samples, tasks)
        if probe is not None:
            listener.begin("preflight: one request to every target", None)
            try:
                await preflight(
                    {t.name: create_target(t) for t in spec.targets}, spec.targets, probe
                )
            finally:
                listener.end()
    measured = {t.name: Measured() for t in spec.targets}
    interrupted = False
    # From the first Ctrl-C on, a second must not stop the partial report half-built: it is
    # held off from the moment the first one is caught, not only once the report starts.
    with contextlib.ExitStack() as wrap_up:
        try:
            if llm is not None and llm.judge is not None:
                await llm.judge.start()
            for target_spec in spec.targets:
                target = targets[target_spec.name]
                try:
                    await measure_target(
                        target,
                        spec,
                        samples,
                        listener,
                        measured[target_spec.name],
                        options.client_ceiling_rps,
                        target_spec,
                        llm,
                    )
                except asyncio.CancelledError:
                    # Ctrl-C: keep everything measured so far and report it as partial.
                    interrupted = True
                    again = functools.partial(listener.note, _REPORT_ON_ITS_WAY)
                    if options.hold_interrupts:
                        hold_off_interrupts(again)
                    else:
                        wrap_up.enter_context(interrupts_deferred(again))
                    listener.note("interrupted: reporting what was measured so far")
                    break
        finally:
            if llm is not None and llm.judge is not None:
                await llm.judge.close()
        return run_result(
            spec,
            measured,
            samples,
            tasks,
            catalogue=catalogue,
            pricing=pricing,
            judge_pricing=judge_pricing,
            run_id=options.run_id,
            interrupted=interrupted,
        )


def _preflight_sample(samples: Sequence[Sample], tasks: TaskItems) -> Sample | None:
    """The first item the run will send: a dataset sample, else the first task item."""
    if samples:
        return samples[0]
    return next((items[0] for _task, items in tasks if items), None)


def check_study(spec: Spec) -> str:
    """Everything a run checks before it measures, and nothing more: the files the spec names,
    the dataset and task items, and every target built (its kind known, its settings valid,
    its function importable). Raises the error a run would; returns what was checked, in words.
    """
    spec.check_files()
    samples, tasks = study_samples(spec)
    for target_spec in spec.targets:
        create_target(target_spec)
    kinds = ", ".join(f"{t.name} ({t.kind})" for t in spec.targets)
    items = f"{len(samples):,} items" + (f" in {len(tasks)} tasks" if tasks else "")
    return f"{items}; targets {kinds} built; nothing was sent"


def check_resumable(run_id: str, fingerprint: str, spec: Spec) -> None:
    """A stored run (partial, or started and killed) continues only with the spec it was made
    from (``fingerprint``, as stored); a :class:`SpecError` says so otherwise."""
    if fingerprint != spec.fingerprint():
        raise SpecError(
            f"run {run_id} was made from a different spec (fingerprint "
            f"{fingerprint}, this one {spec.fingerprint()}); resume it with the same spec "
            "file"
        )


def run(spec: Spec, options: RunOptions | None = None) -> RunResult:
    """Measure every target of the spec and build the report (blocking); see :func:`run_async`."""
    return run_on_fast_loop(run_async(spec, options))
