"""OutcomeRecorder: columns on disk give back the outcomes appended, and their statistics."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from modelmeter._exceptions import ErrorKind, ModelmeterError
from modelmeter.load.histogram import PRECISION_LABEL, RELATIVE_ERROR
from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder import MISSING, OutcomeRecorder, measured_stats
from modelmeter.load.recorder import recorder as recorder_module
from modelmeter.load.recorder import spill as spill_module

MS = 1_000_000
BASE = 10**12


def _outcomes(count: int, seed: int = 0) -> list[Outcome]:
    """Every kind of field: errors with details, missing timestamps and counts, token gaps,
    non-ASCII and lone-surrogate text, empty strings, several targets, warm-up and cool-down."""
    rng = random.Random(seed)
    made = []
    for i in range(count):
        intended = BASE + i * MS
        sent = intended + rng.randint(0, 3 * MS)
        done = sent + rng.randint(MS, 50 * MS)
        failed = rng.random() < 0.15
        streamed = not failed and rng.random() < 0.5
        tokens = rng.choice([None, 0, 1, 2, 17])
        made.append(
            Outcome(
                sample_id=f"s{rng.randint(0, 30)}",
                target=rng.choice(["a", "b"]),
                intended_at=intended,
                sent_at=sent,
                done_at=done,
                prediction=None if failed else rng.choice(["yes", "", "ünï 🙂", "bad \ud800 text"]),
                error=rng.choice(list(ErrorKind)) if failed else None,
                error_detail=rng.choice([None, "", f"boom {i} ✗"]) if failed else None,
                input_tokens=rng.choice([None, 0, 12]),
                output_tokens=tokens,
                token_source=rng.choice([None, "usage", "tokenizer", "chunks"]),
                first_byte_at=rng.choice([None, sent + MS // 2]),
                first_token_at=sent + MS if streamed else None,
                first_reasoning_at=sent + MS // 3 if streamed and rng.random() < 0.3 else None,
                token_gaps_ns=tuple(rng.randint(0, 10 * MS) for _ in range(rng.randint(0, 5)))
                if streamed
                else (),
                warmup=i < count // 10,
                cooldown=i >= count - count // 10,
            )
        )
    return made


def test_round_trip_across_chunks_keeps_every_field(tmp_path: Path) -> None:
    outcomes = _outcomes(103)
    with OutcomeRecorder(chunk_rows=10, directory=tmp_path) as recorder:
        for outcome in outcomes:
            recorder.append(outcome)
        assert len(recorder) == 103
        assert recorder.spilled_rows == 100  # ten full chunks on disk, three rows in memory
        assert list(recorder) == outcomes
        assert list(recorder) == outcomes  # iterating twice reads the same
        assert list(recorder.iter_outcomes(measured_only=True)) == [
            o for o in outcomes if o.measured
        ]
        # Appending after a read carries on where it stopped.
        extra = _outcomes(15, seed=1)
        recorder.extend(extra)
        assert list(recorder) == outcomes + extra


def test_predictions_can_be_left_out() -> None:
    outcomes = _outcomes(40)
    with OutcomeRecorder(keep_predictions=False, chunk_rows=8) as recorder:
        recorder.extend(outcomes)
        back = list(recorder)
    assert all(o.prediction is None for o in back)
    for original, restored in zip(outcomes, back, strict=True):
        original.prediction = None
        assert restored == original


def test_nothing_touches_disk_until_a_chunk_fills(tmp_path: Path) -> None:
    outcomes = _outcomes(9)
    with OutcomeRecorder(chunk_rows=10, directory=tmp_path) as recorder:
        recorder.extend(outcomes)
        assert recorder.directory is None and list(tmp_path.iterdir()) == []
        assert list(recorder) == outcomes
        recorder.append(outcomes[0])
        assert recorder.directory is not None and recorder.spilled_rows == 10


def test_close_removes_the_temporary_files(tmp_path: Path) -> None:
    recorder = OutcomeRecorder(chunk_rows=4, directory=tmp_path)
    recorder.extend(_outcomes(30))
    recorder.flush()
    assert recorder.spilled_rows == 30
    directory = recorder.directory
    assert directory is not None and directory.parent == tmp_path
    assert {p.name for p in directory.iterdir()} >= {"intended_at", "done_at", "flags"}
    recorder.close()
    assert not directory.exists() and list(tmp_path.iterdir()) == []
    assert recorder.closed
    recorder.close()  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        recorder.append(_outcomes(1)[0])
    with pytest.raises(ValueError, match="closed"):
        list(recorder)


def test_files_go_when_the_recorder_is_dropped(tmp_path: Path) -> None:
    recorder = OutcomeRecorder(chunk_rows=4, directory=tmp_path)
    recorder.extend(_outcomes(12))
    directory = recorder.directory
    assert directory is not None and directory.exists()
    del recorder
    assert not directory.exists()


def test_many_token_gaps_or_long_text_write_a_chunk_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recorder_module, "MAX_BUFFERED_GAP_BYTES", 64)
    monkeypatch.setattr(recorder_module, "MAX_BUFFERED_TEXT", 16)
    streamed = Outcome("s", "t", 1, 2, 3, token_gaps_ns=tuple(range(10)))
    wordy = Outcome("s", "t", 1, 2, 3, prediction="x" * 20)
    with OutcomeRecorder(chunk_rows=1_000) as recorder:
        recorder.append(streamed)
        assert recorder.spilled_rows == 1
        recorder.append(Outcome("s", "t", 1, 2, 3))
        recorder.append(wordy)
        assert recorder.spilled_rows == 3
        assert list(recorder) == [streamed, Outcome("s", "t", 1, 2, 3), wordy]


def test_columns_are_memory_mapped_when_nothing_is_left_out() -> None:
    outcomes = [o for o in _outcomes(64) if o.measured][:48]
    with OutcomeRecorder(chunk_rows=16) as recorder:
        recorder.extend(outcomes)
        columns = recorder.columns(measured_only=True)
        assert isinstance(columns.intended_at, np.memmap)
        assert columns.done_at.tolist() == [o.done_at for o in outcomes]
        assert columns.token_gap_counts.tolist() == [len(o.token_gaps_ns) for o in outcomes]
        assert columns.token_gaps_ns.tolist() == [g for o in outcomes for g in o.token_gaps_ns]
        del columns


def test_columns_of_measured_rows() -> None:
    outcomes = _outcomes(57)
    measured = [o for o in outcomes if o.measured]
    with OutcomeRecorder(chunk_rows=5) as recorder:
        recorder.extend(outcomes)
        columns = recorder.columns(measured_only=True)
        every = recorder.columns()
        batches = list(recorder.iter_columns(measured_only=True))
    assert len(every) == 57 and len(columns) == len(measured)
    assert sum(len(b) for b in batches) == len(measured)
    assert columns.intended_at.tolist() == [o.intended_at for o in measured]
    assert columns.response_ns.tolist() == [o.response_time_ns for o in measured]
    assert columns.service_ns.tolist() == [o.service_time_ns for o in measured]
    assert columns.lag_ns.tolist() == [o.schedule_lag_ns for o in measured]
    assert columns.ok.tolist() == [o.ok for o in measured]
    assert not columns.warmup.any() and not columns.cooldown.any()
    assert columns.input_tokens.tolist() == [
        MISSING if o.input_tokens is None else o.input_tokens for o in measured
    ]
    ttft = [np.nan if o.ttft_ns is None else o.ttft_ns for o in measured]
    np.testing.assert_array_equal(columns.ttft_ns, ttft)
    tpot = [np.nan if o.tpot_ns is None else o.tpot_ns for o in measured]
    np.testing.assert_allclose(columns.tpot_ns, tpot)
    assert columns.token_gaps_ns.tolist() == [g for o in measured for g in o.token_gaps_ns]
    errors: dict[str, int] = {}
    for o in measured:
        if o.error is not None:
            errors[str(o.error)] = errors.get(str(o.error), 0) + 1
    assert columns.error_counts() == errors


def test_no_rows() -> None:
    with OutcomeRecorder() as recorder:
        assert len(recorder) == 0 and not recorder
        assert list(recorder) == []
        assert len(recorder.columns()) == 0
        stats = recorder.measured_stats()
    assert stats.requests == 0 and stats.completed == 0 and stats.duration_s == 0
    assert stats.response_ns.count == 0 and stats.input_tokens is None


def _reference(outcomes: list[Outcome]) -> dict[str, object]:
    """What stats.py computes today from Outcome objects."""
    measured = [o for o in outcomes if o.measured]
    ok = [o for o in measured if o.ok]
    return {
        "requests": len(measured),
        "completed": len(ok),
        "window": (min(o.intended_at for o in measured), max(o.done_at for o in measured)),
        "response": [o.response_time_ns for o in ok],
        "service": [o.service_time_ns for o in ok],
        "lag": [o.schedule_lag_ns for o in measured],
        "ttft": [o.ttft_ns for o in ok if o.ttft_ns is not None],
        "reasoning": [
            o.first_reasoning_at - o.sent_at for o in ok if o.first_reasoning_at is not None
        ],
        "itl": [g for o in ok for g in o.token_gaps_ns],
        "tpot": [o.tpot_ns for o in ok if o.tpot_ns is not None],
        "output_sum": sum(o.output_tokens or 0 for o in ok),
    }


def test_measured_stats_leave_out_warmup_and_cooldown_and_match_the_outcomes() -> None:
    outcomes = _outcomes(400, seed=3)
    expected = _reference(outcomes)
    with OutcomeRecorder(chunk_rows=7) as recorder:
        recorder.extend(outcomes)
        stats = recorder.measured_stats()
    assert stats.requests == expected["requests"] and stats.completed == expected["completed"]
    assert (stats.window_start_ns, stats.window_end_ns) == expected["window"]
    assert stats.duration_s == pytest.approx((stats.window_end_ns - stats.window_start_ns) / 1e9)  # type: ignore[operator]
    for name in ("response", "service", "lag", "ttft", "reasoning", "itl", "tpot"):
        distribution = getattr(stats, f"{name}_ns")
        values = expected[name]
        assert distribution.method == "exact"
        assert distribution.count == len(values), name  # type: ignore[arg-type]
        assert sorted(distribution.values.tolist()) == pytest.approx(sorted(values)), name  # type: ignore[arg-type]
        assert distribution.percentiles([50, 99]) == pytest.approx(
            np.percentile(values, [50, 99])  # type: ignore[arg-type]
        )
    assert stats.output_tokens_sum == expected["output_sum"]
    measured = [o for o in outcomes if o.measured]
    ok = [o for o in measured if o.ok]
    errors: dict[str, int] = {}
    for o in measured:
        if o.error is not None:
            errors[str(o.error)] = errors.get(str(o.error), 0) + 1
    assert stats.errors == errors
    sources: dict[str, int] = {}
    for o in ok:
        if o.token_source is not None:
            sources[o.token_source] = sources.get(o.token_source, 0) + 1
    assert stats.token_source == sources
    assert stats.streamed
    # Some successful request lacks a count: totals for cost are unknown.
    assert stats.input_tokens is None and stats.output_tokens is None


def test_token_totals_when_every_count_is_known() -> None:
    outcomes = [
        Outcome("s", "t", i, i + 1, i + 5, input_tokens=3, output_tokens=i % 4) for i in range(9)
    ]
    outcomes.append(Outcome("s", "t", 50, 51, 52, error=ErrorKind.TIMEOUT))  # errors not counted
    stats = measured_stats(outcomes)
    assert stats.input_tokens == 27 and stats.output_tokens == sum(i % 4 for i in range(9))
    assert stats.completed == 9 and stats.errors == {"timeout": 1}
    assert not stats.streamed and stats.ttft_ns.count == 0 and stats.token_source == {}


def test_percentiles_switch_from_exact_to_histogram_past_the_limit() -> None:
    rng = np.random.default_rng(5)
    service = rng.lognormal(np.log(5 * MS), 0.7, 3_000).astype(np.int64)
    outcomes = [
        Outcome("s", "t", BASE + i, BASE + i, BASE + i + int(s), token_gaps_ns=(1_000, 2_000))
        for i, s in enumerate(service.tolist())
    ]
    with OutcomeRecorder(chunk_rows=256, exact_limit=5_000) as recorder:
        recorder.extend(outcomes)
        stats = recorder.measured_stats()
        assert stats.service_ns.method == "exact"  # 3,000 values: under the limit
        assert stats.itl_ns.method == PRECISION_LABEL  # 6,000 token gaps: over it
        small = recorder.measured_stats(exact_limit=1_000)
    assert small.service_ns.method == PRECISION_LABEL
    assert small.service_ns.values is None and small.service_ns.histogram is not None
    qs = [50, 90, 95, 99, 99.9]
    exact = np.percentile(service, qs)
    assert stats.service_ns.percentiles(qs) == pytest.approx(exact)
    approximate = np.array(small.service_ns.percentiles(qs))
    assert np.all(np.abs(approximate - exact) <= RELATIVE_ERROR * exact)
    # Count, mean and max stay exact either way.
    assert small.service_ns.count == 3_000
    assert small.service_ns.mean == pytest.approx(service.mean(), rel=1e-12)
    assert small.service_ns.max == service.max()
    _, weights = small.service_ns.weighted()
    assert weights is not None and int(weights.sum()) == 3_000
    values, no_weights = stats.service_ns.weighted()
    assert no_weights is None and values.size == 3_000


def test_a_failed_write_is_reported_on_the_next_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(path: Path, data: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill_module, "_append_file", full_disk)
    recorder = OutcomeRecorder(chunk_rows=4)
    with pytest.raises(ModelmeterError, match=r"cannot write outcomes.*No space left"):
        # The writer thread may fail before the next append looks (a busy machine) or after
        # it: the error comes at whichever look is first, and never later than the first read.
        recorder.extend(_outcomes(6))
        list(recorder)
    recorder.close()
    assert recorder.directory is not None and not recorder.directory.exists()


def test_refuses_bad_options() -> None:
    with pytest.raises(ValueError, match="chunk_rows"):
        OutcomeRecorder(chunk_rows=0)
    with pytest.raises(ValueError, match="exact_limit"):
        OutcomeRecorder(exact_limit=-1)
