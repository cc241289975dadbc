"""Checks shared by both exports: no literal secrets, and JSON Schema validation on demand.

A routing config ends up in dotfiles, repositories and chat messages, so the exports write only
references to environment variables, and the checks refuse anything that looks like a key. The
JSON Schemas ship in ``schemas/``; validating against them needs ``jsonschema``, which the
product does not need otherwise, so it is imported only when asked for.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from modelmeter._exceptions import ModelmeterError

__all__ = [
    "atomic_write",
    "format_path",
    "load_schema",
    "looks_like_secret",
    "schema_problems",
    "walk_strings",
]

_START = r"(?<![A-Za-z0-9])"  # a key may sit inside a longer string (a URL, openrouter/...)
_SECRET_SHAPES = (
    re.compile(_START + r"sk-[A-Za-z0-9_-]{16,}"),  # OpenAI, OpenRouter (sk-or-), Anthropic, ...
    re.compile(_START + r"(gsk|hf|xai|pplx|glpat|ghp|github_pat)[-_][A-Za-z0-9_-]{16,}"),
    re.compile(_START + r"AIza[0-9A-Za-z_-]{30,}"),  # Google
    re.compile(r"^Bearer\s+\S+", re.IGNORECASE),
    re.compile(_START + r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # a JWT
)


def looks_like_secret(value: str) -> bool:
    """True for strings shaped like a known API key or a bearer token.

    Only known shapes: a long-random-string heuristic would flag model ids. Fields that must
    hold a key reference are checked strictly by each export instead.
    """
    text = value.strip()
    return any(shape.search(text) for shape in _SECRET_SHAPES)


def format_path(parts: Sequence[int | str]) -> str:
    """('Providers', 0, 'api_key') -> 'Providers[0].api_key'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def walk_strings(node: Any, path: tuple[int | str, ...] = ()) -> Iterator[tuple[str, str]]:
    """Every string value (not key) in a JSON-like tree, with its path."""
    if isinstance(node, str):
        yield format_path(path), node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from walk_strings(value, (*path, str(key)))
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from walk_strings(value, (*path, index))


@cache
def _schema_text(name: str) -> str:
    return resources.files("modelmeter.routing").joinpath("schemas", name).read_text("utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in ``modelmeter/routing/schemas/`` (a fresh copy each call)."""
    loaded: dict[str, Any] = json.loads(_schema_text(name))
    return loaded


def schema_problems(config: Any, schema_name: str) -> list[str]:
    """JSON Schema (Draft 2020-12) violations of ``config``, each as 'path: message'."""
    try:
        jsonschema = importlib.import_module("jsonschema")
    except ImportError:
        raise ModelmeterError(
            "validating a routing config against its JSON Schema needs the jsonschema package: "
            "pip install jsonschema (or pip install 'modelmeter[dev]')"
        ) from None
    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    problems = []
    for error in sorted(
        validator.iter_errors(config), key=lambda e: format_path(list(e.absolute_path))
    ):
        problems.append(f"{format_path(list(error.absolute_path))}: {error.message}")
    return problems


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, so a watcher never reads half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
