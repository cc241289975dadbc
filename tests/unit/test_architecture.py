"""The layering drawn in docs/architecture.md, checked on every module's imports.

The layer table is read from the doc itself, so the doc and this test cannot drift apart. Every
import counts: at module level, inside functions, and under ``TYPE_CHECKING`` (a type-only
import still ties the modules together for a reader); cycles are looked for among the imports
that run.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "modelmeter"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
MAX_LINES = 600

COMPUTING = {
    "quality",
    "economics",
    "decide",
    "production",
    "routing",
    "advice",
    "drift",
    "privacy",
}
NO_INPUT_OUTPUT = {"client", "targets", "load", "sandbox", "store", "report"}
MEASURING_CODE = {"client", "targets", "load"}


def _layers() -> dict[str, int]:
    """Package -> layer number, from the doc's table rows '| N name | `pkg`, `pkg` | ... |'."""
    layers: dict[str, int] = {}
    for match in re.finditer(r"^\| (\d+) [a-z]+ \| ([^|]+) \|", DOC, re.MULTILINE):
        for package in re.findall(r"`([A-Za-z_]+)`", match.group(2)):
            layers[package] = int(match.group(1))
    return layers


LAYERS = _layers()


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted (the deepest that exists)
    line: int
    runs: bool  # False for imports under `if TYPE_CHECKING:`


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in SRC.rglob("*.py")}


def _deepest_module(name: str) -> str:
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports_of(name: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names] or [module]
        for target in targets:
            if target.split(".")[0] != "modelmeter":
                continue
            resolved = _deepest_module(target)
            if resolved != name:
                yield Import(name, resolved, node.lineno, id(node) not in type_only)


IMPORTS = [imp for name, path in MODULES.items() for imp in _imports_of(name, path)]


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _where(imp: Import) -> str:
    return f"{imp.source} (line {imp.line}) imports {imp.target}"


def test_every_package_has_a_layer() -> None:
    packages = {_package(module) for module in MODULES}
    assert packages - set(LAYERS) == set(), "add these to the table in docs/architecture.md"
    assert set(LAYERS) - packages == set(), "the doc names packages that do not exist"


def test_imports_go_down_the_layers() -> None:
    upward = [
        f"{_where(imp)}: layer {LAYERS[_package(imp.source)]} -> {LAYERS[_package(imp.target)]}"
        for imp in IMPORTS
        if LAYERS[_package(imp.target)] > LAYERS[_package(imp.source)]
    ]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize(
    ("importers", "forbidden", "why"),
    [
        (set(LAYERS) - {"cli", "__main__"}, {"cli"}, "only the CLI uses the CLI"),
        (COMPUTING, NO_INPUT_OUTPUT, "computation over values does no input or output"),
        ({"report"}, COMPUTING, "report renders and computes nothing"),
        ({"serve", "simulate"}, MEASURING_CODE, "servers never import what measures them"),
    ],
)
def test_rules_beyond_the_layers(importers: set[str], forbidden: set[str], why: str) -> None:
    broken = [
        _where(imp)
        for imp in IMPORTS
        if _package(imp.source) in importers
        and _package(imp.target) in forbidden
        and _package(imp.source) != _package(imp.target)
    ]
    assert not broken, f"{why}:\n" + "\n".join(broken)


def _cycle() -> list[str] | None:
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if imp.runs:
            graph.setdefault(imp.source, set()).add(imp.target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_module_imports_itself_round_a_cycle() -> None:
    cycle = _cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_long_modules_are_named_in_the_doc() -> None:
    listed = set(re.findall(r"^\| `([\w/]+\.py)` \|", DOC, re.MULTILINE))
    long = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert long - listed == set(), f"over {MAX_LINES} lines and not in docs/architecture.md"
    assert listed - long == set(), "listed as long in docs/architecture.md but no longer is"


def test_the_imports_are_really_read() -> None:
    """The rules above would pass on an empty list: make sure every kind of import is found."""
    found = {(imp.source, imp.target, imp.runs) for imp in IMPORTS}
    assert ("modelmeter.load.engine", "modelmeter.targets.base", True) in found  # module level
    assert ("modelmeter.cli.run", "modelmeter.study", True) in found  # inside a function
    assert ("modelmeter.cli._output", "modelmeter.study", False) in found  # TYPE_CHECKING
    assert ("modelmeter.client._client", "modelmeter.client._connection", True) in found
    assert LAYERS["results"] == 1 and LAYERS["cli"] == 8
