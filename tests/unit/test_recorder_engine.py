"""OutcomeRecorder as the load engine's sink, against the local fault server."""

from __future__ import annotations

import asyncio

from modelmeter._exceptions import ErrorKind
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop, run_open_loop
from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder import OutcomeRecorder
from modelmeter.load.schedule import LoadPlan
from modelmeter.targets.http_json import HttpJsonTarget

SAMPLES = [Sample(id=f"s{i}", input=f"text {i}", label=f"TEXT {i}") for i in range(20)]
NS_PER_MS = 1_000_000


def _target(url: str) -> HttpJsonTarget:
    return HttpJsonTarget(
        "t",
        url,
        response_path="prediction.label",
        input_tokens_path="usage.input_tokens",
        output_tokens_path="usage.output_tokens",
        timeout_s=10.0,
    )


def test_closed_loop_into_a_recorder(fault_server) -> None:  # type: ignore[no-untyped-def]
    delay_ms = 5
    target = _target(f"{fault_server.url}/label?delay_ms={delay_ms}")
    seen: list[Outcome] = []

    async def go(recorder: OutcomeRecorder) -> None:
        await target.start()
        try:
            await run_closed_loop(
                target,
                SAMPLES,
                concurrency=3,
                duration_s=None,
                sink=recorder,  # type: ignore[arg-type]
                on_outcome=seen.append,
            )
        finally:
            await target.close()

    with OutcomeRecorder(chunk_rows=4) as recorder:
        asyncio.run(go(recorder))
        assert len(recorder) == len(SAMPLES) and recorder.spilled_rows == 20
        back = list(recorder)
        stats = recorder.measured_stats()
    # The same outcomes, in the same order, as the engine handed out.
    assert back == seen
    by_id = {o.sample_id: o for o in back}
    assert by_id["s3"].prediction == "TEXT 3"
    assert by_id["s3"].input_tokens == 2 and by_id["s3"].output_tokens == 1
    assert all(o.ok and o.service_time_ns >= delay_ms * NS_PER_MS for o in back)
    assert stats.requests == stats.completed == 20
    assert stats.service_ns.min >= delay_ms * NS_PER_MS
    assert stats.input_tokens == 40 and stats.token_source == {"usage": 20}


def test_open_loop_with_warmup_and_errors_into_a_recorder(fault_server) -> None:  # type: ignore[no-untyped-def]
    plan = LoadPlan(mode="constant", rate_rps=200, duration_s=0.2, warmup_s=0.05, cooldown_s=0.05)
    target = _target(f"{fault_server.url}/status/500")
    seen: list[Outcome] = []

    async def go(recorder: OutcomeRecorder) -> None:
        await target.start()
        try:
            await run_open_loop(
                target,
                SAMPLES,
                plan,
                sink=recorder,  # type: ignore[arg-type]
                on_outcome=seen.append,
            )
        finally:
            await target.close()

    with OutcomeRecorder(keep_predictions=False, chunk_rows=8) as recorder:
        asyncio.run(go(recorder))
        back = list(recorder)
        stats = recorder.measured_stats()
        measured_back = list(recorder.iter_outcomes(measured_only=True))
    assert back == seen and len(back) == 60
    assert any(o.warmup for o in back) and any(o.cooldown for o in back)
    measured = [o for o in seen if o.measured]
    assert measured_back == measured
    assert stats.requests == len(measured) and stats.completed == 0
    assert stats.errors == {str(ErrorKind.HTTP_STATUS): len(measured)}
    assert all("500" in (o.error_detail or "") for o in back)
    assert stats.lag_ns.count == len(measured) and stats.response_ns.count == 0
    assert stats.window_start_ns == min(o.intended_at for o in measured)
