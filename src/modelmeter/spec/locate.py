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
from modelmeter._text_files import not_utf8_message

__all__ = ["field_path", "line_of", "read_yaml", "validation_lines"]

Loc = Sequence[int | str]


# A spec or a candidates file is a few hundred values; these bounds stop a hostile one (a
# 570-byte alias bomb expands to billions of values) when it is read, not at the first request.
MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_YAML_VALUES = 100_000


def read_yaml(path: Path, what: str = "file") -> tuple[Any, yaml.Node | None]:
    """The data in ``path`` and its node tree (for line numbers); a :class:`SpecError` if not
    readable or not YAML, naming the line and column of a syntax error.

    The file may hold at most ``MAX_YAML_BYTES`` and, with every alias (``*name``) counted as
    a copy of what it stands for, ``MAX_YAML_VALUES`` values.
    """
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise SpecError(
                f"the {what} holds {size:,} bytes; at most {MAX_YAML_BYTES:,} are read", path=path
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{what} not found", path=path) from None
    except UnicodeDecodeError as exc:
        message, line = not_utf8_message(path, exc)
        where = f"line {line}: " if line is not None else ""
        raise SpecError(f"{where}cannot read the {what}: {message}", path=path) from None
    except OSError as exc:
        raise SpecError(f"cannot read the {what}: {exc.strerror or exc}", path=path) from None
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # checks the characters first
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_expanded_size(root, path, what)
        return loader.construct_document(root), root
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{where}not valid YAML: {problem}", path=path) from None
    except RecursionError:
        raise SpecError(f"not usable YAML: the {what} is nested too deeply", path=path) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        problem = str(exc).split(";")[0]
        raise SpecError(f"not usable YAML: {problem}", path=path) from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_expanded_size(root: yaml.Node, path: Path, what: str) -> None:
    """Refuse a node tree that aliases expand beyond ``MAX_YAML_VALUES`` values, or that
    contains itself. Walked without recursion; each node is sized once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            open_nodes.add(id(node))
            stack.append((node, True))
            for child in children:
                if id(child) in open_nodes:
                    line = child.start_mark.line + 1
                    raise SpecError(
                        f"line {line}: an alias refers to a value that contains it", path=path
                    )
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        open_nodes.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
        if sizes[id(node)] > MAX_YAML_VALUES:
            line = node.start_mark.line + 1
            raise SpecError(
                f"line {line}: with its aliases (*name) expanded, the {what} holds more than "
                f"{MAX_YAML_VALUES:,} values; write the values out, or use fewer aliases",
                path=path,
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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
