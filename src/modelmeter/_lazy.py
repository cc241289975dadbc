"""Names of a package imported when first asked for (PEP 562), so that importing the package
costs only what the caller uses: ``__getattr__, __dir__ = lazy_names(__name__, WHERE,
globals())`` with ``WHERE`` mapping each name to the module that defines it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, where: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``; a name found once is kept in
    ``namespace`` (the package's globals), so later lookups cost nothing."""

    def get(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted({*namespace.get("__all__", ()), *where})

    return get, names
