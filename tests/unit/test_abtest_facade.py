"""The abtest package: its public names, and what it must never import."""

from __future__ import annotations

import ast
from pathlib import Path

import modelmeter.abtest as abtest


def _isort_style(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions (ruff's RUF022 order)."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def test_all_is_sorted_and_resolves() -> None:
    assert abtest.__all__ == sorted(abtest.__all__, key=_isort_style)
    for name in abtest.__all__:
        assert getattr(abtest, name) is not None


def test_no_statsmodels_and_no_cli_in_the_library() -> None:
    # statsmodels is a test-only cross-check; the CLI sits above the library, never below it.
    for source in sorted(Path(abtest.__file__).parent.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                assert not module.startswith("statsmodels"), f"{source.name} imports {module}"
                assert not module.startswith("modelmeter.cli"), f"{source.name} imports {module}"
