"""Trace replay: reading timestamps, ordering, speed-up, cutting, and errors that name path:line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from modelmeter._exceptions import DatasetError
from modelmeter.load.schedule import NS_PER_S, LoadPlan, arrival_offsets_ns, iter_arrival_offsets
from modelmeter.load.trace import (
    TraceSource,
    load_trace_offsets,
    read_timestamps_ns,
    replay_offsets_ns,
)

MS = 1_000_000


def _jsonl(tmp_path: Path, rows: Sequence[object], name: str = "trace.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _text(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_epoch_seconds_are_sorted_and_made_relative(tmp_path: Path) -> None:
    path = _text(
        tmp_path,
        '{"timestamp": 1700000000.5}\n\n{"timestamp": 1700000000.000000001}\n'
        '{"timestamp": 1700000002}\n{"timestamp": 1700000000.25}\n',
        "t.jsonl",
    )
    offsets = load_trace_offsets(TraceSource(path))
    # Decimal parsing keeps every digit: the 1 ns of the second line survives.
    assert offsets.tolist() == [0, 250 * MS - 1, 500 * MS - 1, 2 * NS_PER_S - 1]


def test_epoch_milliseconds_are_detected(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [{"ts": 1_700_000_000_000 + d} for d in (30, 0, 10)])
    offsets = load_trace_offsets(TraceSource(path, field="ts"))
    assert offsets.tolist() == [0, 10 * MS, 30 * MS]


@pytest.mark.parametrize(("unit", "scale"), [("s", NS_PER_S), ("ms", MS), ("us", 1_000), ("ns", 1)])
def test_explicit_units_for_relative_times(tmp_path: Path, unit: str, scale: int) -> None:
    path = _jsonl(tmp_path, [{"t": 0}, {"t": 250}, {"t": 1200}])
    source = TraceSource(path, field="t", unit=unit)  # type: ignore[arg-type]
    assert read_timestamps_ns(source).tolist() == [0, 250 * scale, 1200 * scale]


def test_auto_unit_reads_small_numbers_as_seconds(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [{"timestamp": 0}, {"timestamp": 1.5}])
    assert read_timestamps_ns(TraceSource(path)).tolist() == [0, 1_500 * MS]


def test_iso_timestamps_with_offsets_and_nanoseconds(tmp_path: Path) -> None:
    rows = [
        {"at": "2024-05-01T12:00:00.000000001Z"},
        {"at": "2024-05-01T14:00:00.5+02:00"},  # 12:00:00.5 UTC
        {"at": "2024-05-01T11:59:59,75+00:00"},
    ]
    offsets = load_trace_offsets(TraceSource(_jsonl(tmp_path, rows), field="at"))
    assert offsets.tolist() == [0, 250 * MS + 1, 750 * MS]


def test_naive_iso_times_are_read_as_utc(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [{"timestamp": "1970-01-01 00:00:01"}])
    assert read_timestamps_ns(TraceSource(path)).tolist() == [NS_PER_S]


def test_csv_with_a_named_column(tmp_path: Path) -> None:
    path = _text(tmp_path, "id,arrived\na,1700000000.100\nb,1700000000.000\nc,1.7e9\n", "trace.csv")
    offsets = load_trace_offsets(TraceSource(path, field="arrived"))
    assert offsets.tolist() == [0, 0, 100 * MS]


def test_speedup_cut_and_cap(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [{"timestamp": t} for t in (10.0, 11.0, 12.0, 13.0, 14.0)])
    source = TraceSource(path)
    assert load_trace_offsets(source, speedup=2.0).tolist() == [
        0,
        NS_PER_S // 2,
        NS_PER_S,
        3 * NS_PER_S // 2,
        2 * NS_PER_S,
    ]
    assert load_trace_offsets(source, speedup=0.5, horizon_ns=4 * NS_PER_S).tolist() == [
        0,
        2 * NS_PER_S,
    ]
    assert load_trace_offsets(source, max_requests=3).tolist() == [0, NS_PER_S, 2 * NS_PER_S]


def test_replay_of_an_array() -> None:
    stamps = np.array([50, 10, 30, 10], dtype=np.int64)
    assert replay_offsets_ns(stamps).tolist() == [0, 0, 20, 40]
    assert replay_offsets_ns(stamps, horizon_ns=20).tolist() == [0, 0]
    assert replay_offsets_ns(np.empty(0, np.int64)).size == 0
    with pytest.raises(ValueError, match="speedup"):
        replay_offsets_ns(stamps, speedup=0)


def test_trace_plan_through_the_schedule_api(tmp_path: Path) -> None:
    times = np.round(np.sort(np.random.default_rng(0).uniform(0, 100, 50_000)), 6)
    path = _jsonl(tmp_path, [{"timestamp": float(t)} for t in times[::-1]])
    plan = LoadPlan(
        mode="trace",
        trace=TraceSource(path),
        trace_speedup=4.0,
        warmup_s=1,
        duration_s=9,
        max_requests=40_000,
    )
    offsets = arrival_offsets_ns(plan)
    assert np.all(np.diff(offsets) >= 0) and offsets[-1] < 10 * NS_PER_S
    assert offsets.size == np.searchsorted((times - times[0]) / 4, 10.0)
    chunks = list(iter_arrival_offsets(plan, chunk=1_000))
    np.testing.assert_array_equal(np.concatenate(chunks), offsets)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"timestamp": 1}\n{"timestamp": \n', 2, "not valid JSON"),
        ('{"timestamp": 1}\n[1]\n', 2, "JSON object"),
        ('{"timestamp": 1}\n\n{"time": 2}\n', 3, "missing field 'timestamp'"),
        ('{"timestamp": 1}\n{"timestamp": true}\n', 2, "got bool"),
        ('{"timestamp": "yesterday"}\n', 1, "neither a number nor an ISO 8601"),
        ('{"timestamp": 1}\n{"timestamp": "2024-01-01T00:00:00Z"}\n', 2, "line 1 started"),
        (
            '{"timestamp": "2024-01-01T00:00:00Z"}\n{"timestamp": "2024-01-01T00:00:01"}\n',
            2,
            "UTC offset",
        ),
        ('{"timestamp": 1e400000}\n', 1, "out of range for 64-bit nanoseconds"),
        ('{"timestamp": -1e19}\n', 1, "out of range"),
        ('{"timestamp": "NaN"}\n', 1, "neither a number"),
        ('{"timestamp": NaN}\n', 1, "not a finite number"),
        ('{"timestamp": {"s": 1}}\n', 1, "got dict"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _text(tmp_path, text, "bad.jsonl")
    with pytest.raises(DatasetError, match=message) as caught:
        read_timestamps_ns(TraceSource(path))
    assert caught.value.line == line and caught.value.path == path
    assert str(caught.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("time\n1\n", 1, "no column 'timestamp'"),
        ("timestamp,x\n1,a\n,b\n", 3, "empty 'timestamp'"),
        ("", 1, "no header"),
    ],
)
def test_csv_errors_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _text(tmp_path, text, "bad.csv")
    with pytest.raises(DatasetError, match=message) as caught:
        read_timestamps_ns(TraceSource(path))
    assert caught.value.line == line


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        read_timestamps_ns(TraceSource(tmp_path / "missing.jsonl"))
    with pytest.raises(DatasetError, match=r"extension '\.log'"):
        read_timestamps_ns(TraceSource(_text(tmp_path, "1\n", "t.log")))
    with pytest.raises(DatasetError, match="no 'timestamp' values"):
        read_timestamps_ns(TraceSource(_text(tmp_path, "\n\n", "empty.jsonl")))
    logged = _text(tmp_path, '{"timestamp": 1}\n', "t.log")
    assert read_timestamps_ns(TraceSource(logged, format="jsonl")).tolist() == [NS_PER_S]
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"timestamp\n\xff\n")
    with pytest.raises(DatasetError, match="UTF-8"):
        read_timestamps_ns(TraceSource(latin))
