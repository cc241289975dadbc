"""Read YAML and say where a problem is: ``file: line N, field.path: what is wrong``.

Every YAML file modelmeter reads (a spec, a routing candidates file) goes through these, so each
error names the file, the line and the field path the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modelmeter._exceptions import SpecError

__all__ = ["field_path", "line_of", "read_yaml", "validation_lines"]

Loc = Sequence[int | str]


def read_yaml(path: Path, what: str = "file") -> tuple[Any, yaml.Node | None]:
    """The data in ``path`` and its node tree (for line numbers); a :class:`SpecError` if not
    readable or not YAML, naming the line and column of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{what} not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SpecError(f"cannot read the {what}: {reason}", path=path) from None
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{where}not valid YAML: {problem}", path=path) from None


def field_path(loc: Loc) -> str:
    """``('targets', 0, 'url')`` -> ``targets[0].url``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if part < len(node.value) else None
        if found is None:
            break
        node = found
        line = node.start_mark.line + 1
    return line


def validation_lines(
    exc: ValidationError,
    root: yaml.Node | None,
    *,
    at: Loc = (),
    named: Loc | None = None,
    skip: Callable[[int | str], bool] = lambda part: False,
) -> list[str]:
    """One ``  line N, field: message`` per error of ``exc``.

    ``at`` is where the validated value sits in the file (for the line), ``named`` the path
    the field is shown under (default: ``at``); parts for which ``skip`` is true (the tags a
    discriminated union adds) are shown but not looked up.
    """
    shown = at if named is None else named
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        line = line_of(root, (*at, *(part for part in loc if not skip(part))))
        where = f"line {line}, " if line else ""
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}{field_path((*shown, *loc)) or '(spec)'}: {message}")
    return lines
