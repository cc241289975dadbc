"""The routing decision as a claude-code-router ``config.json``.

claude-code-router (https://github.com/musistudio/claude-code-router) sits between Claude Code
and OpenAI-compatible providers and sends each request to the model its ``Router`` names for
that kind of request (``default``, ``background``, ``think``, ``longContext``, ``webSearch``),
written as ``"provider,model"`` where ``provider`` is the ``name`` of an entry in ``Providers``.
This module writes that file from a :class:`~modelmeter.routing.choose.RoutingDecision`, so the
deployed routes are the measured ones.

Keys are never written: each provider's ``api_key`` is ``"$NAME"``, which claude-code-router
replaces with the environment variable at start-up. :func:`check_claude_code_router` refuses a
literal key and a route that names a provider or model the file does not define; the writer runs
it before writing, so a file it writes always passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from modelmeter._exceptions import ModelmeterError, SpecError
from modelmeter.routing._checks import (
    atomic_write,
    format_path,
    looks_like_secret,
    schema_problems,
    walk_strings,
)
from modelmeter.routing.choose import ROUTES, Candidate, RoutingDecision, candidates_by_name

__all__ = [
    "CLAUDE_CODE_ROUTER_SCHEMA",
    "build_claude_code_router",
    "chat_completions_url",
    "check_claude_code_router",
    "validate_claude_code_router",
    "write_claude_code_router",
]

CLAUDE_CODE_ROUTER_SCHEMA = "claude_code_router.schema.json"
"""File name of the JSON Schema in ``modelmeter/routing/schemas/``."""

_TRANSFORMER_OF_PROVIDER = {"openrouter": "openrouter", "deepseek": "deepseek", "groq": "groq"}
"""Providers with a claude-code-router built-in transformer of the same name."""

_ENV_REFERENCE = re.compile(r"^\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$")


def chat_completions_url(api_base: str) -> str:
    """The full chat completions URL claude-code-router wants from an OpenAI base URL."""
    base = api_base.rstrip("/")
    return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def _providers(used: Sequence[Candidate]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Providers entries (one per provider, endpoint and key), and each model's provider name."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    provider_of: dict[str, str] = {}
    taken: set[str] = set()
    for candidate in used:
        url = chat_completions_url(candidate.api_base)
        key = (candidate.provider.lower(), url, candidate.api_key_env)
        entry = groups.get(key)
        if entry is None:
            name = candidate.provider.lower()
            suffix = 2
            while name in taken:
                name = f"{candidate.provider.lower()}-{suffix}"
                suffix += 1
            taken.add(name)
            entry = {
                "name": name,
                "api_base_url": url,
                "api_key": f"${candidate.api_key_env}",
                "models": [],
            }
            transformer = _TRANSFORMER_OF_PROVIDER.get(candidate.provider.lower())
            if transformer is not None:
                entry["transformer"] = {"use": [transformer]}
            groups[key] = entry
        if candidate.model not in entry["models"]:
            entry["models"].append(candidate.model)
        provider_of[candidate.name] = str(entry["name"])
    return list(groups.values()), provider_of


def build_claude_code_router(
    decision: RoutingDecision,
    candidates: Iterable[Candidate],
    *,
    include_all: bool = False,
    api_timeout_ms: int | None = None,
) -> dict[str, Any]:
    """The ``config.json`` content: ``Providers`` and ``Router`` (and ``API_TIMEOUT_MS``).

    ``Providers`` lists the routed models only, unless ``include_all`` adds every candidate (so
    ``/model provider,model`` can switch to any measured one).
    """
    items = list(candidates)
    by_name = candidates_by_name(decision, items)
    routed = [by_name[choice.model_name] for choice in decision.routes]
    used = items if include_all else list({c.name: c for c in routed}.values())
    providers, provider_of = _providers(used)
    router: dict[str, Any] = {}
    for route in ROUTES:
        model = by_name[decision.choice(route).model_name]
        router[route] = f"{provider_of[model.name]},{model.model}"
        if route == "longContext":
            router["longContextThreshold"] = decision.long_context_threshold
    config: dict[str, Any] = {}
    if api_timeout_ms is not None:
        if api_timeout_ms <= 0:
            raise SpecError(
                f"must be a positive number of milliseconds, got {api_timeout_ms}",
                field="api_timeout_ms",
            )
        config["API_TIMEOUT_MS"] = api_timeout_ms
    config["Providers"] = providers
    config["Router"] = router
    return config


def write_claude_code_router(
    decision: RoutingDecision,
    candidates: Iterable[Candidate],
    path: Path,
    *,
    include_all: bool = False,
    api_timeout_ms: int | None = None,
) -> Path:
    """Write the config as pretty JSON at ``path`` (e.g. ~/.claude-code-router/config.json)."""
    config = build_claude_code_router(
        decision, candidates, include_all=include_all, api_timeout_ms=api_timeout_ms
    )
    problems = check_claude_code_router(config)
    if problems:
        raise ModelmeterError(
            "the claude-code-router config would be invalid:\n  " + "\n  ".join(problems)
        )
    atomic_write(path, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return path


def _key_problem(where: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"{where}: must be a string"
    if value == "" or _ENV_REFERENCE.match(value):
        return None
    return (
        f"{where}: holds a literal value; write a reference to an environment variable "
        'instead, such as "$OPENROUTER_API_KEY" or "${OPENROUTER_API_KEY}"'
    )


def check_claude_code_router(config: Any) -> list[str]:
    """Problems the JSON Schema cannot see: literal keys, and routes to undefined models.

    Every ``api_key`` (and ``APIKEY``) must be empty or a ``$NAME`` / ``${NAME}`` reference, no
    string may look like a key, and each ``Router`` value must be ``"provider,model"`` naming a
    provider in ``Providers`` and one of its ``models``. An empty list means none found.
    """
    if not isinstance(config, Mapping):
        return ["(top level): expected a JSON object with Providers and Router"]
    problems: list[str] = []
    reported: set[str] = set()
    models_of: dict[str, list[str]] = {}
    providers = config.get("Providers")
    if not isinstance(providers, list):
        problems.append("Providers: expected a list of providers")
        providers = []
    for index, provider in enumerate(providers):
        where = format_path(["Providers", index])
        if not isinstance(provider, Mapping):
            problems.append(f"{where}: expected an object with name, api_base_url, api_key")
            continue
        name = provider.get("name")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}.name: expected a non-empty provider name")
            continue
        # claude-code-router matches provider names case-insensitively.
        if name.lower() in {known.lower() for known in models_of}:
            problems.append(f"{where}.name: provider {name!r} is defined twice")
        models = provider.get("models")
        models_of[name] = (
            [m for m in models if isinstance(m, str)] if isinstance(models, list) else []
        )
        if "api_key" in provider:
            problem = _key_problem(f"{where}.api_key", provider["api_key"])
            if problem is not None:
                problems.append(problem)
                reported.add(f"{where}.api_key")
    if "APIKEY" in config:
        problem = _key_problem("APIKEY", config["APIKEY"])
        if problem is not None:
            problems.append(problem)
            reported.add("APIKEY")
    router = config.get("Router")
    if not isinstance(router, Mapping):
        problems.append("Router: expected an object with default, background, think, ...")
        router = {}
    elif "default" not in router:
        problems.append("Router.default: missing; every request without a better route uses it")
    for route, value in router.items():
        where = f"Router.{route}"
        if route == "longContextThreshold":
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                problems.append(f"{where}: expected a positive whole number of tokens")
            continue
        if not isinstance(value, str) or value.count(",") != 1:
            problems.append(f'{where}: expected "provider,model", got {value!r}')
            continue
        provider_name, model = value.split(",")
        if provider_name not in models_of:
            known = ", ".join(models_of) or "none"
            problems.append(
                f"{where}: {value!r} names provider {provider_name!r}, which is not in "
                f"Providers (defined: {known})"
            )
        elif model not in models_of[provider_name]:
            listed = ", ".join(models_of[provider_name]) or "none"
            problems.append(
                f"{where}: {value!r} names model {model!r}, which provider {provider_name!r} "
                f"does not list in its models ({listed})"
            )
    for where, text in walk_strings(config):
        if where not in reported and looks_like_secret(text):
            problems.append(
                f"{where}: looks like an API key; keep keys in environment variables and "
                'write "$NAME" here'
            )
    return problems


def validate_claude_code_router(config: Any) -> list[str]:
    """JSON Schema violations (needs jsonschema) followed by :func:`check_claude_code_router`."""
    return schema_problems(config, CLAUDE_CODE_ROUTER_SCHEMA) + check_claude_code_router(config)
