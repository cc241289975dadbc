"""MicroBatcher: batch sizes, waiting, multi-row requests and failure isolation."""

from __future__ import annotations

import asyncio

import pytest

from modelmeter._exceptions import ModelError
from modelmeter.serve import MicroBatcher

MODES = pytest.mark.parametrize("run_in_thread", [False, True], ids=["inline", "thread"])


class Recorder:
    """A model that upper-cases its rows and remembers the size of every call."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    def __call__(self, rows: list[str]) -> list[str]:
        self.batches.append(list(rows))
        if self.fail_on is not None and self.fail_on in rows:
            raise RuntimeError(f"cannot classify {self.fail_on!r}")
        return [row.upper() for row in rows]

    @property
    def sizes(self) -> list[int]:
        return [len(batch) for batch in self.batches]


async def submit_all(batcher: MicroBatcher, requests: list[list[str]]) -> list[object]:
    try:
        return await asyncio.gather(
            *(batcher.submit(rows) for rows in requests), return_exceptions=True
        )
    finally:
        await batcher.aclose()


@MODES
def test_concurrent_requests_fill_batches_up_to_the_limit(run_in_thread: bool) -> None:
    model = Recorder()
    observed: list[int] = []
    batcher = MicroBatcher(
        model,
        max_batch_size=4,
        max_wait_ms=200,
        on_batch=observed.append,
        run_in_thread=run_in_thread,
    )
    requests = [[f"text {i}"] for i in range(10)]

    results = asyncio.run(submit_all(batcher, requests))

    assert model.sizes == [4, 4, 2]
    assert observed == [4, 4, 2]
    assert results == [[f"TEXT {i}"] for i in range(10)]


@MODES
def test_a_lone_request_is_answered_once_max_wait_passes(run_in_thread: bool) -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch_size=64, max_wait_ms=5, run_in_thread=run_in_thread)

    results = asyncio.run(submit_all(batcher, [["alone"]]))

    assert results == [["ALONE"]]
    assert model.sizes == [1]


def test_max_batch_size_one_calls_the_model_per_request() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch_size=1)

    results = asyncio.run(submit_all(batcher, [["a"], ["b"], ["c", "d"]]))

    assert results == [["A"], ["B"], ["C", "D"]]
    assert model.batches == [["a"], ["b"], ["c", "d"]]
    assert batcher.queue_depth == 0


@MODES
def test_multi_row_requests_count_their_rows_and_get_their_own_slice(run_in_thread: bool) -> None:
    model = Recorder()
    depths: list[int] = []
    batcher = MicroBatcher(
        model,
        max_batch_size=4,
        max_wait_ms=50,
        on_queue_depth=depths.append,
        run_in_thread=run_in_thread,
    )
    requests = [["a", "b", "c"], ["d", "e"], ["f"], ["g", "h", "i", "j", "k", "l"]]

    results = asyncio.run(submit_all(batcher, requests))

    assert results == [[row.upper() for row in rows] for rows in requests]
    # 3 rows, then 2 that do not fit beside them, joined by 1; the 6-row request runs alone.
    assert sorted(model.sizes) == [3, 3, 6]
    assert all(len(batch) <= 4 or batch == requests[3] for batch in model.batches)
    assert max(depths) >= 4
    assert depths[-1] == 0


@MODES
def test_a_failing_batch_fails_only_its_own_requests(run_in_thread: bool) -> None:
    model = Recorder(fail_on="boom")
    batcher = MicroBatcher(
        model, name="clf", max_batch_size=2, max_wait_ms=200, run_in_thread=run_in_thread
    )

    results = asyncio.run(submit_all(batcher, [["a"], ["boom"], ["c"], ["d"]]))

    assert model.sizes == [2, 2]
    assert results[2:] == [["C"], ["D"]]
    for failed in results[:2]:
        assert isinstance(failed, ModelError)
        assert "model 'clf' failed on a batch of 2 rows" in str(failed)
        assert "RuntimeError: cannot classify 'boom'" in str(failed)
        assert isinstance(failed.__cause__, RuntimeError)


def test_a_failure_without_batching_reaches_the_caller() -> None:
    batcher = MicroBatcher(Recorder(fail_on="boom"), name="clf", max_batch_size=1)

    with pytest.raises(ModelError, match="failed on a batch of 1 rows"):
        asyncio.run(batcher.submit(["boom"]))


def test_a_model_returning_the_wrong_number_of_labels_is_an_error() -> None:
    batcher = MicroBatcher(lambda rows: ["x"], name="short", max_batch_size=1)

    with pytest.raises(ModelError, match="returned 1 labels for a batch of 2 rows"):
        asyncio.run(batcher.submit(["a", "b"]))


def test_an_empty_request_does_not_call_the_model() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch_size=8)

    assert asyncio.run(submit_all(batcher, [[]])) == [[]]
    assert model.batches == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_batch_size": 0}, "max_batch_size must be at least 1, got 0"),
        ({"max_wait_ms": -1.0}, "max_wait_ms must be 0 or more, got -1.0"),
    ],
)
def test_invalid_settings_say_what_is_allowed(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MicroBatcher(Recorder(), **kwargs)  # type: ignore[arg-type]
