"""Outcomes stored as compressed column blocks read back exactly, and take far less room than
one row per request did."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, update

from modelmeter._exceptions import ErrorKind, StoreError
from modelmeter.load.outcome import Outcome
from modelmeter.store import OutcomeRow, RunStore
from modelmeter.store.blocks import BLOCK_ROWS, decode_block, encode_block
from modelmeter.store.schema import outcome_blocks, outcomes
from tests.unit.test_store import _report

MS = 1_000_000

outcome_lists = st.lists(
    st.builds(
        Outcome,
        sample_id=st.sampled_from(["a", "b", "é/ü", ""]) | st.text(max_size=12),
        target=st.just("t"),
        intended_at=st.integers(0, 2**50),
        sent_at=st.integers(0, 2**50),
        done_at=st.integers(0, 2**50),
        prediction=st.none() | st.text(max_size=8),
        error=st.none() | st.sampled_from(list(ErrorKind)),
        warmup=st.booleans(),
        cooldown=st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(items=outcome_lists)
def test_a_block_reads_back_what_was_written(items: list[Outcome]) -> None:
    block = decode_block(encode_block(items))
    assert len(block) == len(items)
    assert block.intended_at.tolist() == [o.intended_at for o in items]
    assert block.sent_at.tolist() == [o.sent_at for o in items]
    assert block.done_at.tolist() == [o.done_at for o in items]
    assert block.sample_id == [o.sample_id for o in items]
    assert block.prediction == [o.prediction for o in items]
    assert block.error_kind == [None if o.error is None else str(o.error) for o in items]
    assert block.warmup.tolist() == [o.warmup for o in items]
    assert block.cooldown.tolist() == [o.cooldown for o in items]


def _load_phase(count: int, seed: int = 3) -> list[Outcome]:
    """A closed loop's requests: steady sends, lognormal answers, some timeouts."""
    rng = np.random.default_rng(seed)
    sent = np.cumsum(rng.exponential(50_000, count)).astype(np.int64) + 10**15
    service = (rng.lognormal(np.log(8), 0.4, count) * MS).astype(np.int64)
    failed = rng.random(count) < 0.01
    return [
        Outcome(
            f"row-{i % 500}",
            "t",
            intended_at=int(sent[i]),
            sent_at=int(sent[i]),
            done_at=int(sent[i] + service[i]),
            error=ErrorKind.TIMEOUT if failed[i] else None,
            warmup=i < count // 20,
        )
        for i in range(count)
    ]


def test_a_stored_run_reads_back_in_send_order_with_the_rows_of_older_runs(
    tmp_path: Path,
) -> None:
    store = RunStore(str(tmp_path / "runs.sqlite3"))
    run_id = "20260101-000000-aaaaaa"
    load = _load_phase(2 * BLOCK_ROWS + 17)  # three blocks
    quality = [Outcome("q", "t", 5, 6, 9, prediction="yes")]
    store.save(_report(run_id), {("base", "load"): load, ("base", "quality"): quality})
    assert store.count_outcomes(run_id) == len(load) + 1
    expected = sorted(
        [
            OutcomeRow("base", "load", o.sent_at, o.done_at, o.error and str(o.error))
            for o in load
            if o.measured
        ]
        + [OutcomeRow("base", "quality", 6, 9, None)],
        key=lambda row: row.sent_at_ns,
    )
    assert store.measured_outcomes(run_id) == expected

    # A run stored before blocks keeps its rows in the old table; both are read.
    old_id = "20250101-000000-bbbbbb"
    store.save(_report(old_id))
    engine = create_engine(store.url)
    with engine.begin() as connection:
        connection.execute(
            insert(outcomes),
            [
                {
                    "run_id": old_id,
                    "target": "base",
                    "phase": "load",
                    "sample_id": "s",
                    "intended_at_ns": 1,
                    "sent_at_ns": 2,
                    "done_at_ns": 3,
                    "prediction": None,
                    "error_kind": None,
                    "warmup": 0,
                    "cooldown": 0,
                }
            ],
        )
    assert store.measured_outcomes(old_id) == [OutcomeRow("base", "load", 2, 3, None)]
    assert store.count_outcomes(old_id) == 1

    # A damaged block is a clear error, not a traceback.
    with engine.begin() as connection:
        connection.execute(
            update(outcome_blocks).where(outcome_blocks.c.run_id == run_id).values(data=b"junk")
        )
    with pytest.raises(StoreError, match="a stored block of outcomes is damaged"):
        store.measured_outcomes(run_id)
    engine.dispose()
    store.close()


@pytest.mark.parametrize(
    "data",
    [b"", b"junk", zlib.compress(b"\x05\x00\x00\x00[1,2]"), zlib.compress(b"\xff" * 64)],
    ids=["empty", "not-deflate", "header-not-object", "bad-length"],
)
def test_a_damaged_block_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"not a stored outcome block|row count|version"):
        decode_block(data)
    good = zlib.decompress(encode_block(_load_phase(3)))
    with pytest.raises(ValueError):
        decode_block(zlib.compress(good[:-1]))  # one byte short


def test_a_block_costs_a_few_bytes_per_request() -> None:
    load = _load_phase(BLOCK_ROWS)
    per_request = len(encode_block(load)) / len(load)
    # One row per request took about 134 bytes in SQLite (benchmarks/store_size.py).
    assert per_request < 16, per_request
