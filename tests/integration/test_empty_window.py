"""A measured window cannot be empty by accident.

In a closed loop the requests sent during the warm-up hold every worker; against a server that
stopped answering they were still hanging when the measured window closed, so they were left
out as warm-up and the phase reported 0 requests, 0% errors. A warm-up request still unanswered
when the window closes now counts in it (as the timeout it becomes), in the closed and the open
loop, in one process or several; a warm-up request answered inside the window stays warm-up.
"""

from __future__ import annotations

import asyncio

import pytest

from modelmeter._exceptions import ErrorKind
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop, run_plan
from modelmeter.load.multiprocess import run_plan_in_processes
from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.sweep import LoadPoint, PointResult, Slo
from modelmeter.spec import HttpTargetSpec
from modelmeter.targets.http_json import HttpJsonTarget

SAMPLES = [Sample(id=f"s{i}", input=f"text {i}") for i in range(4)]
TIMEOUT_S = 1.0


def _target(url: str) -> HttpJsonTarget:
    return HttpJsonTarget("t", url, response_path="prediction.label", timeout_s=TIMEOUT_S)


def _closed(url: str, *, warmup_s: float, duration_s: float) -> list[Outcome]:
    async def go() -> list[Outcome]:
        target = _target(url)
        await target.start()
        try:
            found = await run_closed_loop(
                target, SAMPLES, concurrency=3, duration_s=duration_s, warmup_s=warmup_s
            )
            return list(found)
        finally:
            await target.close()

    return asyncio.run(go())


def test_closed_loop_against_a_hung_server_counts_its_timeouts(fault_server) -> None:  # type: ignore[no-untyped-def]
    # Warm-up 0.2 s, window 0.3 s, timeout 1 s: the three warm-up requests are still hanging
    # when the window closes, and nothing else is sent.
    outcomes = _closed(f"{fault_server.url}/hang", warmup_s=0.2, duration_s=0.3)
    assert len(outcomes) == 3
    assert all(o.measured for o in outcomes)
    assert {o.error for o in outcomes} == {ErrorKind.TIMEOUT}


def test_a_warmup_request_answered_inside_the_window_stays_warmup(fault_server) -> None:  # type: ignore[no-untyped-def]
    # Answers take 50 ms; the window lasts 2 s, so no warm-up request can span it.
    outcomes = _closed(f"{fault_server.url}/label?delay_ms=50", warmup_s=0.1, duration_s=2.0)
    warmup = [o for o in outcomes if o.warmup]
    assert warmup, "the warm-up sent nothing"
    assert all(o.ok for o in outcomes)
    assert sum(o.measured for o in outcomes) > len(warmup)


@pytest.mark.parametrize("processes", [1, 2])
def test_open_loop_against_a_hung_server_counts_its_timeouts(fault_server, processes) -> None:  # type: ignore[no-untyped-def]
    # 20 req/s: 4 warm-up arrivals in 0.2 s, 6 in the 0.3 s window; all hang past its end.
    plan = LoadPlan(mode="constant", rate_rps=20, warmup_s=0.2, duration_s=0.3, seed=1)
    url = f"{fault_server.url}/hang"
    if processes == 1:

        async def go() -> list[Outcome]:
            target = _target(url)
            await target.start()
            try:
                return list(await run_plan(target, SAMPLES, plan))
            finally:
                await target.close()

        outcomes = asyncio.run(go())
    else:
        spec = HttpTargetSpec(
            kind="http", name="t", url=url, response_path="prediction.label", timeout_s=TIMEOUT_S
        )
        outcomes = list(asyncio.run(run_plan_in_processes(spec, SAMPLES, plan, processes=2)))
    assert len(outcomes) == 10
    assert all(o.measured for o in outcomes)
    assert {o.error for o in outcomes} == {ErrorKind.TIMEOUT}


def _point(requests: int | None, completed: int | None, error_rate: float) -> PointResult:
    return PointResult(
        point=LoadPoint("concurrency", 4),
        throughput_rps=0.0,
        goodput_rps=0.0,
        p95_ms=None,
        p99_ms=None,
        error_rate=error_rate,
        requests=requests,
        completed=completed,
    )


def test_a_load_level_that_completed_nothing_fails_its_slo() -> None:
    slo = Slo(max_error_rate=0.5)
    assert slo.violations(_point(4, 0, 1.0)) == [
        "error rate 100% > 50%",
        "load phase: none of the 4 requests in the measured window completed",
    ]
    # An empty window passes no limit either, not even one on errors alone.
    assert slo.violations(_point(0, 0, 0.0)) == [
        "load phase: no request in the measured window (nothing was measured)"
    ]
    assert not slo.met_by(_point(0, 0, 0.0))
