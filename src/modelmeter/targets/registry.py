"""Targets registered by kind name; third parties add theirs through entry points.

A package registers a factory in the ``modelmeter.targets`` entry-point group; the factory takes the
target's spec (a pydantic model whose ``kind`` names it) and returns a ``Target``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from modelmeter._exceptions import SpecError
from modelmeter.targets.base import Target

TargetFactory = Callable[[Any], Target]

_FACTORIES: dict[str, TargetFactory] = {}


def register_target(kind: str) -> Callable[[TargetFactory], TargetFactory]:
    """Decorator: make ``kind`` in a spec build targets with the decorated factory."""

    def decorate(factory: TargetFactory) -> TargetFactory:
        _FACTORIES[kind] = factory
        return factory

    return decorate


def _load_builtin_and_plugins() -> None:
    # Imported for their registration side effect; done lazily so that importing modelmeter
    # does not pull in aiohttp or a model runtime.
    from modelmeter.targets import http_json, oip, openai, python_local  # noqa: F401

    for entry in entry_points(group="modelmeter.targets"):
        if entry.name not in _FACTORIES:
            _FACTORIES[entry.name] = entry.load()


def known_kinds() -> list[str]:
    _load_builtin_and_plugins()
    return sorted(_FACTORIES)


def create_target(spec: Any) -> Target:
    """Build the target a spec entry describes."""
    _load_builtin_and_plugins()
    factory = _FACTORIES.get(spec.kind)
    if factory is None:
        raise SpecError(
            f"unknown target kind '{spec.kind}'; known kinds: {', '.join(known_kinds())}",
            field=f"targets.{spec.name}.kind",
        )
    return factory(spec)
