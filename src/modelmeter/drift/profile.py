"""Compact, mergeable profiles of a table, so that each window of production data is read once
and compared later with any reference.

A profile keeps, per column:

* numeric: counts on a fixed logarithmic grid (each bin 2% wide relative to its value, the
  same grid for every profile: DDSketch's idea), with zero, missing, sum and sum of squares;
  two profiles merge by adding counts, and quantiles, the two-sample Kolmogorov-Smirnov
  statistic and the Wasserstein distance are read off the grid to within its 1% resolution;
* categorical: the count of each category (the 1,000 most frequent; the rest pooled);
* text: the count of each length in words, and the counts of the 1,000 most frequent words
  (the rest pooled: out-of-vocabulary shares are then approximate).

Numeric grids are written as dense runs (the first bin's index, then every count from there),
half the size of index-count pairs.

A window of 100,000 rows × 25 columns makes a profile of a few tens of kilobytes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelmeter.drift.language import language_counts
from modelmeter.drift.stats import _NO_PUNCTUATION

__all__ = [
    "PROFILE_VERSION",
    "CategoricalSketch",
    "NumericSketch",
    "Profile",
    "TextSketch",
    "profile_table",
]

PROFILE_VERSION = 1
RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_MAX_CATEGORIES = 1000
_MAX_WORDS = 1000
OTHER = "(other)"


def _bin_value(index: int) -> float:
    """The value a bin stands for: within 1% of every value in it."""
    return 2 * _GAMMA**index / (_GAMMA + 1)


def _dense(counts: Counter[int]) -> list[int] | dict[str, int]:
    """[first index, count, count, ...] from the lowest to the highest bin (zeros between);
    {index: count} instead when the bins are so scattered that the run would be longer."""
    if not counts:
        return []
    low, high = min(counts), max(counts)
    if high - low + 1 > 3 * len(counts):
        return {str(k): v for k, v in sorted(counts.items())}
    return [low, *(counts.get(i, 0) for i in range(low, high + 1))]


def _sparse(run: list[int] | dict[str, int]) -> Counter[int]:
    if isinstance(run, dict):
        return Counter({int(k): int(v) for k, v in run.items()})
    if not run:
        return Counter()
    low = int(run[0])
    return Counter({low + k: int(c) for k, c in enumerate(run[1:]) if c})


@dataclass
class NumericSketch:
    positive: Counter[int] = field(default_factory=Counter)  # bin index -> count
    negative: Counter[int] = field(default_factory=Counter)  # of -value
    zero: int = 0
    missing: int = 0
    total: float = 0.0
    squares: float = 0.0

    kind = "numeric"

    @property
    def n(self) -> int:
        return self.zero + sum(self.positive.values()) + sum(self.negative.values())

    def add(self, values: np.ndarray, missing: int) -> None:
        finite = values[np.isfinite(values)]
        self.missing += missing + len(values) - len(finite)
        self.zero += int(np.sum(finite == 0))
        for sign, part in (
            (self.positive, finite[finite > 0]),
            (self.negative, -finite[finite < 0]),
        ):
            if len(part):
                indexes = np.ceil(np.log(part) / _LOG_GAMMA).astype(np.int64)
                found, counts = np.unique(indexes, return_counts=True)
                sign.update(dict(zip(found.tolist(), counts.tolist(), strict=True)))
        with np.errstate(over="ignore"):  # beyond 1e154 a square is inf: the spread unknown
            self.total += float(finite.sum())
            self.squares += float(np.square(finite).sum())

    def merge(self, other: NumericSketch) -> None:
        self.positive.update(other.positive)
        self.negative.update(other.negative)
        self.zero += other.zero
        self.missing += other.missing
        self.total += other.total
        self.squares += other.squares

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(value each bin stands for, count), ascending."""
        negative = sorted(self.negative.items(), reverse=True)
        positive = sorted(self.positive.items())
        values = [-_bin_value(i) for i, _ in negative] + ([0.0] if self.zero else [])
        values += [_bin_value(i) for i, _ in positive]
        counts = [c for _, c in negative] + ([self.zero] if self.zero else [])
        counts += [c for _, c in positive]
        return np.array(values, dtype=float), np.array(counts, dtype=float)

    @property
    def std(self) -> float:
        n = self.n
        if n < 2:
            return 0.0
        mean = self.total / n
        return math.sqrt(max(0.0, self.squares / n - mean * mean))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "positive": _dense(self.positive),
            "negative": _dense(self.negative),
            "zero": self.zero,
            "missing": self.missing,
            "sum": self.total,
            "sum_squares": self.squares,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NumericSketch:
        return cls(
            _sparse(data["positive"]),
            _sparse(data["negative"]),
            int(data["zero"]),
            int(data["missing"]),
            float(data["sum"]),
            float(data["sum_squares"]),
        )


def _capped(counts: Counter[str], limit: int) -> Counter[str]:
    if len(counts) <= limit:
        return counts
    kept = Counter(dict(counts.most_common(limit)))
    kept[OTHER] += sum(counts.values()) - sum(kept.values())
    return kept


@dataclass
class CategoricalSketch:
    counts: Counter[str] = field(default_factory=Counter)
    missing: int = 0

    kind = "categorical"

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def merge(self, other: CategoricalSketch) -> None:
        self.counts = _capped(self.counts + other.counts, _MAX_CATEGORIES)
        self.missing += other.missing

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "counts": dict(self.counts.most_common()),
            "missing": self.missing,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CategoricalSketch:
        return cls(
            Counter({str(k): int(v) for k, v in data["counts"].items()}), int(data["missing"])
        )


@dataclass
class TextSketch:
    lengths: Counter[int] = field(default_factory=Counter)  # words per text -> texts
    words: Counter[str] = field(default_factory=Counter)
    missing: int = 0
    languages: Counter[str] = field(default_factory=Counter)  # of a sample of the texts

    kind = "text"

    @property
    def n(self) -> int:
        return sum(self.lengths.values())

    def add(self, texts: list[str]) -> None:
        self.lengths.update(len(text.split()) for text in texts)
        self.languages.update(language_counts(texts))
        found = Counter("\n".join(texts).lower().translate(_NO_PUNCTUATION).split())
        self.words = _capped(self.words + found, _MAX_WORDS)

    def merge(self, other: TextSketch) -> None:
        self.lengths.update(other.lengths)
        self.words = _capped(self.words + other.words, _MAX_WORDS)
        self.missing += other.missing
        self.languages.update(other.languages)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lengths": {str(k): v for k, v in sorted(self.lengths.items())},
            "words": dict(self.words.most_common()),
            "missing": self.missing,
            "languages": dict(self.languages.most_common()),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TextSketch:
        return cls(
            Counter({int(k): int(v) for k, v in data["lengths"].items()}),
            Counter({str(k): int(v) for k, v in data["words"].items()}),
            int(data["missing"]),
            Counter({str(k): int(v) for k, v in data.get("languages", {}).items()}),
        )


Sketch = NumericSketch | CategoricalSketch | TextSketch
_KINDS: dict[str, type[NumericSketch] | type[CategoricalSketch] | type[TextSketch]] = {
    "numeric": NumericSketch,
    "categorical": CategoricalSketch,
    "text": TextSketch,
}


@dataclass
class Profile:
    rows: int
    columns: dict[str, Sketch]
    start: str | None = None  # the window's first moment (ISO 8601), when windowed
    end: str | None = None

    def merge(self, other: Profile) -> Profile:
        """This profile with ``other`` added (a column of another kind is left as it is)."""
        for name, sketch in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                self.columns[name] = _KINDS[sketch.kind].from_json(sketch.to_json())
            elif mine.kind == sketch.kind:
                mine.merge(sketch)  # type: ignore[arg-type]
        self.rows += other.rows
        starts = [s for s in (self.start, other.start) if s]
        ends = [e for e in (self.end, other.end) if e]
        self.start = min(starts) if starts else None
        self.end = max(ends) if ends else None
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "modelmeter_profile": PROFILE_VERSION,
            "rows": self.rows,
            "start": self.start,
            "end": self.end,
            "columns": {name: sketch.to_json() for name, sketch in self.columns.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        """ValueError when ``data`` is not a profile of a version this code reads."""
        version = data.get("modelmeter_profile") if isinstance(data, Mapping) else None
        if version != PROFILE_VERSION:
            raise ValueError(f"not a modelmeter profile of version {PROFILE_VERSION}")
        try:
            columns = {
                name: _KINDS[column["kind"]].from_json(column)
                for name, column in data["columns"].items()
            }
            return cls(int(data["rows"]), columns, data.get("start"), data.get("end"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a malformed profile: {exc!r}") from None


def profile_table(
    table: Mapping[str, list[Any]], kinds: Mapping[str, str], rows: Iterable[int] | None = None
) -> Profile:
    """A profile of ``table``'s columns named in ``kinds`` (column -> numeric, categorical or
    text), over ``rows`` (indexes; default all)."""
    from modelmeter.drift.compare import _as_numbers, _missing

    chosen = list(rows) if rows is not None else None
    length = len(next(iter(table.values()), []))
    columns: dict[str, Sketch] = {}
    for name, kind in kinds.items():
        values = table[name] if chosen is None else [table[name][i] for i in chosen]
        present = [v for v in values if not _missing(v)]
        missing = len(values) - len(present)
        if kind == "numeric":
            sketch = NumericSketch()
            numbers = _as_numbers(present)
            sketch.add(numbers if numbers is not None else np.array([], dtype=float), missing)
            columns[name] = sketch
        elif kind == "categorical":
            columns[name] = CategoricalSketch(
                _capped(Counter(str(v) for v in present), _MAX_CATEGORIES), missing
            )
        else:
            text = TextSketch(missing=missing)
            text.add([str(v) for v in present])
            columns[name] = text
    return Profile(length if chosen is None else len(chosen), columns)
