"""Trace replay: send requests when a recorded log says they arrived.

A trace is a JSONL file (one object per line) or a CSV file with a header row; one field holds
each request's timestamp, as

* an ISO 8601 date-time (``2024-05-01T12:00:00.125Z``; fractional seconds kept to the
  nanosecond; a time without an offset is read as UTC, so give one where the log crosses a clock
  change), or
* a number: seconds, milliseconds, microseconds or nanoseconds, since the epoch or since any
  origin. With ``unit="auto"`` the first number decides for the whole file: from 1e17 up it is
  ns, from 1e14 µs, from 1e11 ms (epoch ms since 1973), below that seconds. Relative times in
  milliseconds (``0, 250, 1200``) need ``unit="ms"``.

Timestamps are sorted, made relative to the earliest, divided by ``speedup`` and cut to the
phase. Errors name ``path:line``. The trace is read whole: 8 bytes per request once parsed.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from modelmeter._exceptions import DatasetError
from modelmeter._text_files import allow_long_csv_cells, csv_problem, json_problem, not_utf8

__all__ = [
    "TimeUnit",
    "TraceFormat",
    "TraceSource",
    "load_trace_offsets",
    "read_timestamps_ns",
    "replay_offsets_ns",
]

TraceFormat = Literal["auto", "jsonl", "csv"]
TimeUnit = Literal["auto", "s", "ms", "us", "ns"]

_FORMATS: dict[str, TraceFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_NS_PER_UNIT: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
# With unit "auto", the first number's magnitude picks the unit (see the module docstring).
_AUTO_UNITS: tuple[tuple[Decimal, str], ...] = (
    (Decimal("1e17"), "ns"),
    (Decimal("1e14"), "us"),
    (Decimal("1e11"), "ms"),
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})[.,](\d+)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64_MAX = 2**63 - 1
_INT64_DIGITS = 18  # the exponent of int64's largest value, 9.2e18


@dataclass(frozen=True, slots=True)
class TraceSource:
    """Where a trace is and how to read it."""

    path: Path
    field: str = "timestamp"
    format: TraceFormat = "auto"
    unit: TimeUnit = "auto"


def _rows_jsonl(path: Path, name: str) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text, parse_float=Decimal)
            except (ValueError, RecursionError, ArithmeticError) as exc:
                raise DatasetError(json_problem(exc), path=path, line=number) from None
            if not isinstance(row, dict):
                raise DatasetError(
                    f"each line must be a JSON object, got {type(row).__name__}",
                    path=path,
                    line=number,
                )
            if row.get(name) is None:
                known = ", ".join(sorted(map(str, row))) or "none"
                raise DatasetError(
                    f"missing field '{name}' (fields here: {known})", path=path, line=number
                )
            yield number, row[name]


def _rows_csv(path: Path, name: str) -> Iterator[tuple[int, Any]]:
    allow_long_csv_cells()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        try:
            if not reader.fieldnames:
                raise DatasetError("the CSV file has no header row", path=path, line=1)
            if name not in reader.fieldnames:
                known = ", ".join(reader.fieldnames)
                raise DatasetError(
                    f"no column '{name}' in the header (columns: {known})", path=path, line=1
                )
            for row in reader:
                value = row[name]
                if value is None or not value.strip():
                    raise DatasetError(f"empty '{name}'", path=path, line=reader.line_num)
                yield reader.line_num, value
        except csv.Error as exc:
            raise DatasetError(csv_problem(exc), path=path, line=reader.line_num) from None


def _parse_iso_ns(text: str) -> tuple[int, bool]:
    """Nanoseconds since the epoch, and whether the text carried a UTC offset."""
    fraction_ns = 0
    match = _FRACTION.search(text)
    if match is not None:
        digits = match.group(2)
        fraction_ns = int(digits[:9].ljust(9, "0"))
        text = text[: match.start()] + match.group(1) + text[match.end() :]
    moment = datetime.fromisoformat(text)
    aware = moment.tzinfo is not None
    if not aware:
        moment = moment.replace(tzinfo=UTC)
    whole_us = (moment - _EPOCH) // timedelta(microseconds=1)
    return whole_us * 1_000 + fraction_ns, aware


class _Reader:
    """Turns field values into ns, holding the file-wide choices (unit, kind of value)."""

    def __init__(self, source: TraceSource) -> None:
        self.source = source
        self.unit: str | None = None if source.unit == "auto" else source.unit
        self.kind: Literal["number", "iso"] | None = None
        self.aware: bool | None = None
        self.first_line = 0

    def _fail(self, message: str, line: int) -> DatasetError:
        return DatasetError(message, path=self.source.path, line=line)

    def _settle(self, kind: Literal["number", "iso"], line: int) -> None:
        if self.kind is None:
            self.kind, self.first_line = kind, line
        elif self.kind != kind:
            other = "a number" if kind == "number" else "an ISO 8601 date-time"
            first = "numbers" if self.kind == "number" else "ISO 8601 date-times"
            raise self._fail(
                f"'{self.source.field}' is {other} here, but line {self.first_line} started "
                f"{first}; use one form throughout",
                line,
            )

    def to_ns(self, value: Any, line: int) -> int:
        name = self.source.field
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise self._fail(
                f"'{name}' must be a number or an ISO 8601 date-time, got {type(value).__name__}",
                line,
            )
        if isinstance(value, str):
            text = value.strip()
            if not _NUMBER.fullmatch(text):
                return self._iso(text, line)
            value = Decimal(text)
        return self._number(Decimal(value), line)

    def _number(self, number: Decimal, line: int) -> int:
        self._settle("number", line)
        if not number.is_finite():
            raise self._fail(f"'{self.source.field}' is not a finite number", line)
        if self.unit is None:
            magnitude = abs(number)
            self.unit = next((unit for bound, unit in _AUTO_UNITS if magnitude >= bound), "s")
        scaled = number * _NS_PER_UNIT[self.unit]
        # Check the exponent first: int() of a huge Decimal (1e400000) takes seconds.
        fits = scaled.is_zero() or scaled.adjusted() <= _INT64_DIGITS
        ns = int(scaled.to_integral_value(rounding=ROUND_FLOOR)) if fits else _INT64_MAX + 1
        if not -_INT64_MAX - 1 <= ns <= _INT64_MAX:
            raise self._fail(
                f"'{self.source.field}' is out of range for 64-bit nanoseconds ({self.unit})", line
            )
        return ns

    def _iso(self, text: str, line: int) -> int:
        self._settle("iso", line)
        try:
            ns, aware = _parse_iso_ns(text)
        except (ValueError, OverflowError):
            raise self._fail(
                f"'{self.source.field}' is neither a number nor an ISO 8601 date-time: "
                f"{text[:60]!r}",
                line,
            ) from None
        if self.aware is None:
            self.aware = aware
        elif self.aware != aware:
            raise self._fail(
                "some date-times carry a UTC offset and some do not; they cannot be ordered "
                "reliably, so give every one an offset (or none)",
                line,
            )
        return ns


def read_timestamps_ns(source: TraceSource) -> npt.NDArray[np.int64]:
    """Every timestamp of the trace in ns (on the trace's own origin), in file order."""
    path = source.path
    if not path.is_file():
        raise DatasetError("trace file not found", path=path)
    fmt = source.format
    if fmt == "auto":
        found = _FORMATS.get(path.suffix.lower())
        if found is None:
            raise DatasetError(
                f"cannot tell the trace format from the extension '{path.suffix}'; "
                "use .jsonl or .csv, or give the format",
                path=path,
            )
        fmt = found
    rows = _rows_jsonl(path, source.field) if fmt == "jsonl" else _rows_csv(path, source.field)
    reader = _Reader(source)
    try:
        values = [reader.to_ns(value, line) for line, value in rows]
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    if not values:
        raise DatasetError(f"the trace has no '{source.field}' values", path=path)
    return np.asarray(values, dtype=np.int64)


def replay_offsets_ns(
    timestamps_ns: npt.ArrayLike,
    *,
    speedup: float = 1.0,
    horizon_ns: int | None = None,
    max_requests: int | None = None,
) -> npt.NDArray[np.int64]:
    """Sorted offsets from the earliest timestamp, ``speedup`` times faster, before
    ``horizon_ns`` and at most ``max_requests`` of them."""
    if not (math.isfinite(speedup) and speedup > 0):
        raise ValueError(f"speedup must be a finite number greater than 0, got {speedup!r}")
    offsets = np.sort(np.asarray(timestamps_ns, dtype=np.int64))
    if offsets.size == 0:
        return offsets
    offsets -= offsets[0]
    if speedup != 1.0:
        offsets = np.floor(offsets / speedup).astype(np.int64)
    if horizon_ns is not None:
        offsets = offsets[: np.searchsorted(offsets, horizon_ns, side="left")]
    if max_requests is not None:
        offsets = offsets[:max_requests]
    return offsets


def load_trace_offsets(
    source: TraceSource,
    *,
    speedup: float = 1.0,
    horizon_ns: int | None = None,
    max_requests: int | None = None,
) -> npt.NDArray[np.int64]:
    """Read a trace and turn it into a schedule (see :func:`replay_offsets_ns`)."""
    return replay_offsets_ns(
        read_timestamps_ns(source),
        speedup=speedup,
        horizon_ns=horizon_ns,
        max_requests=max_requests,
    )
