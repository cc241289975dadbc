"""Drift between profiles (`profile`), and a table cut into windows of time.

The tests are those of the row-level comparison (`stats`), read off the sketches:
Kolmogorov-Smirnov on the numeric grid (exact up to its 1% resolution; the asymptotic p-value,
conservative where bins tie) and on text lengths in words (exact), chi-squared on categories;
Wasserstein over the reference's standard deviation, PSI on the reference's deciles,
Jensen-Shannon on categories and words. One Holm-corrected decision per window, as for rows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy import stats

from modelmeter.drift.compare import DriftReport, Rule, _number, decide
from modelmeter.drift.profile import (
    OTHER,
    CategoricalSketch,
    NumericSketch,
    Profile,
    Sketch,
    TextSketch,
    profile_table,
)
from modelmeter.drift.stats import ColumnDrift, categorical_counts_drift, jensen_shannon, psi

__all__ = ["compare_profiles", "profile_windows", "sketch_drift", "window_rows"]


def _ks(
    ref_x: np.ndarray, ref_c: np.ndarray, cur_x: np.ndarray, cur_c: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    """KS statistic and p-value of two weighted samples; the union grid and both CDFs on it."""
    grid = np.union1d(ref_x, cur_x)
    n, m = ref_c.sum(), cur_c.sum()
    ref_cdf = np.concatenate([[0.0], np.cumsum(ref_c)])[np.searchsorted(ref_x, grid, "right")] / n
    cur_cdf = np.concatenate([[0.0], np.cumsum(cur_c)])[np.searchsorted(cur_x, grid, "right")] / m
    statistic = float(np.max(np.abs(ref_cdf - cur_cdf))) if len(grid) else 0.0
    p_value = float(stats.kstwobign.sf(statistic * math.sqrt(n * m / (n + m))))
    return statistic, p_value, grid, ref_cdf, cur_cdf


def _numeric(name: str, ref: NumericSketch, cur: NumericSketch) -> ColumnDrift:
    ref_x, ref_c = ref.points()
    cur_x, cur_c = cur.points()
    statistic, p_value, grid, ref_cdf, cur_cdf = _ks(ref_x, ref_c, cur_x, cur_c)
    wasserstein = float(np.sum(np.abs(ref_cdf - cur_cdf)[:-1] * np.diff(grid)))
    spread = ref.std
    normalised = wasserstein / spread if spread > 0 else (0.0 if wasserstein == 0 else math.inf)
    # the reference's deciles, read off its grid; each side's share below each
    deciles = np.unique(
        ref_x[np.searchsorted(np.cumsum(ref_c) / ref_c.sum(), np.arange(1, 10) / 10)]
    )

    def shares(x: np.ndarray, c: np.ndarray) -> np.ndarray:
        below = np.concatenate([[0.0], np.cumsum(c)])[np.searchsorted(x, deciles, "right")]
        return np.diff(np.concatenate([[0.0], below, [c.sum()]]))

    return ColumnDrift(
        name, "numeric", "ks", statistic, p_value, "wasserstein_norm", normalised,
        psi(shares(ref_x, ref_c), shares(cur_x, cur_c)), ref.n, cur.n,
        {"mean_reference": ref.total / max(ref.n, 1), "mean_current": cur.total / max(cur.n, 1)},
    )  # fmt: skip


def _text(name: str, ref: TextSketch, cur: TextSketch) -> ColumnDrift:
    def lengths(sketch: TextSketch) -> tuple[np.ndarray, np.ndarray]:
        items = sorted(sketch.lengths.items())
        return np.array([k for k, _ in items], float), np.array([v for _, v in items], float)

    statistic, p_value, *_ = _ks(*lengths(ref), *lengths(cur))
    words = sorted((set(ref.words) | set(cur.words)) - {OTHER})
    ref_words = np.array([ref.words[w] for w in words], dtype=float)
    cur_words = np.array([cur.words[w] for w in words], dtype=float)
    seen = sum(n for word, n in cur.words.items() if word in ref.words and word != OTHER)
    cur_total = sum(cur.words.values())
    return ColumnDrift(
        name, "text", "ks_length", statistic, p_value, "jensen_shannon_words",
        jensen_shannon(ref_words, cur_words), None, ref.n, cur.n,
        {
            "out_of_vocabulary": 1 - seen / cur_total if cur_total else 0.0,
            "mean_words_reference": _mean(ref.lengths),
            "mean_words_current": _mean(cur.lengths),
        },
    )  # fmt: skip


def _mean(counts: Counter[int]) -> float:
    total = sum(counts.values())
    return sum(k * v for k, v in counts.items()) / total if total else 0.0


def sketch_drift(name: str, ref: Sketch, cur: Sketch) -> ColumnDrift | str:
    """The column's drift, or why it cannot be compared."""
    if ref.kind != cur.kind:
        return f"{ref.kind} in the reference, {cur.kind} in the current data"
    if ref.n < 2 or cur.n < 2:
        return "fewer than 2 values on one side"
    if isinstance(ref, NumericSketch) and isinstance(cur, NumericSketch):
        return _numeric(name, ref, cur)
    if isinstance(ref, CategoricalSketch) and isinstance(cur, CategoricalSketch):
        return categorical_counts_drift(name, ref.counts, cur.counts)
    assert isinstance(ref, TextSketch) and isinstance(cur, TextSketch)
    return _text(name, ref, cur)


def compare_profiles(
    reference: Profile,
    current: Profile,
    *,
    columns: list[str] | None = None,
    alpha: float = 0.05,
    rule: Rule = "holm",
) -> DriftReport:
    """Compare the columns both profiles have (or ``columns``), Holm-corrected together."""
    names = (
        columns if columns is not None else [c for c in reference.columns if c in current.columns]
    )
    found: list[tuple[ColumnDrift, float, float]] = []
    skipped: dict[str, str] = {}
    for name in names:
        if name not in reference.columns or name not in current.columns:
            raise ValueError(f"column {name!r} is not in both profiles")
        ref, cur = reference.columns[name], current.columns[name]
        drift = sketch_drift(name, ref, cur)
        if isinstance(drift, str):
            skipped[name] = drift
            continue
        if isinstance(ref, TextSketch) and isinstance(cur, TextSketch):
            # the texts' language mix is a column of its own, as for rows
            mix = categorical_counts_drift(f"{name}:language", ref.languages, cur.languages)
            found.append((mix, 0.0, 0.0))
        found.append(
            (
                drift,
                ref.missing / max(1, ref.n + ref.missing),
                cur.missing / max(1, cur.n + cur.missing),
            )
        )
    return decide(found, alpha, rule, skipped)


def _seconds(value: Any) -> float | None:
    """A timestamp as Unix seconds: a number (seconds, or milli/micro/nanoseconds by size) or
    ISO 8601 text; None when it is neither."""
    number = _number(value)
    if number is not None and math.isfinite(number):
        for scale in (1e18, 1e15, 1e12):  # ns, µs, ms since 1970 are this large today
            if abs(number) >= scale:
                return number / (scale / 1e9)
        return number
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


def window_rows(
    times: Sequence[Any], window_s: float, *, source: str = "the data"
) -> list[tuple[datetime, list[int]]]:
    """Row indexes per window of ``window_s`` seconds (aligned to the Unix epoch, so days
    start at midnight UTC), oldest first; ValueError names the first row whose time cannot
    be read."""
    windows: dict[int, list[int]] = {}
    for row, value in enumerate(times):
        seconds = _seconds(value)
        if seconds is None:
            raise ValueError(
                f"{source}, row {row + 1}: {value!r:.60} is not a time (Unix seconds or ISO 8601)"
            )
        windows.setdefault(math.floor(seconds / window_s), []).append(row)
    return [
        (datetime.fromtimestamp(key * window_s, tz=UTC), rows)
        for key, rows in sorted(windows.items())
    ]


def profile_windows(
    table: Mapping[str, list[Any]],
    kinds: Mapping[str, str],
    windows: list[tuple[datetime, list[int]]],
    window_s: float,
) -> list[Profile]:
    """One profile per window of ``table`` (``window_rows``'s cut), with its start and end."""
    profiles = []
    for start, rows in windows:
        profile = profile_table(table, kinds, rows)
        profile.start = start.isoformat()
        profile.end = datetime.fromtimestamp(start.timestamp() + window_s, tz=UTC).isoformat()
        profiles.append(profile)
    return profiles
