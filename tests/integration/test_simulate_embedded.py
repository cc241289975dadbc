"""`Simulator` on an event loop the caller runs: start, answer, stop with answers in flight."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from modelmeter.simulate import RequestTiming, Simulator, SimulatorConfig


def test_an_embedded_simulator_answers_and_logs_what_stop_cut_short(tmp_path: Path) -> None:
    log = tmp_path / "timings.jsonl"

    async def scenario() -> tuple[list[RequestTiming], bytes]:
        simulator = Simulator(
            SimulatorConfig(ttft_ms=1, itl_ms=60_000, output_tokens=3, slots=1), timings_log=log
        )
        url = await simulator.start()
        body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
        async with aiohttp.ClientSession() as session:
            quick = {**body, "max_tokens": 1}  # just the TTFT; the next tokens take a minute each
            async with session.post(f"{url}/v1/chat/completions", json=quick) as response:
                answer = await response.read()
            async with session.post(
                f"{url}/v1/chat/completions", json=body, headers={"x-request-id": "cut"}
            ) as response:
                await response.content.readuntil(b"\n\n")  # the role chunk
                await response.content.readuntil(b"\n\n")  # the first token
                await simulator.stop()
        return simulator.timings(), answer

    timings, answer = asyncio.run(scenario())

    assert answer.endswith(b"data: [DONE]\n\n")
    done, cut = timings
    assert not done.cancelled
    assert done.output_tokens == 1
    assert cut.request_id == "cut"
    assert cut.cancelled
    assert len(cut.token_chunks) == 1  # the first token came after 1 ms, the second never
    logged = [RequestTiming.from_json(json.loads(line)) for line in log.read_text().splitlines()]
    assert logged == timings
