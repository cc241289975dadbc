"""From a YAML file to a validated :class:`Spec`: secrets from the environment, paths made
absolute, and every problem one :class:`SpecError` naming the file, the field path and the line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modelmeter._exceptions import SpecError
from modelmeter.spec.locate import read_yaml, validation_lines
from modelmeter.spec.study import Spec, spec_model
from modelmeter.spec.targets import (
    OpenAITargetSpec,
    PythonTargetSpec,
    broken_plugins,
    target_kinds,
)

__all__ = ["load_spec", "parse_spec"]

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Tagged unions add the tag (a target kind, a pricing kind) to an error's path: shown, but it is
# no key of the file.
_PRICING_KINDS = frozenset({"instance", "api", "catalogue"})


def _expand_env(value: Any, where: str, path: Path) -> Any:
    """Replace ${VAR} in header values; a missing variable is a spec error, never an empty key."""
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise SpecError(f"environment variable {name} is not set", path=path, field=where)
            return os.environ[name]

        return _ENV_VAR.sub(lookup, value)
    return value


def _expand_secrets(target: dict[str, Any], where: str, path: Path) -> None:
    if isinstance(target.get("headers"), dict):
        target["headers"] = {
            key: _expand_env(value, f"{where}.headers.{key}", path)
            for key, value in target["headers"].items()
        }
    if "api_key" in target:
        target["api_key"] = _expand_env(target["api_key"], f"{where}.api_key", path)


def _tag_test() -> Callable[[int | str], bool]:
    tags = _PRICING_KINDS | set(target_kinds())
    return lambda part: part in tags


def parse_spec(data: Any, *, path: Path, root: yaml.Node | None = None) -> Spec:
    """Validate spec ``data`` read from ``path`` (``root``: its YAML nodes, for line numbers)."""
    if not isinstance(data, dict):
        raise SpecError(
            "the spec must be a YAML mapping (name:, dataset:, targets:, ...)", path=path
        )
    for index, target in enumerate(data.get("targets") or []):
        if not isinstance(target, dict):
            continue
        if "api_key" in target:
            named = _ENV_VAR.fullmatch(str(target["api_key"]).strip())
            if named and "api_key_env" not in target:
                target["api_key_env"] = named.group(1)
        _expand_secrets(target, f"targets[{index}]", path)
    evaluation = data.get("evaluation")
    judge = evaluation.get("judge") if isinstance(evaluation, dict) else None
    judge_target = judge.get("target") if isinstance(judge, dict) else None
    if isinstance(judge_target, dict):
        _expand_secrets(judge_target, "evaluation.judge.target", path)
    try:
        spec = spec_model().model_validate(data)
    except ValidationError as exc:
        lines = validation_lines(exc, root, skip=_tag_test())
        kinds = {t.get("kind") for t in data.get("targets") or [] if isinstance(t, dict)}
        lines += [
            f"  target kind '{kind}' is installed but its plugin could not be loaded: {why}"
            for kind, why in broken_plugins().items()
            if kind in kinds
        ]
        raise SpecError("invalid spec\n" + "\n".join(lines), path=path) from None
    _resolve_paths(spec, path.parent)
    return spec


def _resolve_paths(spec: Spec, base: Path) -> None:
    """Relative paths in a spec are read from the spec's folder."""
    datasets = [spec.dataset] if spec.dataset is not None else []
    datasets += [task.dataset for task in spec.tasks]
    for dataset in datasets:
        if not dataset.path.is_absolute():
            dataset.path = (base / dataset.path).resolve()
    catalogue = spec.economics.catalogue
    if isinstance(catalogue, Path) and not catalogue.is_absolute():
        spec.economics.catalogue = (base / catalogue).resolve()
    trace = spec.load.trace
    if trace is not None and not trace.path.is_absolute():
        trace.path = (base / trace.path).resolve()
    for target in spec.targets:
        if (
            isinstance(target, PythonTargetSpec)
            and target.model_path is not None
            and not target.model_path.is_absolute()
        ):
            target.model_path = (base / target.model_path).resolve()
        if (
            isinstance(target, OpenAITargetSpec)
            and target.tokenizer is not None
            and not target.tokenizer.is_absolute()
        ):
            target.tokenizer = (base / target.tokenizer).resolve()


def load_spec(path: Path) -> Spec:
    """Read and validate a spec file; every problem becomes a ``SpecError`` naming the place."""
    data, root = read_yaml(path, "file")
    return parse_spec(data, path=path, root=root)
