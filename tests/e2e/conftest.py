"""The end-to-end tier: the CLI as a user runs it, on real servers and trained models.

Every test here is marked ``slow`` so a quick loop can leave the tier out (``pytest -m "not
slow"``); ``make test`` and CI run it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)
