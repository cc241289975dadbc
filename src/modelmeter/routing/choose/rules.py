"""The choosing rules: which candidate each route goes to, and its fallbacks."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from modelmeter._exceptions import SpecError
from modelmeter._figures import fmt_quality
from modelmeter.routing.choose.candidates import (
    DEFAULT_LONG_CONTEXT_THRESHOLD,
    Candidate,
    Route,
    RouteChoice,
    RoutingDecision,
    _check_candidates,
    _larger_windows,
)
from modelmeter.routing.choose.facts import (
    _best_quality,
    _Context,
    _cost_key,
    _figures,
    _overlaps,
    _p95_key,
    _Quality,
    _tied_with,
)
from modelmeter.routing.choose.reasons import (
    _background_reason,
    _default_reason,
    _long_context_reason,
    _think_reason,
    _web_search_reason,
    _with_note,
)

__all__ = ["Picker", "choose_routes"]


Picker = Callable[[Sequence[Candidate]], Candidate]


def _order(pool: Sequence[Candidate], pick: Picker) -> list[Candidate]:
    """The pool in the order ``pick`` chooses from it, again and again without the picked."""
    left = list(pool)
    ordered: list[Candidate] = []
    while left:
        chosen = pick(left)
        ordered.append(chosen)
        left = [c for c in left if c.name != chosen.name]
    return ordered


# --- the rules ---------------------------------------------------------------------------------


def _pick_default(ctx: _Context, pool: Sequence[Candidate]) -> Candidate:
    measured = [c for c in pool if c.name in ctx.quality]
    if not measured:
        return min(pool, key=lambda c: (_cost_key(c), _p95_key(c), c.name))
    best = _best_quality(ctx, measured)
    tied = [c for c in measured if _tied_with(ctx.quality[best.name], ctx.quality[c.name])]
    return min(tied, key=lambda c: (_cost_key(c), -ctx.quality[c.name].value, _p95_key(c), c.name))


def _pick_background(
    ctx: _Context, pool: Sequence[Candidate], floor: float | None
) -> tuple[Candidate, str]:
    """The pick and which acceptance rule it came from ('floor', 'overlap', 'none')."""
    measured = [c for c in pool if c.name in ctx.quality]
    if not measured:
        return min(pool, key=lambda c: (_cost_key(c), _p95_key(c), c.name)), "none"
    best = _best_quality(ctx, measured)
    if floor is not None:
        acceptable = [c for c in measured if ctx.quality[c.name].value >= floor]
        rule = "floor"
        if not acceptable:
            return best, "below-floor"
    else:
        acceptable = [c for c in measured if _overlaps(ctx.quality[best.name], ctx.quality[c.name])]
        rule = "overlap"
    chosen = min(
        acceptable, key=lambda c: (_cost_key(c), -ctx.quality[c.name].value, _p95_key(c), c.name)
    )
    return chosen, rule


def _hardest_task(ctx: _Context) -> tuple[str, float] | None:
    """The task type with the lowest mean score across the pool, and that mean."""
    scores: dict[str, list[float]] = {}
    for candidate in ctx.pool:
        for task, value in candidate.quality_by_task.items():
            scores.setdefault(task, []).append(value)
    if not scores:
        return None
    means = {task: math.fsum(values) / len(values) for task, values in scores.items()}
    task = min(means, key=lambda t: (means[t], t))
    return task, means[task]


def _pick_think(pool: Sequence[Candidate], task: str) -> Candidate:
    measured = [c for c in pool if task in c.quality_by_task]
    if not measured:
        return min(pool, key=lambda c: (not c.supports_reasoning, _cost_key(c), c.name))

    def quality(c: Candidate) -> _Quality:
        return _Quality(value=c.quality_by_task[task], interval=c.quality_ci_by_task.get(task))

    best = min(measured, key=lambda c: (-c.quality_by_task[task], _cost_key(c), c.name))
    tied = [c for c in measured if _tied_with(quality(best), quality(c))]
    return min(
        tied,
        key=lambda c: (not c.supports_reasoning, -c.quality_by_task[task], _cost_key(c), c.name),
    )


def _pick_long_context(default_rank: dict[str, int], pool: Sequence[Candidate]) -> Candidate:
    return min(
        pool,
        key=lambda c: (
            c.context_window is None,
            -(c.context_window or 0),
            default_rank.get(c.name, len(default_rank)),
            c.name,
        ),
    )


def choose_routes(
    candidates: Iterable[Candidate],
    *,
    long_context_threshold: int = DEFAULT_LONG_CONTEXT_THRESHOLD,
    think_task: str | None = None,
    background_min_quality: float | None = None,
    recommended: str | None = None,
    recommended_why: str = "",
) -> RoutingDecision:
    """Choose a model per route from measured candidates; see the module docstring for the rules.

    ``recommended`` is the run's decision (:func:`modelmeter.decide.decide`): when it is among
    the candidates that meet the SLA, the default route takes it, with ``recommended_why`` as
    the reason, so that the router configuration and the recommendation agree.

    ``think_task`` names the task type the think route is judged on (default: the hardest one
    measured). ``background_min_quality`` replaces the background route's "interval reaches the
    best" rule by a floor on the mean score.
    """
    items = list(candidates)
    _check_candidates(items)
    if long_context_threshold <= 0:
        raise SpecError(
            f"must be a positive number of tokens, got {long_context_threshold}",
            field="long_context_threshold",
        )
    if background_min_quality is not None and not 0.0 <= background_min_quality <= 1.0:
        raise SpecError(
            f"must be between 0 and 1, got {background_min_quality}",
            field="background_min_quality",
        )
    met = [c for c in items if c.sla_met]
    excluded = tuple(c.name for c in items if not c.sla_met)
    if met:
        pool, sla_note = met, ""
    else:
        pool = items
        sla_note = "no model met the SLA, so this choice is among all models"
    ctx = _Context(pool, sla_note)

    def pick_default(left: Sequence[Candidate]) -> Candidate:
        named = [c for c in left if c.name == recommended]
        return named[0] if named and met else _pick_default(ctx, left)

    default_order = _order(pool, pick_default)
    rank = {c.name: i for i, c in enumerate(default_order)}
    default = default_order[0]
    choices: list[RouteChoice] = []

    def add(route: Route, chosen: Candidate, reason: str, order: Sequence[Candidate]) -> None:
        choices.append(
            RouteChoice(
                route=route,
                model_name=chosen.name,
                reason=reason,
                fallbacks=tuple(c.name for c in order if c.name != chosen.name),
                context_window_fallbacks=_larger_windows(chosen, pool, rank),
                measured=route != "webSearch",
            )
        )

    if default.name == recommended and met:
        why = recommended_why or "the model the recommendation chose"
        reason = f"{why}; {_figures(default, ctx.tasks_of(default))}"
    else:
        reason = _default_reason(ctx, default, pool)
    add("default", default, reason, default_order)

    background, rule = _pick_background(ctx, pool, background_min_quality)
    background_order = _order(
        pool, lambda left: _pick_background(ctx, left, background_min_quality)[0]
    )
    add(
        "background",
        background,
        _background_reason(ctx, background, rule, pool, background_min_quality),
        background_order,
    )

    known_tasks = sorted({task for c in items for task in c.quality_by_task})
    if think_task is not None and think_task not in known_tasks:
        raise SpecError(
            f"no candidate was measured on {think_task!r}; measured task types: "
            f"{', '.join(known_tasks) or 'none'}",
            field="think_task",
        )
    hardest = _hardest_task(ctx)
    if think_task is not None:
        task, why_task = think_task, "the task type asked for"
    elif hardest is not None:
        task = hardest[0]
        why_task = (
            f"the hardest task type measured (mean score {fmt_quality(hardest[1])} across models)"
        )
    else:
        task, why_task = "", ""
    if task:
        think_order = _order(pool, lambda left: _pick_think(left, task))
        think = think_order[0]
        add("think", think, _think_reason(think, pool, task, why_task, sla_note), think_order)
    else:
        reason = _with_note(
            "no quality was measured for any model, so this follows the default route; "
            + _figures(default, ()),
            sla_note,
        )
        add("think", default, reason, default_order)

    if any(c.context_window is not None for c in pool):
        long_order = _order(pool, lambda left: _pick_long_context(rank, left))
        longest = long_order[0]
        reason = _long_context_reason(ctx, longest, long_context_threshold, False)
        add("longContext", longest, reason, long_order)
    else:
        reason = _long_context_reason(ctx, default, long_context_threshold, True)
        add("longContext", default, reason, default_order)

    add("webSearch", default, _web_search_reason(default, sla_note), default_order)
    return RoutingDecision(
        routes=tuple(choices),
        long_context_threshold=long_context_threshold,
        sla_met_by_none=not met,
        excluded_by_sla=excluded,
    )
