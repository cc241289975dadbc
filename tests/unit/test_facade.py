"""The public façade: what `import modelmeter` offers, sorted and importable."""

from __future__ import annotations

import modelmeter


def test_all_is_sorted_and_resolves() -> None:
    assert modelmeter.__all__ == sorted(modelmeter.__all__)
    for name in modelmeter.__all__:
        assert getattr(modelmeter, name) is not None


def test_run_is_the_library_call() -> None:
    assert callable(modelmeter.run)
    assert modelmeter.run.__module__ == "modelmeter.runner"
