"""Stored data as columns to compare: a run's answers (its predictions, whether each was right,
its service time) and the gateway's traffic log over a span of time (see `gateway`).

Values in, columns out: the store is read by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["prediction_columns"]


def prediction_columns(
    rows: Iterable[Mapping[str, Any]],
    graded: Mapping[str, Mapping[str, bool]] | None = None,
    target: str | None = None,
) -> dict[str, list[Any]]:
    """Columns of a run's answers (``RunStore.predictions``): ``prediction``, ``failed``,
    ``latency_ms``, ``target`` and, where the report graded the item (``graded``: target ->
    sample id -> right), ``correct`` ("right" or "wrong"), so label drift shows as a change in
    the share of right answers. ``target`` keeps one target's rows."""
    columns: dict[str, list[Any]] = {
        "target": [], "prediction": [], "failed": [], "latency_ms": [], "correct": []
    }  # fmt: skip
    for row in rows:
        if target is not None and row["target"] != target:
            continue
        columns["target"].append(row["target"])
        columns["prediction"].append(row["prediction"])
        columns["failed"].append("failed" if row["error_kind"] else "answered")
        columns["latency_ms"].append((row["done_at_ns"] - row["sent_at_ns"]) / 1e6)
        right = (graded or {}).get(row["target"], {}).get(row["sample_id"])
        columns["correct"].append(None if right is None else ("right" if right else "wrong"))
    if all(value is None for value in columns["correct"]):
        del columns["correct"]
    return columns
