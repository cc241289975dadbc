"""The routing decision as a LiteLLM proxy ``config.yaml`` (model_list and router_settings).

A LiteLLM proxy (https://docs.litellm.ai/docs/proxy/configs) serves each ``model_name`` of its
``model_list`` and retries, then falls back, as ``router_settings`` says. The export gives every
route its own ``model_name`` (``default``, ``background``, ``think``, ``longContext``,
``webSearch``), so a client picks a route by name; each fallback target gets an entry named after
the candidate. ``fallbacks`` list the next models by the route's own rule, and
``context_window_fallbacks`` the models with larger windows, smallest first.

Routing strategy: ``simple-shuffle``. Each route alias holds exactly one deployment, so the
strategy (which only chooses *between deployments of one model_name*) never overrides the
measured choice; simple-shuffle is LiteLLM's default, needs no shared state (Redis) and adds no
latency. latency-, usage- and cost-based routing would matter only with several deployments per
alias, which the measured decision does not produce.

Keys are never written: ``api_key`` is ``os.environ/NAME``, which the proxy reads at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

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
    "LITELLM_CONFIG_SCHEMA",
    "ROUTING_STRATEGIES",
    "RoutingStrategy",
    "build_litellm_config",
    "check_litellm_config",
    "litellm_config_text",
    "litellm_model",
    "validate_litellm_config",
    "write_litellm_config",
]

LITELLM_CONFIG_SCHEMA = "litellm_config.schema.json"
"""File name of the JSON Schema in ``modelmeter/routing/schemas/``."""

RoutingStrategy = Literal[
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
]
ROUTING_STRATEGIES: tuple[RoutingStrategy, ...] = get_args(RoutingStrategy)
"""LiteLLM's router strategies (``router_settings.routing_strategy``)."""

_NATIVE_PROVIDERS = {"openrouter": "openrouter"}
"""Providers LiteLLM knows by name; any other OpenAI-compatible server goes through openai/."""

_ENV_REFERENCE = re.compile(r"^os\.environ/[A-Za-z_][A-Za-z0-9_]*$")


def litellm_model(candidate: Candidate) -> str:
    """``openrouter/<id>`` for OpenRouter, ``openai/<id>`` for any other compatible server."""
    prefix = _NATIVE_PROVIDERS.get(candidate.provider.lower(), "openai")
    return f"{prefix}/{candidate.model}"


def _api_base(candidate: Candidate) -> str:
    base = candidate.api_base.rstrip("/")
    return base.removesuffix("/chat/completions")


def _deployment(model_name: str, candidate: Candidate) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "model_name": model_name,
        "litellm_params": {
            "model": litellm_model(candidate),
            "api_base": _api_base(candidate),
            "api_key": f"os.environ/{candidate.api_key_env}",
        },
    }
    if candidate.context_window is not None:
        entry["model_info"] = {"max_input_tokens": candidate.context_window}
    return entry


def build_litellm_config(
    decision: RoutingDecision,
    candidates: Iterable[Candidate],
    *,
    routing_strategy: RoutingStrategy = "simple-shuffle",
    num_retries: int = 2,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """The ``config.yaml`` content as a dict: ``model_list`` and ``router_settings``."""
    if routing_strategy not in ROUTING_STRATEGIES:
        raise SpecError(
            f"unknown strategy {routing_strategy!r}; LiteLLM's are {', '.join(ROUTING_STRATEGIES)}",
            field="routing_strategy",
        )
    if num_retries < 0:
        raise SpecError(f"must be 0 or more, got {num_retries}", field="num_retries")
    if not timeout_s > 0:
        raise SpecError(f"must be a positive number of seconds, got {timeout_s}", field="timeout_s")
    items = list(candidates)
    by_name = candidates_by_name(decision, items)
    for index, candidate in enumerate(items):
        if candidate.name in ROUTES:
            raise SpecError(
                f"the name {candidate.name!r} is also a route alias in the LiteLLM config "
                f"({', '.join(ROUTES)}); rename the model",
                field=f"candidates[{index}].name",
            )
    model_list = [
        _deployment(choice.route, by_name[choice.model_name]) for choice in decision.routes
    ]
    targets: list[str] = []
    for choice in decision.routes:
        for name in (*choice.fallbacks, *choice.context_window_fallbacks):
            if name not in targets:
                targets.append(name)
    model_list += [_deployment(name, by_name[name]) for name in targets]
    settings: dict[str, Any] = {
        "routing_strategy": routing_strategy,
        "num_retries": num_retries,
        "timeout": timeout_s,
    }
    fallbacks = [{c.route: list(c.fallbacks)} for c in decision.routes if c.fallbacks]
    if fallbacks:
        settings["fallbacks"] = fallbacks
    window_fallbacks = [
        {c.route: list(c.context_window_fallbacks)}
        for c in decision.routes
        if c.context_window_fallbacks
    ]
    if window_fallbacks:
        settings["context_window_fallbacks"] = window_fallbacks
    return {"model_list": model_list, "router_settings": settings}


def _header(decision: RoutingDecision) -> str:
    lines = [
        "LiteLLM proxy config written by modelmeter from a run's measured routing decision.",
        "Start it with: litellm --config config.yaml. Keys come from the environment.",
        "Why each route goes where it goes:",
        *decision.explain(),
    ]
    return "".join(f"# {' '.join(line.split())}\n" for line in lines)


def write_litellm_config(
    decision: RoutingDecision,
    candidates: Iterable[Candidate],
    path: Path,
    *,
    routing_strategy: RoutingStrategy = "simple-shuffle",
    num_retries: int = 2,
    timeout_s: float = 600.0,
) -> Path:
    """Write the config as YAML at ``path``, the reasons as comments at the top."""
    text = litellm_config_text(
        decision,
        candidates,
        routing_strategy=routing_strategy,
        num_retries=num_retries,
        timeout_s=timeout_s,
    )
    atomic_write(path, text)
    return path


def litellm_config_text(
    decision: RoutingDecision,
    candidates: Iterable[Candidate],
    *,
    routing_strategy: RoutingStrategy = "simple-shuffle",
    num_retries: int = 2,
    timeout_s: float = 600.0,
) -> str:
    """The config as YAML text, the reasons as comments at the top (checked first)."""
    config = build_litellm_config(
        decision,
        candidates,
        routing_strategy=routing_strategy,
        num_retries=num_retries,
        timeout_s=timeout_s,
    )
    problems = check_litellm_config(config)
    if problems:
        raise ModelmeterError("the LiteLLM config would be invalid:\n  " + "\n  ".join(problems))
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return _header(decision) + body


def _fallback_problems(
    settings: Mapping[str, Any], key: str, names: set[str], problems: list[str]
) -> None:
    value = settings.get(key)
    if value is None:
        return
    if not isinstance(value, list):
        problems.append(f"router_settings.{key}: expected a list of {{model_name: [...]}}")
        return
    for index, item in enumerate(value):
        where = format_path(["router_settings", key, index])
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected {{model_name: [fallback, ...]}}")
            continue
        for source, targets in item.items():
            if source not in names:
                problems.append(
                    f"{where}: {source!r} is not a model_name in model_list "
                    f"(defined: {', '.join(sorted(names)) or 'none'})"
                )
            if not isinstance(targets, list):
                problems.append(f"{where}.{source}: expected a list of model_names")
                continue
            for target in targets:
                if target == source:
                    problems.append(f"{where}.{source}: falls back to itself")
                elif target not in names:
                    problems.append(
                        f"{where}.{source}: fallback {target!r} is not a model_name in model_list"
                    )


def check_litellm_config(config: Any) -> list[str]:
    """Problems the JSON Schema cannot see: literal keys and fallbacks to undefined models.

    Every ``litellm_params.api_key`` must be ``os.environ/NAME``, no string may look like a key,
    each ``model`` must carry a provider prefix, and every fallback source and target must be a
    ``model_name`` of ``model_list``. An empty list means none found.
    """
    if not isinstance(config, Mapping):
        return ["(top level): expected a mapping with model_list and router_settings"]
    problems: list[str] = []
    reported: set[str] = set()
    names: set[str] = set()
    model_list = config.get("model_list")
    if not isinstance(model_list, list) or not model_list:
        problems.append("model_list: expected a non-empty list of deployments")
        model_list = []
    for index, entry in enumerate(model_list):
        where = format_path(["model_list", index])
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: expected model_name and litellm_params")
            continue
        name = entry.get("model_name")
        if isinstance(name, str) and name:
            names.add(name)
        else:
            problems.append(f"{where}.model_name: expected a non-empty name")
        params = entry.get("litellm_params")
        if not isinstance(params, Mapping):
            problems.append(f"{where}.litellm_params: expected model, api_base, api_key")
            continue
        model = params.get("model")
        if not isinstance(model, str) or "/" not in model:
            problems.append(
                f"{where}.litellm_params.model: expected '<provider>/<model id>', such as "
                f"openrouter/qwen/qwen-2.5-coder-32b-instruct, got {model!r}"
            )
        if "api_key" in params:
            key = params["api_key"]
            if not isinstance(key, str) or not _ENV_REFERENCE.match(key):
                problems.append(
                    f"{where}.litellm_params.api_key: holds a literal value; write a reference "
                    "to an environment variable instead, such as os.environ/OPENROUTER_API_KEY"
                )
                reported.add(f"{where}.litellm_params.api_key")
    settings = config.get("router_settings", {})
    if not isinstance(settings, Mapping):
        problems.append("router_settings: expected a mapping")
        settings = {}
    strategy = settings.get("routing_strategy")
    if strategy is not None and strategy not in ROUTING_STRATEGIES:
        problems.append(
            f"router_settings.routing_strategy: {strategy!r} is not one of LiteLLM's "
            f"strategies ({', '.join(ROUTING_STRATEGIES)})"
        )
    for key in ("fallbacks", "context_window_fallbacks"):
        _fallback_problems(settings, key, names, problems)
    for where, text in walk_strings(config):
        if where not in reported and looks_like_secret(text):
            problems.append(
                f"{where}: looks like an API key; keep keys in environment variables and "
                "write os.environ/NAME here"
            )
    return problems


def validate_litellm_config(config: Any) -> list[str]:
    """JSON Schema violations (needs jsonschema) followed by :func:`check_litellm_config`."""
    return schema_problems(config, LITELLM_CONFIG_SCHEMA) + check_litellm_config(config)
