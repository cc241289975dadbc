"""Programs from Debian packages that some tests run (redis-server, prometheus, promtool)."""

from __future__ import annotations

import os
import shutil

import pytest


def require(program: str, package: str) -> str:
    """The path of ``program``; the test is skipped without it, and fails under CI, where
    ``make test`` installs ``package``."""
    found = shutil.which(program)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{program} is not installed; `make test` installs Debian's {package}")
        pytest.skip(f"{program} is not installed (Debian: apt-get install {package})")
    return found
