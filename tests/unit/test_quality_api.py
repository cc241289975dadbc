"""The quality package's public façade."""

from __future__ import annotations

import modelmeter.quality as quality


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps __all__ in: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def test_facade_exports_are_sorted_and_importable() -> None:
    assert quality.__all__ == sorted(quality.__all__, key=_isort_style)
    for name in quality.__all__:
        assert hasattr(quality, name)


def test_no_scikit_learn_in_the_library() -> None:
    import ast
    import pathlib

    root = pathlib.Path(quality.__file__).parent.parent
    for package in ("quality", "economics", "decide"):
        for source in (root / package).rglob("*.py"):
            tree = ast.parse(source.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""]
                else:
                    continue
                for module in modules:
                    assert not module.startswith("sklearn"), f"{source.name} imports {module}"
