"""A candidate's figures in words, and its quality over a set of task types, with the tie and
overlap tests the rules use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from modelmeter._figures import fmt_ms, fmt_quality
from modelmeter._money import format_money
from modelmeter.decide._facts import join_words
from modelmeter.routing.choose.candidates import _METRIC_OF_TASK, Candidate


def _task_label(task: str) -> str:
    return f"{task} {_METRIC_OF_TASK.get(task, 'score')}"


def _score_text(value: float, interval: tuple[float, float] | None) -> str:
    if interval is None:
        return fmt_quality(value)
    return f"{fmt_quality(value)} ({fmt_quality(interval[0])}–{fmt_quality(interval[1])})"


def _bracketed(value: float, interval: tuple[float, float] | None) -> str:
    """'0.73 [0.66–0.80]': the form used inside a sentence that already has parentheses."""
    if interval is None:
        return fmt_quality(value)
    return f"{fmt_quality(value)} [{fmt_quality(interval[0])}–{fmt_quality(interval[1])}]"


def _money(amount: float, currency: str) -> str:
    return format_money(Decimal(repr(amount)), currency)


def _cost_text(candidate: Candidate) -> str:
    if candidate.cost_per_1m_tokens is None:
        text = "cost per 1M tokens unknown"
    else:
        text = f"{_money(candidate.cost_per_1m_tokens, candidate.currency)} per 1M tokens"
    if candidate.cost_per_correct is not None:
        text += f" ({_money(candidate.cost_per_correct, candidate.currency)} per correct answer)"
    return text


def _latency_text(candidate: Candidate) -> str:
    text = "P95 not measured" if candidate.p95_ms is None else f"P95 {fmt_ms(candidate.p95_ms)} ms"
    if candidate.ttft_p95_ms is not None:
        text += f", TTFT P95 {fmt_ms(candidate.ttft_p95_ms)} ms"
    return text


def _figures(candidate: Candidate, tasks: Sequence[str]) -> str:
    """'code pass@1 0.71 (0.62–0.79) at 0.90 USD per 1M tokens, P95 820 ms'."""
    scores = [
        f"{_task_label(task)} "
        f"{_score_text(candidate.quality_by_task[task], candidate.quality_ci_by_task.get(task))}"
        for task in tasks
        if task in candidate.quality_by_task
    ]
    quality = ", ".join(scores) if scores else "quality not measured"
    return f"{quality} at {_cost_text(candidate)}, {_latency_text(candidate)}"


def _window_text(window: int | None) -> str:
    return "unknown" if window is None else f"{window:,} tokens"


@dataclass(frozen=True, slots=True)
class _Quality:
    """A score (one task, or the mean over several) and its interval when every task has one.

    The interval of a mean is taken as the mean of the lows and of the highs: wider than the
    interval of a mean of independent estimates, so it errs towards calling models tied.
    """

    value: float
    interval: tuple[float, float] | None


def _quality_over(candidate: Candidate, tasks: Sequence[str]) -> _Quality | None:
    present = [task for task in tasks if task in candidate.quality_by_task]
    if not present:
        return None
    value = math.fsum(candidate.quality_by_task[task] for task in present) / len(present)
    intervals = [candidate.quality_ci_by_task.get(task) for task in present]
    if any(item is None for item in intervals):
        return _Quality(value=value, interval=None)
    lows = [item[0] for item in intervals if item is not None]
    highs = [item[1] for item in intervals if item is not None]
    return _Quality(
        value=value, interval=(math.fsum(lows) / len(lows), math.fsum(highs) / len(highs))
    )


def _tied_with(best: _Quality, other: _Quality) -> bool:
    """``other``'s score lies inside ``best``'s interval (without one: the same score)."""
    if best.interval is None:
        return other.value >= best.value
    return other.value >= best.interval[0]


def _overlaps(best: _Quality, other: _Quality) -> bool:
    """``other``'s interval (or score) reaches ``best``'s interval (or score)."""
    best_low = best.value if best.interval is None else best.interval[0]
    other_high = other.value if other.interval is None else other.interval[1]
    return other_high >= best_low


def _cost_key(candidate: Candidate) -> tuple[bool, float]:
    cost = candidate.cost_per_1m_tokens
    return (cost is None, 0.0 if cost is None else cost)


def _p95_key(candidate: Candidate) -> tuple[bool, float]:
    return (candidate.p95_ms is None, 0.0 if candidate.p95_ms is None else candidate.p95_ms)


class _Context:
    """What every rule reads: the pool, the task set, each model's aggregate quality."""

    def __init__(self, pool: Sequence[Candidate], sla_note: str) -> None:
        self.pool = list(pool)
        self.sla_note = sla_note
        measured = [c for c in self.pool if c.quality_by_task]
        common: set[str] | None = None
        for candidate in measured:
            keys = set(candidate.quality_by_task)
            common = keys if common is None else common & keys
        self.comparable = bool(common)
        self.tasks: tuple[str, ...] = tuple(sorted(common or ()))
        self.quality: dict[str, _Quality] = {}
        for candidate in measured:
            tasks = self.tasks if self.comparable else tuple(sorted(candidate.quality_by_task))
            aggregate = _quality_over(candidate, tasks)
            if aggregate is not None:
                self.quality[candidate.name] = aggregate

    def tasks_of(self, candidate: Candidate) -> tuple[str, ...]:
        return self.tasks if self.comparable else tuple(sorted(candidate.quality_by_task))

    def quality_words(self, candidate: Candidate) -> str:
        """'mean score over code and multiple_choice 0.73 [0.66–0.80]'."""
        tasks = self.tasks_of(candidate)
        label = _task_label(tasks[0]) if len(tasks) == 1 else f"mean score over {join_words(tasks)}"
        return f"{label} {self.quality_short(candidate)}"

    def quality_short(self, candidate: Candidate) -> str:
        """'0.73 [0.66–0.80]'."""
        aggregate = self.quality[candidate.name]
        return _bracketed(aggregate.value, aggregate.interval)


def _best_quality(ctx: _Context, measured: Sequence[Candidate]) -> Candidate:
    return min(measured, key=lambda c: (-ctx.quality[c.name].value, _cost_key(c), c.name))
