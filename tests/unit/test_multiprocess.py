"""How a plan is shared between load workers, and what crosses the process boundary."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from modelmeter._exceptions import ErrorKind, HTTPStatusFailure, SpecError
from modelmeter.load.engine import dealt_arrivals
from modelmeter.load.multiprocess import WorkerFailed, split_evenly, split_like
from modelmeter.load.multiprocess.messages import (
    OUTCOME_FIELDS,
    ErrorReport,
    FrameReader,
    encode_frame,
    error_report,
    outcome_row,
    rebuild_error,
)
from modelmeter.load.multiprocess.shares import plan_shares
from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import LoadPlan, arrival_offsets_ns


class NeedsTwoArguments(Exception):
    """An exception whose __init__ does not take its own args back (pickling alone fails it)."""

    def __init__(self, code: int, why: str) -> None:
        self.code = code
        super().__init__(f"[{code}] {why}")


def test_split_evenly_gives_the_larger_shares_first() -> None:
    assert split_evenly(10, 4) == [3, 3, 2, 2]
    assert split_evenly(5, 2) == [3, 2]
    assert split_evenly(4, 4) == [1, 1, 1, 1]
    assert split_evenly(2, 3) == [1, 1, 0]
    with pytest.raises(ValueError):
        split_evenly(3, 0)


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [3, 2], [60, 40]),
        (10, [3, 3, 2, 2], [3, 3, 2, 2]),
        (7, [1, 1], [4, 3]),
        (1, [2, 2, 1], [1, 0, 0]),
        (0, [3, 2], [0, 0]),
    ],
)
def test_split_like_is_proportional_and_exact(
    total: int, weights: list[int], expected: list[int]
) -> None:
    shares = split_like(total, weights)
    assert shares == expected
    assert sum(shares) == total


def test_closed_loop_shares_partition_max_requests_by_concurrency() -> None:
    plan = LoadPlan(mode="concurrency", concurrency=5, max_requests=101)
    shares = plan_shares(plan, 2, pin=False)
    assert [s.concurrency for s in shares] == [3, 2]
    indices = [i for s in shares for i in s.indices()]
    assert indices == list(range(101))  # every request index once, in contiguous blocks
    assert all(s.cpu is None for s in shares)


def test_closed_loop_shares_without_max_requests_interleave() -> None:
    shares = plan_shares(LoadPlan(mode="concurrency", concurrency=3), 2, pin=False)
    first = [[next(it) for _ in range(4)] for it in (s.indices() for s in shares)]
    assert first == [[0, 2, 4, 6], [1, 3, 5, 7]]


def test_no_more_workers_than_the_plan_can_use() -> None:
    assert len(plan_shares(LoadPlan(mode="concurrency", concurrency=2), 8, pin=False)) == 2
    plan = LoadPlan(mode="constant", rate_rps=10, max_in_flight=3)
    shares = plan_shares(plan, 8, pin=False)
    assert [s.max_in_flight for s in shares] == [1, 1, 1]
    assert [s.workers for s in shares] == [3, 3, 3]


def test_pinning_gives_each_worker_its_own_core_or_none() -> None:
    import os

    cpus = sorted(os.sched_getaffinity(0))
    plan = LoadPlan(mode="concurrency", concurrency=64)
    pinned = plan_shares(plan, len(cpus), pin=True)
    assert [s.cpu for s in pinned] == cpus
    assert all(s.cpu is None for s in plan_shares(plan, len(cpus) + 1, pin=True))


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_dealt_arrivals_add_up_to_the_schedule(workers: int) -> None:
    plan = LoadPlan(mode="poisson", rate_rps=400, duration_s=0.3, warmup_s=0.1, seed=7)
    schedule = arrival_offsets_ns(plan)
    seen: dict[int, int] = {}
    for worker in range(workers):
        # A small chunk puts chunk boundaries everywhere, where the stride has to carry over.
        for first, offsets in dealt_arrivals(plan, worker, workers, chunk=7):
            for j, offset in enumerate(offsets):
                index = first + j * workers
                assert index % workers == worker
                assert index not in seen
                seen[index] = offset
    assert sorted(seen) == list(range(schedule.size))
    assert np.array_equal(np.array([seen[i] for i in range(schedule.size)]), schedule)


def test_outcomes_cross_as_rows_and_come_back_equal() -> None:
    outcome = Outcome(
        sample_id="s1",
        target="t",
        intended_at=1,
        sent_at=2,
        done_at=30,
        error=ErrorKind.CONNECT,
        error_detail="refused",
        input_tokens=3,
        output_tokens=4,
        token_source="usage",
        first_byte_at=10,
        first_token_at=11,
        first_reasoning_at=9,
        token_gaps_ns=(5, 6, 7),
        warmup=True,
    )
    row = outcome_row(outcome)
    assert len(row) == len(OUTCOME_FIELDS)
    back = Outcome(*pickle.loads(pickle.dumps(row)))
    assert back == outcome
    assert back.error is ErrorKind.CONNECT
    # The objects pickle too (slotted dataclass); rows are the faster form.
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_frames_survive_being_split_anywhere() -> None:
    messages = [("ready",), ("outcomes", [(1, 2, 3)] * 500), ("done", 0.5)]
    stream = b"".join(encode_frame(m) for m in messages)
    for step in (1, 3, 4096, len(stream)):
        got: list[object] = []
        closed: list[bool] = []
        reader = FrameReader(got.append, lambda closed=closed: closed.append(True))
        for at in range(0, len(stream), step):
            reader.data_received(stream[at : at + step])
        reader.connection_lost(None)
        assert got == messages
        assert closed == [True]


def _round_trip(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as raised:
        report = pickle.loads(pickle.dumps(error_report(raised)))
    return rebuild_error(report, 1)


def test_typed_errors_come_back_as_the_same_class_with_their_fields() -> None:
    status = _round_trip(HTTPStatusFailure(503, "busy"))
    assert type(status) is HTTPStatusFailure
    assert (status.status, status.body, str(status)) == (503, "busy", "HTTP 503: busy")

    spec = _round_trip(SpecError("unknown kind", field="targets.x.kind"))
    assert type(spec) is SpecError
    assert spec.field == "targets.x.kind"
    assert str(spec) == "targets.x.kind: unknown kind"

    custom = _round_trip(NeedsTwoArguments(7, "odd"))
    assert type(custom) is NeedsTwoArguments
    assert custom.code == 7
    assert str(custom) == "[7] odd"

    plain = _round_trip(KeyError("missing"))
    assert type(plain) is KeyError and plain.args == ("missing",)
    # The worker's traceback goes along as a note.
    assert any("load worker 1" in note for note in plain.__notes__)


def test_an_exception_the_parent_cannot_import_becomes_worker_failed() -> None:
    report = ErrorReport("no_such_module_here", "Boom", "it broke", {}, "trace", None)
    rebuilt = rebuild_error(report, 0)
    assert isinstance(rebuilt, WorkerFailed)
    assert "it broke" in str(rebuilt)


def test_calibrated_ceiling_scales_with_processes_up_to_the_free_cores() -> None:
    from modelmeter.load.phase import scaled_ceiling

    assert scaled_ceiling(100_000, 1, 16) == 100_000
    assert scaled_ceiling(100_000, 4, 16) == 400_000
    # 2 cores: calibration ran the server on one, so a second process adds nothing.
    assert scaled_ceiling(100_000, 2, 2) == 100_000
    assert scaled_ceiling(100_000, 8, 4) == 300_000
