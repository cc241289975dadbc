"""Why each route went to its model, in figures."""

from __future__ import annotations

from collections.abc import Sequence

from modelmeter._figures import fmt_quality
from modelmeter.decide._facts import join_words
from modelmeter.routing.choose.candidates import Candidate
from modelmeter.routing.choose.facts import (
    _best_quality,
    _bracketed,
    _Context,
    _cost_key,
    _figures,
    _money,
    _task_label,
    _tied_with,
    _window_text,
)


def _with_note(text: str, note: str) -> str:
    return f"{text}; {note}." if note else f"{text}."


def _price(candidate: Candidate) -> str:
    if candidate.cost_per_1m_tokens is None:
        return "unknown"
    return _money(candidate.cost_per_1m_tokens, candidate.currency)


_DIFFERENT_TASKS = (
    " (the models were measured on different task types, so each score is the mean over the "
    "model's own)"
)


def _default_reason(ctx: _Context, chosen: Candidate, pool: Sequence[Candidate]) -> str:
    figures = _figures(chosen, ctx.tasks_of(chosen))
    measured = [c for c in pool if c.name in ctx.quality]
    if chosen.name not in ctx.quality:
        claim = "no quality was measured for any model, so the cheapest was chosen"
        return _with_note(f"{claim}; {figures}", ctx.sla_note)
    best = _best_quality(ctx, measured)
    tied = [c for c in measured if _tied_with(ctx.quality[best.name], ctx.quality[c.name])]
    scope = "" if ctx.comparable else _DIFFERENT_TASKS
    if best.name == chosen.name:
        claim = f"highest quality, {ctx.quality_words(chosen)}{scope}, "
        if len(tied) == 1:
            claim += "with no other model inside its interval"
        else:
            others = join_words([c.name for c in tied if c.name != chosen.name])
            claim += f"and the cheapest of the models inside its interval (also {others})"
    else:
        claim = (
            f"its {ctx.quality_words(chosen)}{scope} lies inside the interval of the best, "
            f"{best.name}'s {ctx.quality_short(best)}, and it is cheaper ({_price(chosen)} vs "
            f"{_price(best)} per 1M tokens)"
        )
    return _with_note(f"{claim}; {figures}", ctx.sla_note)


def _background_reason(
    ctx: _Context, chosen: Candidate, rule: str, pool: Sequence[Candidate], floor: float | None
) -> str:
    figures = _figures(chosen, ctx.tasks_of(chosen))
    if rule == "none":
        claim = "no quality was measured for any model, so the cheapest was chosen"
        return _with_note(f"{claim}; {figures}", ctx.sla_note)
    measured = [c for c in pool if c.name in ctx.quality]
    best = _best_quality(ctx, measured)
    if rule == "below-floor":
        claim = (
            f"no model reaches the required quality {fmt_quality(floor or 0.0)}, so the best "
            f"was chosen, {ctx.quality_words(chosen)}"
        )
    elif rule == "floor":
        claim = (
            f"cheapest model with quality at least {fmt_quality(floor or 0.0)}: "
            f"{ctx.quality_words(chosen)}"
        )
    elif best.name == chosen.name:
        claim = f"the best model, {ctx.quality_words(chosen)}, is also the cheapest acceptable one"
    else:
        claim = (
            f"cheapest model whose interval reaches the best's: {ctx.quality_words(chosen)} "
            f"against {best.name}'s {ctx.quality_short(best)}"
        )
    return _with_note(f"{claim}; {figures}", ctx.sla_note)


def _think_reason(
    chosen: Candidate, pool: Sequence[Candidate], task: str, why_task: str, sla_note: str
) -> str:
    figures = _figures(chosen, [task])
    if task not in chosen.quality_by_task:
        claim = f"no model was measured on {task}, so the cheapest reasoning model was chosen"
        return _with_note(f"{claim}; {figures}", sla_note)
    measured = [c for c in pool if task in c.quality_by_task]
    best = min(measured, key=lambda c: (-c.quality_by_task[task], _cost_key(c), c.name))
    reasoning = "a reasoning model" if chosen.supports_reasoning else "not a reasoning model"
    if best.name == chosen.name:
        claim = f"best {_task_label(task)} on {why_task}, {reasoning}"
    else:
        best_text = _bracketed(best.quality_by_task[task], best.quality_ci_by_task.get(task))
        claim = (
            f"{reasoning}, tied on {task} ({why_task}) with the best, {best.name}'s "
            f"{best_text}, inside its interval"
        )
    return _with_note(f"{claim}; {figures}", sla_note)


def _long_context_reason(
    ctx: _Context, chosen: Candidate, threshold: int, fallback_to_default: bool
) -> str:
    figures = _figures(chosen, ctx.tasks_of(chosen))
    if fallback_to_default:
        claim = "no model's context window is known, so this follows the default route"
        return _with_note(f"{claim}; {figures}", ctx.sla_note)
    window = _window_text(chosen.context_window)
    if (chosen.context_window or 0) >= threshold:
        claim = f"largest context window, {window} (threshold {threshold:,} tokens)"
    else:
        claim = (
            f"no model reaches the {threshold:,}-token threshold; this one has the largest "
            f"window, {window}, so longer prompts will still fail"
        )
    return _with_note(f"{claim}; {figures}", ctx.sla_note)


def _web_search_reason(default: Candidate, sla_note: str) -> str:
    text = (
        "web search was not measured, so this follows the default route; whether "
        f"{default.name} can search the web is not known"
    )
    if default.provider.lower() == "openrouter":
        text += " (on OpenRouter, web search needs the ':online' suffix on the model id)"
    return _with_note(text, sla_note)
