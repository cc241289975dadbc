"""The stats package's public façade, and what it may import."""

from __future__ import annotations

import ast
import pathlib

import modelmeter.quality as quality
import modelmeter.stats as stats


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps __all__ in: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def test_facade_exports_are_sorted_and_importable() -> None:
    assert stats.__all__ == sorted(stats.__all__, key=_isort_style)
    for name in stats.__all__:
        assert hasattr(stats, name), name


def test_intervals_live_in_stats_alone() -> None:
    assert stats.wilson_interval.__module__ == "modelmeter.stats.intervals"
    assert stats.percentile_interval.__module__ == "modelmeter.stats.intervals"
    assert not hasattr(quality, "wilson_interval")


def test_library_never_imports_statsmodels() -> None:
    root = pathlib.Path(stats.__file__).parent
    sources = sorted(root.rglob("*.py"))
    assert sources
    for source in sources:
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


def test_every_public_function_is_documented() -> None:
    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "statistics.md"
    text = doc.read_text(encoding="utf-8")
    functions = [name for name in stats.__all__ if name[:1].islower()]
    missing = [name for name in functions if f"`{name}" not in text]
    assert not missing, f"docs/statistics.md does not mention {missing}"
