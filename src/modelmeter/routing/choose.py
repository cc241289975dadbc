"""Which measured model each kind of request should go to, and why, in figures.

A coding agent behind a router (claude-code-router, a LiteLLM proxy) sends every request to one
of a few routes. This module turns a run's measurements into that choice, so the config a user
deploys is the one the run justified, and every route carries the figures behind it.

The rules (the same ones ``docs/routing.md`` states):

* Only models that met the SLA are chosen. When none did, the choice is among all models and
  every reason says so.
* **default**: the best quality per cost. Quality is the mean score over the task types every
  candidate was measured on. A model whose score lies inside the best model's 95% interval is
  *tied* with it (the difference is not shown by the measurement); the cheapest tied model wins
  (blended USD per 1M tokens), then the higher score, the lower P95, the name.
* **background**: the cheapest *acceptable* model. Acceptable means the model's own interval
  reaches the best model's interval (the two overlap), or, with ``background_min_quality``, a
  mean score at least that high. This is looser than the default's tie, so background is never
  dearer than default.
* **think**: the best score on the hardest task type (lowest mean score across the models, or
  ``think_task``). Among the models tied with the best on it, a reasoning model wins, then the
  higher score, the lower cost, the name.
* **longContext**: the largest context window, ties broken by the default order. When no window
  reaches ``long_context_threshold`` the largest is still chosen and the reason says so.
* **webSearch**: nothing here measures web search; it follows default and says so.
* **fallbacks** of a route: the remaining models in the order the same rule picks them (the rule
  applied again without the models already picked). **context_window_fallbacks**: the models
  with a larger window than the route's model, smallest first, so each step grows the window.

Cost per correct answer is cited but does not rank: it already mixes quality in, and quality is
compared on its own first. Everything is deterministic: every ordering ends with the name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from modelmeter._exceptions import SpecError
from modelmeter._figures import fmt_ms, fmt_quality
from modelmeter._money import format_money
from modelmeter.decide._facts import join_words
from modelmeter.spec.locate import read_yaml, validation_lines

__all__ = [
    "DEFAULT_LONG_CONTEXT_THRESHOLD",
    "ROUTES",
    "Candidate",
    "Route",
    "RouteChoice",
    "RoutingDecision",
    "candidates_by_name",
    "choose_routes",
    "load_candidates",
]

Route = Literal["default", "background", "think", "longContext", "webSearch"]
ROUTES: tuple[Route, ...] = get_args(Route)
"""The routes, in the order claude-code-router's ``Router`` lists them."""

DEFAULT_LONG_CONTEXT_THRESHOLD = 60000
"""claude-code-router's own default ``longContextThreshold``, in tokens."""

_METRIC_OF_TASK = {"code": "pass@1", "multiple_choice": "accuracy", "generation": "score"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROVIDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Score = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class Candidate(BaseModel):
    """One measured model a route may send requests to, with the figures the choice reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="The model's name in the report; unique.")
    provider: str = Field(
        description="Who serves it, e.g. 'openrouter', 'vllm', 'deepseek'; letters, digits, "
        "'_', '.', '-'. 'openrouter' gets OpenRouter's own settings in the exports."
    )
    api_base: str = Field(
        description="The OpenAI-compatible base URL, e.g. https://openrouter.ai/api/v1 "
        "(a URL ending in /chat/completions is accepted too)."
    )
    model: str = Field(
        min_length=1,
        description="The provider's model id, e.g. 'qwen/qwen-2.5-coder-32b-instruct'.",
    )
    api_key_env: str = Field(
        description="NAME of the environment variable that holds the API key (never the key), "
        "e.g. OPENROUTER_API_KEY."
    )
    context_window: int | None = Field(
        default=None, gt=0, description="Context window in tokens, from the pricing catalogue."
    )
    quality_by_task: dict[str, Score] = Field(
        default_factory=dict,
        description="Score in [0, 1] per task type, e.g. {code: 0.71, multiple_choice: 0.64}.",
    )
    quality_ci_by_task: dict[str, tuple[Score, Score]] = Field(
        default_factory=dict,
        description="95% interval (low, high) of each score in quality_by_task, where known.",
    )
    p95_ms: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="P95 response time, milliseconds."
    )
    ttft_p95_ms: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="P95 time to first token, milliseconds (streaming runs).",
    )
    cost_per_1m_tokens: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="Blended price per 1M tokens (input and output mixed as measured).",
    )
    cost_per_correct: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Cost per correct answer."
    )
    currency: str = Field(
        default="USD", min_length=1, description="Currency of both costs; one for all models."
    )
    supports_reasoning: bool = Field(
        default=False,
        description="True when the model emitted reasoning content or is a reasoning model.",
    )
    sla_met: bool = Field(default=True, description="Whether the model met the run's SLA.")

    @field_validator("provider")
    @classmethod
    def _provider_is_a_name(cls, value: str) -> str:
        if not _PROVIDER.match(value):
            raise ValueError(
                f"{value!r} is not a provider name: use letters, digits, '_', '.' or '-' "
                "(no spaces or commas), e.g. 'openrouter'"
            )
        return value

    @field_validator("api_base")
    @classmethod
    def _api_base_is_http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL, e.g. https://openrouter.ai/api/v1")
        return value

    @field_validator("model")
    @classmethod
    def _model_has_no_comma(cls, value: str) -> str:
        if "," in value or value != value.strip():
            raise ValueError(
                f"{value!r}: a model id may not contain a comma or surrounding spaces "
                "(claude-code-router writes routes as 'provider,model')"
            )
        return value

    @field_validator("api_key_env")
    @classmethod
    def _api_key_env_is_a_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(
                "must be the NAME of an environment variable (letters, digits, '_'), such as "
                "OPENROUTER_API_KEY, never the key itself"
            )
        return value

    @model_validator(mode="after")
    def _intervals_match_scores(self) -> Candidate:
        for task, (low, high) in self.quality_ci_by_task.items():
            if task not in self.quality_by_task:
                raise ValueError(
                    f"quality_ci_by_task.{task}: no score for {task!r} in quality_by_task "
                    f"(tasks with a score: {join_words(sorted(self.quality_by_task)) or 'none'})"
                )
            score = self.quality_by_task[task]
            if not low <= score <= high:
                raise ValueError(
                    f"quality_ci_by_task.{task}: the interval ({low}, {high}) must hold the "
                    f"score {score} (low <= score <= high)"
                )
        return self


class RouteChoice(BaseModel):
    """The model one route sends requests to, the reason in figures, and where it falls back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route: Route = Field(description="The route: default, background, think, ...")
    model_name: str = Field(description="Name of the chosen candidate.")
    reason: str = Field(description="Why, citing the measured figures; one sentence.")
    fallbacks: tuple[str, ...] = Field(
        default=(), description="Candidates to try if the chosen one fails, best first."
    )
    context_window_fallbacks: tuple[str, ...] = Field(
        default=(),
        description="Candidates with a larger context window than the chosen one, smallest "
        "first, for requests that do not fit.",
    )
    measured: bool = Field(
        default=True, description="False when no measurement covers what this route is for."
    )


class RoutingDecision(BaseModel):
    """One choice per route, plus what the choice could not rest on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: tuple[RouteChoice, ...] = Field(description="One choice per route, in ROUTES order.")
    long_context_threshold: int = Field(
        gt=0, description="Prompt size in tokens above which the longContext route is used."
    )
    sla_met_by_none: bool = Field(
        default=False, description="True when no model met the SLA, so all were considered."
    )
    excluded_by_sla: tuple[str, ...] = Field(
        default=(), description="Models left out because they broke the SLA."
    )

    def choice(self, route: Route) -> RouteChoice:
        """The choice for ``route``."""
        for item in self.routes:
            if item.route == route:
                return item
        raise KeyError(f"no choice for route {route!r}; routes: {', '.join(ROUTES)}")

    def model_names(self) -> list[str]:
        """Every candidate a route or a fallback names, each once, in first-use order."""
        names: list[str] = []
        for item in self.routes:
            for name in (item.model_name, *item.fallbacks, *item.context_window_fallbacks):
                if name not in names:
                    names.append(name)
        return names

    def explain(self) -> list[str]:
        """One sentence per route, for the report."""
        return [f"{item.route} → {item.model_name}: {item.reason}" for item in self.routes]


# --- figures in words -------------------------------------------------------------------------


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


# --- the figures the rules compare --------------------------------------------------------------


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


def _best_quality(ctx: _Context, measured: Sequence[Candidate]) -> Candidate:
    return min(measured, key=lambda c: (-ctx.quality[c.name].value, _cost_key(c), c.name))


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


# --- reasons -----------------------------------------------------------------------------------


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


# --- the choice --------------------------------------------------------------------------------


def _check_candidates(candidates: Sequence[Candidate], path: Path | None = None) -> None:
    if not candidates:
        raise SpecError(
            "no candidate models: routing needs at least one", path=path, field="candidates"
        )
    seen: set[str] = set()
    for index, candidate in enumerate(candidates):
        if candidate.name in seen:
            raise SpecError(
                f"two candidates are named {candidate.name!r}; names must be unique",
                path=path,
                field=f"candidates[{index}].name",
            )
        seen.add(candidate.name)
    currencies = sorted({c.currency for c in candidates})
    if len(currencies) > 1:
        raise SpecError(
            f"costs are in more than one currency ({', '.join(currencies)}); convert them to "
            "one before comparing",
            path=path,
            field="candidates[].currency",
        )


def _larger_windows(
    chosen: Candidate, pool: Sequence[Candidate], rank: dict[str, int]
) -> tuple[str, ...]:
    if chosen.context_window is None:
        return ()
    larger = [
        c for c in pool if c.context_window is not None and c.context_window > chosen.context_window
    ]
    larger.sort(key=lambda c: (c.context_window or 0, rank.get(c.name, len(rank)), c.name))
    return tuple(c.name for c in larger)


def choose_routes(
    candidates: Iterable[Candidate],
    *,
    long_context_threshold: int = DEFAULT_LONG_CONTEXT_THRESHOLD,
    think_task: str | None = None,
    background_min_quality: float | None = None,
) -> RoutingDecision:
    """Choose a model per route from measured candidates; see the module docstring for the rules.

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

    default_order = _order(pool, lambda left: _pick_default(ctx, left))
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

    add("default", default, _default_reason(ctx, default, pool), default_order)

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


def candidates_by_name(
    decision: RoutingDecision, candidates: Iterable[Candidate]
) -> dict[str, Candidate]:
    """The candidates by name, refusing a decision that names a model they do not hold."""
    by_name: dict[str, Candidate] = {}
    for candidate in candidates:
        by_name.setdefault(candidate.name, candidate)
    for name in decision.model_names():
        if name not in by_name:
            raise SpecError(
                f"the routing decision names {name!r}, which is not among the candidates "
                f"({', '.join(sorted(by_name)) or 'none'}); pass the candidates it was made from",
                field="candidates",
            )
    return by_name


# --- reading candidates from a file ----------------------------------------------------------


def load_candidates(path: Path) -> list[Candidate]:
    """Read candidates from a YAML or JSON file: a list, or a mapping with ``candidates:``.

    Errors name the file, the line and the field (``candidates[2].api_key_env``).
    """
    data, root = read_yaml(path, "candidates file")
    prefix: tuple[int | str, ...] = ()
    if isinstance(data, dict) and "candidates" in data:
        extra = sorted(set(data) - {"candidates"})
        if extra:
            raise SpecError(
                f"unknown key(s) {', '.join(map(str, extra))}; the file holds 'candidates:' only",
                path=path,
            )
        data = data["candidates"]
        prefix = ("candidates",)
    if not isinstance(data, list) or not data:
        raise SpecError(
            "expected a non-empty list of candidates (name, provider, api_base, model, "
            "api_key_env, quality_by_task, ...), or a mapping with 'candidates:'",
            path=path,
        )
    out: list[Candidate] = []
    for index, item in enumerate(data):
        try:
            out.append(Candidate.model_validate(item))
        except ValidationError as exc:
            lines = validation_lines(exc, root, at=(*prefix, index), named=("candidates", index))
            raise SpecError("invalid candidate\n" + "\n".join(lines), path=path) from None
    _check_candidates(out, path)
    return out
