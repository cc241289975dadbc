"""The load engine's timing against a real local server with known, injected delays.

Assertions use lower bounds that follow from the injected delays (a request cannot finish
before the server has slept), plus generous upper bounds that only catch unit mistakes.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from modelmeter._exceptions import ErrorKind
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop, run_open_loop
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.stats import summarize_phase
from modelmeter.targets.http_json import HttpJsonTarget

SAMPLES = [Sample(id=f"s{i}", input=f"text {i}", label=f"TEXT {i}") for i in range(20)]
NS_PER_MS = 1_000_000


def _target(url: str, name: str = "t", timeout_s: float = 10.0) -> HttpJsonTarget:
    return HttpJsonTarget(
        name,
        url,
        response_path="prediction.label",
        input_tokens_path="usage.input_tokens",
        output_tokens_path="usage.output_tokens",
        timeout_s=timeout_s,
    )


async def _closed(url: str, **kwargs):  # type: ignore[no-untyped-def]
    target = _target(url)
    await target.start()
    try:
        return await run_closed_loop(target, SAMPLES, **kwargs)
    finally:
        await target.close()


def test_closed_loop_service_time_covers_injected_delay(fault_server) -> None:  # type: ignore[no-untyped-def]
    delay_ms = 30
    outcomes = asyncio.run(
        _closed(f"{fault_server.url}/label?delay_ms={delay_ms}", concurrency=2, duration_s=None)
    )
    assert len(outcomes) == len(SAMPLES)
    assert all(o.ok for o in outcomes)
    service_ms = np.array([o.service_time_ns for o in outcomes]) / NS_PER_MS
    assert service_ms.min() >= delay_ms
    assert np.median(service_ms) < delay_ms + 250  # catches unit errors, not a speed claim
    # Closed loop: each request is intended when it is sent, so response time == service time.
    assert all(o.response_time_ns == o.service_time_ns for o in outcomes)
    # Answers and token counts come through from the response.
    by_id = {o.sample_id: o for o in outcomes}
    assert by_id["s3"].prediction == "TEXT 3"
    assert by_id["s3"].input_tokens == 2 and by_id["s3"].output_tokens == 1


def test_closed_loop_keeps_concurrency_and_stops_at_max_requests(fault_server) -> None:  # type: ignore[no-untyped-def]
    outcomes = asyncio.run(
        _closed(
            f"{fault_server.url}/label?delay_ms=20", concurrency=4, duration_s=30, max_requests=12
        )
    )
    assert len(outcomes) == 12
    # With 4 workers and 20 ms per answer, 12 requests take 3 rounds: at least 60 ms in all,
    # and at no moment more than 4 requests were in flight.
    events = sorted([(o.sent_at, 1) for o in outcomes] + [(o.done_at, -1) for o in outcomes])
    in_flight = peak = 0
    for _, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak == 4
    span = max(o.done_at for o in outcomes) - min(o.sent_at for o in outcomes)
    assert span >= 3 * 20 * NS_PER_MS


def test_open_loop_response_time_includes_wait_coordinated_omission(fault_server) -> None:  # type: ignore[no-untyped-def]
    """100 arrivals/s against 50 ms answers with one request allowed in flight.

    The schedule falls behind by at least 40 ms per request; a client that timed from the
    actual send would hide that, ours must show it as schedule lag and response time.
    """
    plan = LoadPlan(
        mode="constant", rate_rps=100, duration_s=0.1, warmup_s=0, max_requests=8, max_in_flight=1
    )
    target = _target(f"{fault_server.url}/label?delay_ms=50")

    async def go():  # type: ignore[no-untyped-def]
        await target.start()
        try:
            return await run_open_loop(target, SAMPLES, plan)
        finally:
            await target.close()

    outcomes = sorted(asyncio.run(go()), key=lambda o: o.intended_at)
    assert len(outcomes) == 8
    start = outcomes[0].intended_at
    for index, outcome in enumerate(outcomes):
        # Intended exactly every 10 ms from the start.
        assert outcome.intended_at - start == index * 10 * NS_PER_MS
        assert outcome.schedule_lag_ns >= index * 40 * NS_PER_MS
        assert outcome.response_time_ns >= outcome.service_time_ns >= 50 * NS_PER_MS
    phase = summarize_phase(outcomes, plan)
    assert phase.load.client_bound
    assert phase.response_time_ms is not None and phase.load.service_time_ms is not None
    assert phase.response_time_ms.p99 > phase.load.service_time_ms.p99 + 200


def test_faults_are_counted_by_kind_never_raised(fault_server) -> None:  # type: ignore[no-untyped-def]
    async def one(url: str, timeout_s: float = 5.0):  # type: ignore[no-untyped-def]
        target = _target(url, timeout_s=timeout_s)
        await target.start()
        try:
            return await run_closed_loop(target, SAMPLES[:2], concurrency=1, duration_s=None)
        finally:
            await target.close()

    kinds = {
        "status": asyncio.run(one(f"{fault_server.url}/status/503")),
        "not_json": asyncio.run(one(f"{fault_server.url}/not-json")),
        "hang": asyncio.run(one(f"{fault_server.url}/hang", timeout_s=0.2)),
        "refused": asyncio.run(one("http://127.0.0.1:9/label")),
        "wrong_path": asyncio.run(one(f"{fault_server.url}/label?delay_ms=0")),
    }
    assert {o.error for o in kinds["status"]} == {ErrorKind.HTTP_STATUS}
    assert "503" in (kinds["status"][0].error_detail or "")
    assert {o.error for o in kinds["not_json"]} == {ErrorKind.PROTOCOL}
    assert {o.error for o in kinds["hang"]} == {ErrorKind.TIMEOUT}
    assert {o.error for o in kinds["refused"]} == {ErrorKind.CONNECT}
    assert all(o.ok for o in kinds["wrong_path"])


def test_summary_counts_errors_and_excludes_warmup(fault_server) -> None:  # type: ignore[no-untyped-def]
    plan = LoadPlan(mode="concurrency", concurrency=2, duration_s=0.3, warmup_s=0.1)
    target = _target(f"{fault_server.url}/status/500")

    async def go():  # type: ignore[no-untyped-def]
        await target.start()
        try:
            return await run_closed_loop(
                target, SAMPLES, concurrency=2, duration_s=0.3, warmup_s=0.1
            )
        finally:
            await target.close()

    outcomes = asyncio.run(go())
    assert any(o.warmup for o in outcomes) and any(not o.warmup for o in outcomes)
    phase = summarize_phase(outcomes, plan)
    measured = [o for o in outcomes if not o.warmup]
    assert phase.load.requests == len(measured)
    assert phase.load.errors == {"http_status": len(measured)}
    assert phase.load.error_rate == 1.0
    assert phase.response_time_ms is None
    assert phase.throughput_rps == 0.0


def test_closed_loop_ramp_up_staggers_the_workers(fault_server) -> None:  # type: ignore[no-untyped-def]
    """Three workers over a 0.3 s ramp: worker k sends no earlier than k × 100 ms in.

    A busy machine can only delay a send, never advance it, so the k-th send in time order is at
    least k × 100 ms after the run began, however late any worker woke (without the ramp, all
    three would be sent at once).
    """
    began = time.monotonic_ns()
    outcomes = asyncio.run(
        _closed(
            f"{fault_server.url}/label?delay_ms=200",
            concurrency=3,
            duration_s=None,
            max_requests=3,
            ramp_up_s=0.3,
        )
    )
    sent = sorted(o.sent_at for o in outcomes)
    assert len(sent) == 3
    assert sent[1] - began >= 100 * NS_PER_MS
    assert sent[2] - began >= 200 * NS_PER_MS
