"""The public façade: what `import modelmeter` offers, sorted, importable, and every error."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import modelmeter
from modelmeter import _exceptions

SRC = Path(modelmeter.__file__).parent


def test_all_is_sorted_and_resolves() -> None:
    assert modelmeter.__all__ == sorted(modelmeter.__all__)
    for name in modelmeter.__all__:
        assert getattr(modelmeter, name) is not None
    assert sorted(dir(modelmeter)) == sorted(modelmeter.__all__)


def test_run_is_the_library_call() -> None:
    assert callable(modelmeter.run)
    assert modelmeter.run.__module__ == "modelmeter.study.run"


def test_every_error_of_the_tree_is_exported() -> None:
    errors = {
        name
        for name, value in vars(_exceptions).items()
        if inspect.isclass(value) and issubclass(value, Exception)
    }
    assert errors <= set(modelmeter.__all__)
    for name in errors:
        assert issubclass(getattr(modelmeter, name), modelmeter.ModelmeterError), name


def test_every_error_is_drawn_in_the_tree() -> None:
    drawn = _exceptions.__doc__ or ""
    for name, value in vars(_exceptions).items():
        if inspect.isclass(value) and issubclass(value, Exception):
            assert re.search(rf"\b{name}\b", drawn), (
                f"{name} is not drawn in _exceptions' docstring"
            )


def _public_module(path: Path) -> bool:
    parts = path.relative_to(SRC).with_suffix("").parts
    return not any(part.startswith("_") and part != "__init__" for part in parts)


def test_public_errors_are_defined_in_the_tree_only() -> None:
    """An exception class a user can meet lives in _exceptions; private modules may keep their
    own internal ones (a child process's setup error, a parser's control flow)."""
    strays = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "_exceptions.py" or not _public_module(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {ast.unparse(base) for base in node.bases}
                if any(base.endswith(("Error", "Exception", "Failure")) for base in bases):
                    strays.append(f"{path.relative_to(SRC)}: {node.name}")
    assert not strays, strays


def test_a_target_error_says_which_target_and_url() -> None:
    error = modelmeter.ConnectFailed("connection refused").located("base", "http://127.0.0.1:9")
    assert str(error) == "target 'base' at http://127.0.0.1:9: connection refused"
    assert (error.target, error.url) == ("base", "http://127.0.0.1:9")
    # The first place recorded wins: a wrapper further up does not overwrite it.
    assert error.located("other").target == "base"
    assert str(modelmeter.RequestTimeout("no answer")) == "no answer"


@pytest.mark.parametrize("module", ["modelmeter", "modelmeter.cli.app"])
def test_importing_the_package_or_the_cli_loads_no_heavy_dependency(module: str) -> None:
    """What keeps ``modelmeter --version`` and ``--help`` fast (benchmarks/startup.py times
    them): the library's dependencies are imported by the commands that use them."""
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('numpy', 'pydantic', 'scipy', 'sqlalchemy', 'aiohttp', "
        "'httptools', 'yaml', 'jinja2') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
