"""One LLM task on one target: send every item (or several draws of it), score, aggregate.

The answers come from the target through the load engine's closed loop, or from the response
cache when the spec allows it (``evaluation.cache``) or a run is resumed; answers that arrive
are written to the cache as they come, so an interrupted run loses none of them. Scoring
follows the task: the answer letter for multiple choice, a reference for generation (or a
judge model's grade), the unit tests in the sandbox for code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modelmeter._exceptions import DatasetError
from modelmeter._text_files import json_problem, not_utf8
from modelmeter.data.loaders import load_samples
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop
from modelmeter.load.outcome import Outcome
from modelmeter.results import TaskQuality
from modelmeter.spec import EvaluationSpec, LlmTaskSpec
from modelmeter.store.cache import AnswerCache, request_key
from modelmeter.targets.base import Target
from modelmeter.tasks.aggregate import summarize_scores
from modelmeter.tasks.base import ItemScore

__all__ = ["Answer", "TaskEvaluation", "evaluate_task", "load_task_samples"]

DRAW_SEPARATOR = "#"


def load_task_samples(task: LlmTaskSpec) -> list[Sample]:
    """The task's items, ids prefixed with the task name so that tasks never collide."""
    dataset = task.dataset
    fmt: str = dataset.format
    path = dataset.path
    if task.kind == "multiple_choice":
        from modelmeter.tasks.multiple_choice import load_mmlu

        samples = load_mmlu(path)
    elif task.kind == "code":
        from modelmeter.tasks.code import load_humaneval, load_mbpp

        if fmt == "auto":
            fmt = _code_layout(path)
        if fmt not in ("humaneval", "mbpp"):
            raise DatasetError(
                f"code tasks read the 'humaneval' or 'mbpp' layout, not '{fmt}'", path=path
            )
        samples = load_humaneval(path) if fmt == "humaneval" else load_mbpp(path)
    else:
        samples = load_samples(dataset)
    if dataset.limit is not None:
        samples = samples[: dataset.limit]
    if not samples:
        raise DatasetError("the dataset has no items", path=path)
    return [
        Sample(
            id=f"{task.name}/{s.id}",
            input=s.input,
            label=s.label,
            slices=s.slices,
            extra=s.extra,
        )
        for s in samples
    ]


def _code_layout(path: Path) -> str:
    """'humaneval' or 'mbpp' from the first row's fields."""
    import json

    if not path.is_file():
        raise DatasetError("dataset file not found (a code task reads one JSONL file)", path=path)
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    break
            else:
                raise DatasetError("the file is empty", path=path)
    except OSError as exc:
        raise DatasetError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except (ValueError, RecursionError) as exc:
        raise DatasetError(json_problem(exc), path=path, line=1) from None
    if isinstance(row, dict) and "entry_point" in row:
        return "humaneval"
    if isinstance(row, dict) and "test_list" in row:
        return "mbpp"
    raise DatasetError(
        "cannot tell the layout: HumanEval rows have 'entry_point', MBPP rows 'test_list'; "
        "or set dataset.format",
        path=path,
        line=1,
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """One draw's answer: text (None when the request failed) and its token counts."""

    text: str | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    cached: bool = False


@dataclass
class TaskEvaluation:
    """What one task measured on one target."""

    task: str
    kind: str
    route: str
    quality: TaskQuality | None = None
    pass_at_k: dict[int, float] = field(default_factory=dict)
    answers: int = 0
    sent: int = 0
    cached: int = 0
    failed: int = 0
    correct_answers: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    judge_requests: int = 0
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    scores: list[ItemScore] = field(default_factory=list)


def _draw_id(sample_id: str, draw: int) -> str:
    return f"{sample_id}{DRAW_SEPARATOR}{draw}"


async def collect_answers(
    target: Target,
    draws: Sequence[tuple[Sample, int]],
    *,
    identity: str,
    concurrency: int,
    cache: AnswerCache | None,
    reuse_any_run: bool,
    resume_from: str | None,
    on_answer: Callable[[], None] | None = None,
    outcomes: list[Outcome] | None = None,
) -> dict[str, Answer]:
    """Answers keyed by draw id, from the cache where allowed and from the target otherwise."""
    keys = {_draw_id(s.id, d): request_key(identity, s.input, d) for s, d in draws}
    answers: dict[str, Answer] = {}
    if cache is not None and (reuse_any_run or resume_from is not None):
        found = cache.lookup(keys.values(), from_run=None if reuse_any_run else resume_from)
        for draw_id, key in keys.items():
            hit = found.get(key)
            if hit is not None:
                answers[draw_id] = Answer(
                    hit.answer,
                    hit.input_tokens,
                    hit.output_tokens,
                    hit.reasoning_tokens,
                    hit.cached_input_tokens,
                    cached=True,
                )
                if on_answer is not None:
                    on_answer()
    to_send = [
        Sample(id=_draw_id(s.id, d), input=s.input, label=s.label, slices=s.slices, extra=s.extra)
        for s, d in draws
        if _draw_id(s.id, d) not in answers
    ]
    sink: list[Outcome] = outcomes if outcomes is not None else []

    def record(outcome: Outcome) -> None:
        if cache is not None and outcome.ok and outcome.prediction is not None:
            cache.put(
                keys[outcome.sample_id],
                target=target.name,
                sample_id=outcome.sample_id,
                answer=outcome.prediction,
                input_tokens=outcome.input_tokens,
                output_tokens=outcome.output_tokens,
                reasoning_tokens=outcome.reasoning_tokens,
                cached_input_tokens=outcome.cached_input_tokens,
                service_ms=outcome.service_time_ns / 1e6,
                ttft_ms=None if outcome.ttft_ns is None else outcome.ttft_ns / 1e6,
            )
        if on_answer is not None:
            on_answer()

    try:
        if to_send:
            await run_closed_loop(
                target,
                to_send,
                concurrency=concurrency,
                duration_s=None,
                sink=sink,
                on_outcome=record,
            )
    finally:
        if cache is not None:
            cache.flush()
    for outcome in sink:
        answers[outcome.sample_id] = Answer(
            outcome.prediction if outcome.ok else None,
            outcome.input_tokens,
            outcome.output_tokens,
            outcome.reasoning_tokens,
            outcome.cached_input_tokens,
        )
    return answers


def _score_items(
    task: LlmTaskSpec,
    samples: Sequence[Sample],
    answers: dict[str, Answer],
    evaluation: EvaluationSpec,
    cancel: threading.Event,
) -> tuple[list[ItemScore], dict[int, float]]:
    """Per-item scores (code: per problem over its draws) and pass@k. Setting ``cancel`` stops
    code scoring: running programs are killed, the others never start."""
    if task.kind == "multiple_choice":
        from modelmeter.tasks.multiple_choice import score_multiple_choice

        return [score_multiple_choice(s, answers[_draw_id(s.id, 0)].text) for s in samples], {}
    if task.kind == "generation":
        from modelmeter.tasks.generation import score_generation

        assert task.scoring != "judge"
        return [
            score_generation(
                s,
                answers[_draw_id(s.id, 0)].text,
                method=task.scoring,
                pattern=task.pattern,
                threshold=task.f1_threshold,
            )
            for s in samples
        ], {}
    return _score_code(task, samples, answers, evaluation, cancel)


def _score_code(
    task: LlmTaskSpec,
    samples: Sequence[Sample],
    answers: dict[str, Answer],
    evaluation: EvaluationSpec,
    cancel: threading.Event,
) -> tuple[list[ItemScore], dict[int, float]]:
    from modelmeter.sandbox import SandboxLimits
    from modelmeter.tasks.code import pass_at_k_per_task, score_code_many

    box = evaluation.sandbox
    limits = SandboxLimits(
        cpu_s=box.cpu_s,
        memory_mb=box.memory_mb,
        file_size_mb=box.file_size_mb,
        max_processes=box.max_processes,
        max_open_files=box.max_open_files,
        max_files=box.max_files,
        timeout_s=box.timeout_s,
    )
    n = task.samples_per_item
    jobs = [(s, answers[_draw_id(s.id, d)].text) for s in samples for d in range(n)]
    graded = score_code_many(
        jobs, limits=limits, allow_unsafe=box.allow_unsafe, workers=box.workers, cancel=cancel
    )
    by_problem: dict[str, list[ItemScore]] = {}
    for (sample, _answer), score in zip(jobs, graded, strict=True):
        by_problem.setdefault(sample.id, []).append(score)
    scores = []
    for sample in samples:
        draws = by_problem[sample.id]
        passed = sum(1 for d in draws if d.correct)
        first = draws[0]
        # correct: the first draw passed (accuracy is then a one-draw pass rate); score: this
        # problem's unbiased pass@1 estimate c / n.
        scores.append(
            ItemScore(
                sample_id=sample.id,
                correct=first.correct,
                score=passed / len(draws),
                extracted=first.extracted,
                detail=first.detail if not first.correct else f"{passed}/{len(draws)} draws pass",
            )
        )
    results = {s.id: [d.correct for d in by_problem[s.id]] for s in samples}
    return scores, {k: pass_at_k_per_task(results, k) for k in task.pass_k}


async def _judge(
    judge: Target,
    task: LlmTaskSpec,
    samples: Sequence[Sample],
    answers: dict[str, Answer],
    evaluation: EvaluationSpec,
    result: TaskEvaluation,
) -> list[ItemScore]:
    from modelmeter.tasks.judge import judge_prompt, score_judged

    spec = evaluation.judge
    assert spec is not None
    scale = (spec.scale_min, spec.scale_max)
    prompts = []
    for sample in samples:
        answer = answers[_draw_id(sample.id, 0)].text
        if answer is not None:
            text = judge_prompt(spec.rubric, sample.input, answer, sample.label, scale)
            prompts.append(Sample(id=sample.id, input=text))
    outcomes: list[Outcome] = []
    if prompts:
        await run_closed_loop(
            judge, prompts, concurrency=evaluation.concurrency, duration_s=None, sink=outcomes
        )
    verdicts = {o.sample_id: o.prediction if o.ok else None for o in outcomes}
    result.judge_requests = len(outcomes)
    result.judge_input_tokens = sum(o.input_tokens or 0 for o in outcomes)
    result.judge_output_tokens = sum(o.output_tokens or 0 for o in outcomes)
    return [score_judged(s, verdicts.get(s.id), scale, spec.pass_threshold) for s in samples]


async def evaluate_task(
    target: Target,
    task: LlmTaskSpec,
    samples: Sequence[Sample],
    *,
    identity: str,
    evaluation: EvaluationSpec,
    seed: int,
    cache: AnswerCache | None = None,
    resume_from: str | None = None,
    judge: Target | None = None,
    on_answer: Callable[[], None] | None = None,
) -> TaskEvaluation:
    """Answer, score and aggregate one task on one target."""
    n = task.samples_per_item if task.kind == "code" else 1
    draws = [(s, d) for s in samples for d in range(n)]
    outcomes: list[Outcome] = []
    answers = await collect_answers(
        target,
        draws,
        identity=identity,
        concurrency=evaluation.concurrency,
        cache=cache,
        reuse_any_run=evaluation.cache,
        resume_from=resume_from,
        on_answer=on_answer,
        outcomes=outcomes,
    )
    result = TaskEvaluation(task=task.name, kind=task.kind, route=task.route_kind)
    result.outcomes = outcomes
    result.answers = len(answers)
    result.cached = sum(1 for a in answers.values() if a.cached)
    result.sent = len(outcomes)
    result.failed = sum(1 for a in answers.values() if a.text is None)
    result.input_tokens = sum(a.input_tokens or 0 for a in answers.values())
    result.output_tokens = sum(a.output_tokens or 0 for a in answers.values())
    result.reasoning_tokens = sum(a.reasoning_tokens or 0 for a in answers.values())
    result.cached_input_tokens = sum(a.cached_input_tokens or 0 for a in answers.values())
    if task.scoring == "judge" and task.kind == "generation":
        if judge is None:
            raise ValueError("a task scored 'judge' needs a judge target")
        scores = await _judge(judge, task, samples, answers, evaluation, result)
        pass_k: dict[int, float] = {}
    else:
        # Ctrl-C cancels this coroutine but cannot stop the thread, and the loop waits for
        # the thread before it ends: without the event, every remaining program would run
        # to its timeout first (and a second Ctrl-C then would lose the partial report).
        cancel = threading.Event()
        try:
            scores, pass_k = await asyncio.to_thread(
                _score_items, task, samples, answers, evaluation, cancel
            )
        except asyncio.CancelledError:
            cancel.set()
            raise
    failed = {s.id for s in samples if answers[_draw_id(s.id, 0)].text is None}
    result.quality = summarize_scores(
        samples,
        scores,
        metric=_metric_name(task),
        n_bootstrap=evaluation.bootstrap_resamples,
        seed=seed,
        failed=failed,
    )
    result.pass_at_k = pass_k
    result.scores = scores
    # Answers that were right, for the cost per correct answer: code counts every passing draw.
    result.correct_answers = (
        sum(round(score.score * n) for score in scores)
        if task.kind == "code"
        else sum(1 for score in scores if score.correct)
    )
    return result


def _metric_name(task: LlmTaskSpec) -> str:
    if task.kind == "multiple_choice":
        return "accuracy"
    if task.kind == "code":
        return "pass@1"
    return task.scoring
