"""Building targets by kind: the built-in kinds, those plugins add, and those added at run time.

The kinds themselves (name, settings model, factory) are declared in
:mod:`modelmeter.spec.targets`, so that a spec validates each target with its own kind's model;
this module turns validated settings into a running target, importing a kind's factory (and
whatever SDK it needs) only when a target of that kind is built.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any, TypeVar

from modelmeter._exceptions import SpecError
from modelmeter.spec.targets import TargetKind, TargetSettings, add_target_kind, target_kinds
from modelmeter.targets.base import Target

__all__ = ["TargetFactory", "create_target", "known_kinds", "register_target"]

TargetFactory = Callable[[Any], Target]
_Factory = TypeVar("_Factory", bound=Callable[..., Any])


def register_target(
    kind: str, settings: type[TargetSettings] | None = None, *, install_hint: str | None = None
) -> Callable[[_Factory], _Factory]:
    """Decorator: targets of ``kind`` are built by the decorated factory.

    ``settings`` is the pydantic model a spec's entry of this kind is validated with (a
    subclass of :class:`~modelmeter.spec.TargetSettings` declaring ``kind: Literal["<kind>"]``);
    it may be left out only to replace the factory of a kind that is already known.
    """

    def decorate(factory: _Factory) -> _Factory:
        known = target_kinds().get(kind)
        model = settings if settings is not None else known.settings if known else None
        if model is None:
            raise TypeError(
                f"target kind '{kind}' is new: give its settings model, "
                f"register_target('{kind}', settings=...)"
            )
        add_target_kind(TargetKind(kind, model, factory, install_hint))
        return factory

    return decorate


def known_kinds() -> list[str]:
    return sorted(target_kinds())


def _factory(kind: TargetKind) -> Callable[[Any], Any]:
    if not isinstance(kind.factory, str):
        return kind.factory
    module_name, _, attribute = kind.factory.partition(":")
    try:
        module = import_module(module_name)
    except ImportError as exc:
        hint = f"; {kind.install_hint}" if kind.install_hint else ""
        raise SpecError(
            f"target kind '{kind.name}' needs {exc.name or module_name}, which is not "
            f"installed{hint}"
        ) from None
    factory: Callable[[Any], Any] = getattr(module, attribute)
    return factory


def create_target(spec: Any) -> Target:
    """Build the target a validated spec entry describes."""
    kind = target_kinds().get(spec.kind)
    if kind is None:
        raise SpecError(
            f"unknown target kind '{spec.kind}'; known kinds: {', '.join(known_kinds())}",
            field=f"targets.{spec.name}.kind",
        )
    try:
        target: Target = _factory(kind)(spec)
    except SpecError as exc:
        if exc.field is not None and exc.field.startswith("targets."):
            raise
        # Name the target, so that a spec with several of one kind says which one is wrong.
        where = f"targets.{spec.name}" + (f".{exc.field}" if exc.field else "")
        raise SpecError(exc.message, path=exc.path, field=where) from None
    except ValueError as exc:
        # A factory (a plugin's, or ours) refusing a setting the spec's checks let through.
        raise SpecError(str(exc), field=f"targets.{spec.name}") from None
    return target
