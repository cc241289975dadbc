"""A LiteLLM proxy ``config.yaml`` read as a gateway file: ``modelmeter gateway
litellm-config.yaml`` serves the routes a run measured and wrote (`routing.litellm_router`),
or a team's existing LiteLLM config.

What is read: each ``model_list`` entry becomes a backend of the route named by its
``model_name`` (several entries of one name are balanced); ``litellm_params.model``
``<provider>/<id>`` becomes the name sent upstream (``<id>``), ``api_base`` the backend's URL,
``api_key: os.environ/NAME`` its ``api_key_env``; ``model_info.max_input_tokens`` the route's
context window. ``router_settings.fallbacks`` and ``context_window_fallbacks`` become the
routes' fallbacks in the order listed, ``num_retries`` and ``timeout`` the gateway's retries
and timeout. A key written into the file itself is refused: keys come from the environment.
Anything else in the file (LiteLLM's own settings) is left alone. Each problem names its line
and field in the LiteLLM file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from modelmeter._exceptions import SpecError
from modelmeter.spec.locate import Loc, field_path, line_of

__all__ = ["from_litellm", "is_litellm_config"]

_ENV = re.compile(r"^os\.environ/([A-Za-z_][A-Za-z0-9_]*)$")
_KNOWN_BASES = {"openrouter": "https://openrouter.ai/api/v1", "openai": "https://api.openai.com/v1"}


def is_litellm_config(data: Any) -> bool:
    return isinstance(data, Mapping) and "model_list" in data and "routes" not in data


def from_litellm(data: Mapping[str, Any], root: yaml.Node | None, path: Path) -> dict[str, Any]:
    """The gateway file's content for a LiteLLM config (``listen`` left to its default)."""

    def fail(loc: Loc, message: str) -> SpecError:
        line = line_of(root, loc)
        where = f"line {line}, " if line is not None else ""
        return SpecError(f"{where}{field_path(loc)}: {message}", path=path)

    entries = data.get("model_list")
    if not isinstance(entries, list) or not entries:
        raise fail(("model_list",), "must be a list of {model_name, litellm_params}")
    backends: list[dict[str, Any]] = []
    routes: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        at: Loc = ("model_list", index)
        if not isinstance(entry, Mapping):
            raise fail(at, "must be a mapping {model_name, litellm_params}")
        name = entry.get("model_name")
        if not isinstance(name, str) or not name:
            raise fail((*at, "model_name"), "must name the route (a string)")
        params = entry.get("litellm_params")
        if not isinstance(params, Mapping):
            raise fail((*at, "litellm_params"), "must be a mapping {model, api_base, api_key}")
        backend = _backend(params, index, name, lambda loc, msg, at=at: fail((*at, *loc), msg))
        backends.append(backend)
        route = routes.setdefault(name, {"model": name, "backends": []})
        route["backends"].append(backend["name"])
        info = entry.get("model_info")
        window = info.get("max_input_tokens") if isinstance(info, Mapping) else None
        if window is not None:
            if type(window) is not int or window < 1:
                raise fail((*at, "model_info", "max_input_tokens"), "must be a count of tokens")
            route["max_input_tokens"] = window
    settings = data.get("router_settings") or {}
    if not isinstance(settings, Mapping):
        raise fail(("router_settings",), "must be a mapping")
    for key, field in (("fallbacks", "fallback"), ("context_window_fallbacks", None)):
        for index, item in enumerate(settings.get(key) or []):
            loc: Loc = ("router_settings", key, index)
            if not isinstance(item, Mapping):
                raise fail(loc, "must be {model_name: [fallback, ...]}")
            for source, targets in item.items():
                if source not in routes:
                    raise fail(loc, f"{source!r} is not a model_name of model_list")
                if not isinstance(targets, list) or not all(t in routes for t in targets):
                    raise fail(loc, "must list model_names of model_list")
                routes[source][field or key] = list(targets)
    config: dict[str, Any] = {"backends": backends, "routes": list(routes.values())}
    retries = settings.get("num_retries")
    if retries is not None:
        config["retries"] = retries
    timeout = settings.get("timeout")
    if timeout is not None:
        config["timeout_s"] = timeout
    return config


def _backend(params: Mapping[str, Any], index: int, name: str, fail: Any) -> dict[str, Any]:
    model = params.get("model")
    if not isinstance(model, str) or not model:
        raise fail(("litellm_params", "model"), "must be <provider>/<model id>")
    provider, _, upstream = model.partition("/")
    if not upstream:
        provider, upstream = "openai", model
    base = params.get("api_base") or _KNOWN_BASES.get(provider)
    if not isinstance(base, str):
        raise fail(
            ("litellm_params", "api_base"),
            f"is needed for provider {provider!r} (the gateway speaks to OpenAI-compatible "
            "servers by URL)",
        )
    backend: dict[str, Any] = {
        "name": _backend_name(name, index),
        "url": base.rstrip("/").removesuffix("/chat/completions"),
        "model": upstream,
    }
    key = params.get("api_key")
    if key is not None:
        found = _ENV.match(key) if isinstance(key, str) else None
        if found is None:
            raise fail(
                ("litellm_params", "api_key"),
                "must be os.environ/NAME: a key written in the file is refused (it would be "
                "read by everyone who can read the file); it is not repeated here",
            )
        backend["api_key_env"] = found.group(1)
    return backend


def _backend_name(route: str, index: int) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "-", route).strip("-._") or "backend"
    return f"{cleaned[:50]}-{index}"
