"""Answers a hostile or broken server really sends, against every HTTP target kind.

Each must cost one counted `protocol` error with a message saying what was wrong, and the
requests after it must still be measured: before these checks, a 4,301-digit integer, JSON
nested 100,000 deep, an OIP output that is not an object, ``"choices": 5`` or content that is a
number in a stream each killed the whole run with a traceback, a stream without ``[DONE]``
counted as a complete answer, a negative token count went into the bill, and an endless body
grew until the timeout. Content sent as a list of parts is a valid answer and is read.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from modelmeter._exceptions import ErrorKind
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop
from modelmeter.load.outcome import Outcome
from modelmeter.targets.base import Target
from modelmeter.targets.http_json import HttpJsonTarget
from modelmeter.targets.oip import OipTarget
from modelmeter.targets.openai import OpenAITarget

HUGE_INT = b"1" * 4301
DEEP = b"[" * 100_000 + b"]" * 100_000
SAMPLES = [Sample(id=f"s{i}", input=f"text {i}") for i in range(4)]


def _event(payload: Any) -> bytes:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return b"data: " + raw + b"\n\n"


def _delta(content: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": content}}]}


DONE = b"data: [DONE]\n\n"
GOOD_STREAM = [_event(_delta("fine")), DONE]

# name -> the answer's body: bytes (sent whole as JSON) or a list of SSE events.
ANSWERS: dict[str, bytes | list[bytes]] = {
    "json-good": b'{"prediction": "ok", "tokens": 3}',
    "json-huge-int": b'{"prediction": ' + HUGE_INT + b"}",
    "json-deep": b'{"prediction": ' + DEEP + b"}",
    "json-negative-tokens": b'{"prediction": "ok", "tokens": -2241234567}',
    "json-bool-tokens": b'{"prediction": "ok", "tokens": true}',
    "oip-good": b'{"outputs": [{"name": "label", "data": ["ok"]}]}',
    "oip-not-objects": b'{"outputs": [5, "x"]}',
    "oip-huge-int": b'{"outputs": [{"name": "label", "data": [' + HUGE_INT + b"]}]}",
    "oip-deep": b'{"outputs": ' + DEEP + b"}",
    "chat-good": b'{"choices": [{"message": {"content": "ok"}}]}',
    "chat-parts": b'{"choices": [{"message": {"content": [{"type": "text", "text": "o"},'
    b' {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "k"}]}}]}',
    "chat-number": b'{"choices": [{"message": {"content": 5}}]}',
    "chat-deep": DEEP,
    "chat-negative-usage": b'{"choices": [{"message": {"content": "ok"}}],'
    b' "usage": {"prompt_tokens": 3, "completion_tokens": -5}}',
    "stream-good": GOOD_STREAM,
    "stream-parts": [
        _event({"choices": [{"delta": {"role": "assistant"}}]}),
        _event(_delta([{"type": "text", "text": "o"}])),
        _event(_delta([{"type": "text", "text": "k"}])),
        DONE,
    ],
    "stream-choices-5": [_event({"choices": 5}), DONE],
    "stream-content-number": [_event(_delta(7)), DONE],
    "stream-content-object": [_event(_delta({"a": 1})), DONE],
    "stream-no-done": [_event(_delta("cut")), _event(_delta(" off"))],
    "stream-after-done": [_event(_delta("ok")), DONE, _event(_delta("more"))],
    "stream-huge-int": [_event(b'{"choices": [], "n": ' + HUGE_INT + b"}"), DONE],
    "stream-deep": [_event(DEEP), DONE],
    "stream-negative-usage": [
        _event(_delta("ok")),
        _event({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": -2241234567}}),
        DONE,
    ],
    "stream-reasoning-over-output": [
        _event(_delta("ok")),
        _event(
            {
                "choices": [],
                "usage": {
                    "completion_tokens": 2,
                    "completion_tokens_details": {"reasoning_tokens": 9},
                },
            }
        ),
        DONE,
    ],
}


async def _answer(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    await request.read()
    answer = ANSWERS[name]
    if isinstance(answer, bytes):
        return web.Response(body=answer, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for event in answer:
        await response.write(event)
    await response.write_eof()
    return response


async def _endless(request: web.Request) -> web.StreamResponse:
    """A body that never ends: 64 KiB pieces until the client gives up."""
    await request.read()
    stream = request.match_info["how"] == "sse"
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream" if stream else "application/json"}
    )
    await response.prepare(request)
    piece = _event(_delta("x" * 1000)) * 64 if stream else b"[" + b" " * 65535
    try:
        while True:
            await response.write(piece)
    except (ConnectionError, asyncio.CancelledError):
        pass
    return response


async def _ready(request: web.Request) -> web.Response:
    return web.json_response({})


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    app = web.Application()
    app.router.add_post("/a/{name}", _answer)
    app.router.add_post("/a/{name}/v2/models/m/infer", _answer)
    app.router.add_post("/a/{name}/chat/completions", _answer)
    app.router.add_post("/endless/{how}", _endless)
    app.router.add_post("/endless/{how}/chat/completions", _endless)
    app.router.add_get("/a/{name}/v2/models/m/ready", _ready)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def _run(target: Target) -> list[Outcome]:
    async def go() -> list[Outcome]:
        await target.start()
        try:
            return await run_closed_loop(target, SAMPLES, concurrency=2, duration_s=None)
        finally:
            await target.close()

    return asyncio.run(go())


def _http(base: str, name: str) -> HttpJsonTarget:
    return HttpJsonTarget(name, f"{base}/a/{name}", output_tokens_path="tokens", timeout_s=10)


def _oip(base: str, name: str) -> OipTarget:
    return OipTarget(name, f"{base}/a/{name}", "m", timeout_s=10)


def _chat(base: str, name: str, *, stream: bool) -> OpenAITarget:
    return OpenAITarget(name, f"{base}/a/{name}", "m", stream=stream, timeout_s=10)


def _assert_every_request_failed(outcomes: list[Outcome], words: str) -> None:
    assert len(outcomes) == len(SAMPLES)  # the run went on after the first bad answer
    assert {o.error for o in outcomes} == {ErrorKind.PROTOCOL}
    for outcome in outcomes:
        assert words in (outcome.error_detail or ""), outcome.error_detail


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("json-huge-int", "not usable JSON"),
        ("json-deep", "nested too deeply"),
        ("json-negative-tokens", "expected 0 to 1,000,000,000"),
        ("json-bool-tokens", "expected a whole number"),
    ],
)
def test_bad_json_answers_are_counted(hostile: str, name: str, words: str) -> None:
    _assert_every_request_failed(_run(_http(hostile, name)), words)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("oip-not-objects", "not an object"),
        ("oip-huge-int", "not usable JSON"),
        ("oip-deep", "nested too deeply"),
    ],
)
def test_bad_oip_answers_are_counted(hostile: str, name: str, words: str) -> None:
    _assert_every_request_failed(_run(_oip(hostile, name)), words)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("chat-number", "expected text or a list of parts"),
        ("chat-deep", "nested too deeply"),
        ("chat-negative-usage", "usage.completion_tokens is -5"),
    ],
)
def test_bad_whole_completions_are_counted(hostile: str, name: str, words: str) -> None:
    _assert_every_request_failed(_run(_chat(hostile, name, stream=False)), words)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("stream-choices-5", "'choices' is 5, not a list"),
        ("stream-content-number", "delta.content is 7"),
        ("stream-content-object", "delta.content is {'a': 1}"),
        ("stream-no-done", "ended without 'data: [DONE]' after 2 content chunks"),
        ("stream-after-done", "went on after 'data: [DONE]'"),
        ("stream-huge-int", "not usable JSON"),
        ("stream-deep", "nested too deeply"),
        ("stream-negative-usage", "usage.completion_tokens is -2241234567"),
        ("stream-reasoning-over-output", "9 reasoning tokens, more than its 2"),
    ],
)
def test_bad_streams_are_counted(hostile: str, name: str, words: str) -> None:
    _assert_every_request_failed(_run(_chat(hostile, name, stream=True)), words)


@pytest.mark.parametrize(
    ("target", "label"),
    [
        (lambda base: _http(base, "json-good"), "ok"),
        (lambda base: _oip(base, "oip-good"), "ok"),
        (lambda base: _chat(base, "chat-good", stream=False), "ok"),
        (lambda base: _chat(base, "chat-parts", stream=False), "ok"),
        (lambda base: _chat(base, "stream-good", stream=True), "fine"),
        (lambda base: _chat(base, "stream-parts", stream=True), "ok"),
    ],
)
def test_good_answers_and_content_parts_are_read(hostile: str, target: Any, label: str) -> None:
    outcomes = _run(target(hostile))
    assert [o.error for o in outcomes] == [None] * len(SAMPLES)
    assert {o.prediction for o in outcomes} == {label}


@pytest.mark.parametrize("how", ["json", "sse"])
def test_an_endless_body_stops_at_the_targets_limit(hostile: str, how: str) -> None:
    limit = 1 << 20
    if how == "sse":
        target: Target = OpenAITarget(
            "endless", f"{hostile}/endless/sse", "m", timeout_s=20, max_response_bytes=limit
        )
    else:
        target = HttpJsonTarget(
            "endless", f"{hostile}/endless/json", timeout_s=20, max_response_bytes=limit
        )
    outcomes = _run(target)
    _assert_every_request_failed(outcomes, "is over 1,048,576 bytes")
    # Stopped at the limit, not by the timeout.
    assert all(o.done_at - o.sent_at < 10 * 10**9 for o in outcomes)
