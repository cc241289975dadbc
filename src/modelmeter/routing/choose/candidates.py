"""The models a route can go to (measured figures per candidate), the decision's types, and reading
candidates from a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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
from modelmeter.decide._facts import join_words
from modelmeter.spec.locate import read_yaml, validation_lines

__all__ = [
    "DEFAULT_LONG_CONTEXT_THRESHOLD",
    "ROUTES",
    "Candidate",
    "Route",
    "RouteChoice",
    "RoutingDecision",
    "Score",
    "candidates_by_name",
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
