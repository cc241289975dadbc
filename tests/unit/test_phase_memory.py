"""Summarising a load phase takes memory for one batch of rows, however many requests it had.

Goodput was computed from a list of every measured request as an `Outcome` (784 MiB to
summarise 1.95M requests); it is now computed from the recorder's columns a batch at a time,
like the rest of the summary. The figure must not change.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from modelmeter._exceptions import ErrorKind
from modelmeter.load.outcome import Outcome
from modelmeter.load.phase import summarize_level
from modelmeter.load.recorder import OutcomeRecorder
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.sweep import Slo, goodput, goodput_of_columns

MS = 1_000_000


def _outcomes(count: int, seed: int = 1) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    service = rng.lognormal(np.log(40), 0.5, count)
    ttft = rng.lognormal(np.log(15), 0.5, count)
    tokens = rng.integers(0, 40, count)
    failed = rng.random(count) < 0.05
    phase = rng.integers(0, 10, count)  # 0: warm-up, 9: cool-down
    outcomes = []
    for i in range(count):
        sent = i * MS
        done = sent + int(service[i] * MS)
        streamed = i % 3 != 0  # a third have no first token: no TTFT, a miss under a TTFT limit
        outcomes.append(
            Outcome(
                "s",
                "t",
                intended_at=sent - (i % 7) * 100_000,
                sent_at=sent,
                done_at=done,
                error=ErrorKind.TIMEOUT if failed[i] else None,
                output_tokens=int(tokens[i]),
                first_token_at=sent + int(ttft[i] * MS) if streamed else None,
                warmup=bool(phase[i] == 0),
                cooldown=bool(phase[i] == 9),
            )
        )
    return outcomes


@pytest.mark.parametrize(
    "slo",
    [Slo(p95_ms=45), Slo(ttft_p95_ms=16), Slo(itl_p95_ms=2), Slo(p99_ms=60, ttft_p95_ms=20)],
    ids=["latency", "ttft", "tpot", "both"],
)
def test_goodput_from_columns_is_goodput_from_outcomes(slo: Slo) -> None:
    outcomes = _outcomes(5_000)
    measured = [o for o in outcomes if o.measured]
    with OutcomeRecorder(keep_predictions=False, chunk_rows=700) as recorder:
        recorder.extend(outcomes)
        batches = list(recorder.iter_columns(measured_only=True))
        assert len(batches) > 1  # several batches, as a long run's would be
        from_columns = goodput_of_columns(iter(batches), slo, window_s=3.5)
    from_outcomes = goodput(measured, slo, window_s=3.5)
    assert from_outcomes > 0
    assert from_columns == from_outcomes
    assert goodput_of_columns(iter(batches), slo, window_s=0.0) == 0.0


def _summary_peak_bytes(count: int) -> int:
    """Peak memory traced while summarising ``count`` requests as a phase ends."""
    plan = LoadPlan(mode="concurrency", concurrency=8, duration_s=10.0)
    slo = Slo(p95_ms=45, ttft_p95_ms=16)
    # A small exact limit puts both sizes past it, as a long run is: histograms, not values.
    with OutcomeRecorder(keep_predictions=False, exact_limit=10_000) as recorder:
        recorder.extend(_outcomes(count))
        tracemalloc.start()
        try:
            _summary, result = summarize_level(recorder, plan, slo)  # what a phase's end runs
            assert result.goodput_rps > 0
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_summarising_a_phase_does_not_grow_with_its_length() -> None:
    # Both sizes are several read batches (65,536 rows) long.
    short, long = _summary_peak_bytes(150_000), _summary_peak_bytes(600_000)
    assert long < 1.25 * short, (short, long)
