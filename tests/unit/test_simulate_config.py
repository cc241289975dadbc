"""The simulator's configuration, pseudo-text, wire format pieces, pacer and accuracy summary."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import sys
import time

import pytest
from pydantic import ValidationError

from modelmeter.simulate import (
    ChunkTiming,
    Delay,
    RequestTiming,
    SimulatorConfig,
    send_accuracy,
)
from modelmeter.simulate._openai import (
    BadRequest,
    StreamFormat,
    parse_completion_request,
)
from modelmeter.simulate._pacer import Pacer
from modelmeter.simulate._text import VOCABULARY, prompt_rng


def test_a_number_is_a_fixed_delay() -> None:
    config = SimulatorConfig(ttft_ms=25, itl_ms=2.5)
    assert config.ttft_ms == Delay(mean_ms=25.0)
    assert config.itl_ms.sample_ns(random.Random(0)) == 2_500_000


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        ({"mean_ms": -1}, "greater than or equal to 0"),
        ({"mean_ms": 5, "kind": "normal"}, "needs sd_ms"),
        ({"mean_ms": 5, "kind": "lognormal"}, "needs sigma"),
        ({"mean_ms": 5, "sd_ms": 1}, "sd_ms applies to kind 'normal' only"),
        ({"mean_ms": 5, "kind": "normal", "sd_ms": 1, "sigma": 1}, "sigma applies"),
        ({"mean_ms": 0, "kind": "exponential"}, "needs mean_ms above 0"),
        ({"mean_ms": 5, "kind": "uniform"}, "Input should be 'fixed'"),
    ],
)
def test_bad_delays_say_what_is_wrong(delay: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        SimulatorConfig(ttft_ms=delay)
    assert caught.value.errors()[0]["loc"][0] == "ttft_ms"


@pytest.mark.parametrize(
    ("delay", "sd_ms"),
    [
        ({"mean_ms": 20, "kind": "normal", "sd_ms": 4}, 4.0),
        ({"mean_ms": 20, "kind": "lognormal", "sigma": 0.3}, None),
        ({"mean_ms": 20, "kind": "exponential"}, 20.0),
    ],
)
def test_drawn_delays_have_the_configured_mean(
    delay: dict[str, object], sd_ms: float | None
) -> None:
    parsed = Delay.model_validate(delay)
    rng = random.Random(1)
    draws = [parsed.sample_ns(rng) / 1e6 for _ in range(20_000)]
    assert min(draws) >= 0
    assert statistics.fmean(draws) == pytest.approx(20.0, rel=0.03)
    if sd_ms is not None:
        assert statistics.stdev(draws) == pytest.approx(sd_ms, rel=0.05)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("output_tokens", 0, "at least 1"),
        ("output_tokens", (10, 5), "is empty"),
        ("tokens_per_chunk", 0, "greater than or equal to 1"),
        ("slots", 0, "greater than or equal to 1"),
        ("error_rate", 1.5, "less than or equal to 1"),
        ("error_statuses", (200,), "400..599"),
        ("error_statuses", (), "at least 1 item"),
        ("unknown", 1, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        SimulatorConfig.model_validate({field: value})
    assert caught.value.errors()[0]["loc"][0] == field


def test_the_config_round_trips_through_json() -> None:
    config = SimulatorConfig(
        ttft_ms={"mean_ms": 40, "kind": "lognormal", "sigma": 0.4},
        output_tokens=(8, 16),
        error_statuses=(503,),
    )
    assert SimulatorConfig.model_validate_json(config.model_dump_json()) == config
    assert config.output_range() == (8, 16)
    assert SimulatorConfig(output_tokens=5).output_range() == (5, 5)


def test_answers_depend_only_on_seed_and_prompt_in_any_process() -> None:
    here = prompt_rng(3, "a prompt").choices(VOCABULARY, k=6)
    code = (
        "from modelmeter.simulate._text import VOCABULARY, prompt_rng;"
        "print(' '.join(prompt_rng(3, 'a prompt').choices(VOCABULARY, k=6)))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert here == there
    assert prompt_rng(4, "a prompt").choices(VOCABULARY, k=6) != here
    assert prompt_rng(3, "another").choices(VOCABULARY, k=6) != here


def test_stream_format_chunks_are_json_events() -> None:
    fmt = StreamFormat('chat"cmpl-1', 1700000000, "m", chat=True, include_usage=True)
    events = [
        fmt.role(),
        fmt.tokens("content", ' say "hi"\n'),
        fmt.tokens("reasoning", " hmm"),
        fmt.finish("length"),
        fmt.usage({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
    ]
    parsed = []
    for event in events:
        assert event.startswith(b"data: ")
        assert event.endswith(b"\n\n")
        parsed.append(json.loads(event[6:]))
    assert {p["id"] for p in parsed} == {'chat"cmpl-1'}
    assert parsed[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert parsed[1]["choices"][0]["delta"] == {"content": ' say "hi"\n'}
    assert parsed[2]["choices"][0]["delta"] == {"reasoning_content": " hmm"}
    assert parsed[3]["choices"][0]["finish_reason"] == "length"
    assert [p.get("usage", "absent") for p in parsed[:4]] == [None] * 4
    assert parsed[4]["choices"] == []
    assert parsed[4]["usage"]["total_tokens"] == 3

    text = StreamFormat("cmpl-2", 1, "m", chat=False, include_usage=False)
    chunk = json.loads(text.tokens("content", "word")[6:])
    assert chunk["object"] == "text_completion"
    assert chunk["choices"][0]["text"] == "word"
    assert "usage" not in chunk
    assert json.loads(text.finish("stop")[6:])["choices"][0]["text"] == ""


def test_completion_requests_are_read_as_vllm_does() -> None:
    request = parse_completion_request(
        json.dumps(
            {
                "model": "x",
                "messages": [{"role": "user", "content": [{"type": "text", "text": "abcdefgh"}]}],
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": 9,
                "max_completion_tokens": 4,
            }
        ).encode(),
        chat=True,
    )
    assert request.stream
    assert request.include_usage
    assert request.max_tokens == 4
    assert request.prompt_tokens == 2  # eight characters, about four per token
    assert request.model == "x"
    ids = parse_completion_request(b'{"prompt": [1, 2, 3]}', chat=False)
    assert ids.prompt_tokens == 3
    assert not ids.include_usage  # only with stream=true
    with pytest.raises(BadRequest, match="Batched prompts"):
        parse_completion_request(b'{"prompt": ["a", "b"]}', chat=False)


def test_the_pacer_never_runs_early_and_keeps_order() -> None:
    async def scenario(busy_wait_ns: int) -> list[tuple[int, int, int]]:
        pacer = Pacer(asyncio.get_running_loop(), busy_wait_ns)
        ran: list[tuple[int, int, int]] = []
        finished = asyncio.Event()
        start = time.monotonic_ns()
        dues = [start + offset * 300_000 for offset in (9, 3, 3, 0, 12, 1, 7, 20, 5)]
        for index, due in enumerate(dues):

            def record(due_ns: int, index: int = index) -> None:
                ran.append((due_ns, time.monotonic_ns(), index))
                if len(ran) == len(dues):
                    finished.set()

            pacer.at(due, record)
        deferred: list[bool] = []
        pacer.defer(lambda: deferred.append(True))
        await asyncio.wait_for(finished.wait(), 10)
        await asyncio.sleep(0.01)
        assert deferred == [True]
        assert len(pacer) == 0
        return ran

    for busy_wait_ns in (0, 2_000_000):
        ran = asyncio.run(scenario(busy_wait_ns))
        assert all(actual >= due for due, actual, _ in ran)
        assert [due for due, _, _ in ran] == sorted(due for due, _, _ in ran)
        ties = [index for due, _, index in ran if due == ran[1][0]]
        assert ties == sorted(ties)  # equal due times run in the order they were added


def test_send_accuracy_summarises_lateness_of_token_chunks() -> None:
    def chunk(kind: str, late_us: int) -> ChunkTiming:
        return ChunkTiming(kind, 1, 1_000_000, 1_000_000 + late_us * 1000)

    timing = RequestTiming(
        request_id="r",
        completion_id="c",
        path="/v1/chat/completions",
        stream=True,
        status=200,
        arrived_ns=0,
        slot_started_ns=0,
        headers_written_ns=0,
        finished_ns=0,
        ttft_ns=0,
        prompt_tokens=1,
        output_tokens=4,
        reasoning_tokens=0,
        finish_reason="stop",
        cancelled=False,
        chunks=(chunk("role", 999), *(chunk("content", us) for us in (1, 2, 3, 4, 100))),
    )
    accuracy = send_accuracy([timing])
    assert accuracy.count == 5
    assert accuracy.p50_us == 3.0
    assert accuracy.max_us == 100.0
    assert accuracy.p99_us == pytest.approx(96.16)
    assert send_accuracy([timing], kinds=("role",)).max_us == 999.0
    with pytest.raises(ValueError, match="no chunks"):
        send_accuracy([timing], kinds=("usage",))
