"""`modelmeter.simulate` as a real child process on 127.0.0.1: format, slots, errors, timings.

Timing checks read the server's own log; the client side asserts only lower bounds that the
injected delays imply (a first token cannot arrive before its TTFT has passed).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from modelmeter._exceptions import ServerError
from modelmeter.client.sse import SseParser
from modelmeter.simulate import RequestTiming, SimulatorConfig, SimulatorHandle, start_simulator

CHAT = "/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Tell me about simulated models."}]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    events: list[str]

    def json(self) -> Any:
        return json.loads(self.body)

    def chunks(self) -> list[dict[str, Any]]:
        assert self.events[-1] == "[DONE]"
        return [json.loads(event) for event in self.events[:-1]]


def post(
    server: SimulatorHandle, path: str, body: Any, headers: dict[str, str] | None = None
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        connection.request(
            "POST", path, raw, {"content-type": "application/json", **(headers or {})}
        )
        response = connection.getresponse()
        data = response.read()
        events: list[str] = []
        if response.getheader("content-type", "").startswith("text/event-stream"):
            parser = SseParser()
            events = [event.data for event in parser.feed(data, 0)]
            parser.close()
            assert parser.malformed == 0
        return Answer(response.status, dict(response.getheaders()), data, events)
    finally:
        connection.close()


def get(server: SimulatorHandle, path: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def chat(stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {"model": "sim", "messages": MESSAGES, "stream": stream, **extra}


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorHandle]:
    config = SimulatorConfig(ttft_ms=20, itl_ms=2, output_tokens=12, slots=64, seed=7)
    with start_simulator(config) as running:
        yield running


# -- the streaming format --------------------------------------------------------------------


def test_a_stream_is_role_chunk_then_content_then_finish_usage_and_done(
    server: SimulatorHandle,
) -> None:
    answer = post(server, CHAT, chat(stream_options={"include_usage": True}))

    assert answer.status == 200
    assert answer.headers["content-type"] == "text/event-stream; charset=utf-8"
    chunks = answer.chunks()
    role, *content, finish, last = chunks
    assert role["choices"][0]["delta"] == {"role": "assistant"}
    assert all(set(c["choices"][0]["delta"]) == {"content"} for c in content)
    assert all(c["choices"][0]["finish_reason"] is None for c in content)
    assert finish["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] == len(content) == 12
    assert last["usage"]["total_tokens"] == last["usage"]["prompt_tokens"] + 12
    assert all(c["usage"] is None for c in chunks[:-1])
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert {c["model"] for c in chunks} == {"sim"}


def test_without_include_usage_there_is_no_usage_chunk(server: SimulatorHandle) -> None:
    chunks = post(server, CHAT, chat()).chunks()
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks)


def test_streamed_text_equals_the_non_streamed_answer_and_is_reproducible(
    server: SimulatorHandle,
) -> None:
    streamed = "".join(
        c["choices"][0]["delta"].get("content", "") for c in post(server, CHAT, chat()).chunks()
    )
    whole = post(server, CHAT, chat(stream=False)).json()
    again = post(server, CHAT, chat(stream=False)).json()
    other = post(
        server, CHAT, chat(stream=False, messages=[{"role": "user", "content": "Else."}])
    ).json()

    assert whole["choices"][0]["message"]["content"] == streamed
    assert again["choices"][0]["message"]["content"] == streamed
    assert other["choices"][0]["message"]["content"] != streamed
    assert len(streamed.split()) == 12


def test_a_non_streamed_answer_has_the_openai_shape(server: SimulatorHandle) -> None:
    answer = post(server, CHAT, chat(stream=False))

    assert answer.status == 200
    body = answer.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "sim"
    choice = body["choices"][0]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["completion_tokens"] == 12
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert answer.headers["x-request-id"] == body["id"]


def test_max_tokens_caps_the_answer_to_a_prefix(server: SimulatorHandle) -> None:
    full = post(server, CHAT, chat(stream=False)).json()["choices"][0]["message"]["content"]
    capped = post(server, CHAT, chat(stream=False, max_tokens=5)).json()
    newer = post(server, CHAT, chat(stream=False, max_tokens=9, max_completion_tokens=3)).json()

    assert capped["usage"]["completion_tokens"] == 5
    assert capped["choices"][0]["finish_reason"] == "length"
    assert full.startswith(capped["choices"][0]["message"]["content"])
    assert newer["usage"]["completion_tokens"] == 3  # max_completion_tokens wins


def test_text_completions_stream_text_without_a_role_chunk(server: SimulatorHandle) -> None:
    answer = post(
        server,
        "/v1/completions",
        {"prompt": "Once upon", "stream": True, "stream_options": {"include_usage": True}},
    )
    *text_chunks, finish, usage = answer.chunks()

    assert [c["object"] for c in text_chunks] == ["text_completion"] * 12
    assert all(isinstance(c["choices"][0]["text"], str) for c in text_chunks)
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 12

    whole = post(server, "/v1/completions", {"prompt": "Once upon"}).json()
    assert whole["object"] == "text_completion"
    assert whole["choices"][0]["text"] == "".join(c["choices"][0]["text"] for c in text_chunks)


def test_models_and_health(server: SimulatorHandle) -> None:
    assert get(server, "/health") == (200, {"status": "ok"})
    status, models = get(server, "/v1/models")
    assert status == 200
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == ["modelmeter-simulated"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (json.dumps({"messages": []}).encode(), "messages"),
        (json.dumps({"messages": MESSAGES, "max_tokens": 0}).encode(), "max_tokens"),
        (json.dumps({"messages": MESSAGES, "stream": "yes"}).encode(), "stream"),
        (json.dumps({"messages": MESSAGES, "n": 2}).encode(), "n"),
    ],
)
def test_bad_requests_get_400_with_an_openai_error(
    server: SimulatorHandle, body: bytes, param: str | None
) -> None:
    answer = post(server, CHAT, body)

    assert answer.status == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]


def test_malformed_http_and_oversized_bodies_are_refused(server: SimulatorHandle) -> None:
    def exchange(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(data)
            answer = b""
            while piece := sock.recv(65536):  # the server closes the connection
                answer += piece
        return answer

    assert exchange(b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    huge = f"POST {CHAT} HTTP/1.1\r\ncontent-length: {10**9}\r\n\r\n".encode()
    assert exchange(huge).startswith(b"HTTP/1.1 413 ")


def _exchange(server: SimulatorHandle, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while piece := sock.recv(65536):  # the server closes the connection
            answer += piece
    return answer


@pytest.mark.parametrize(
    ("request_head", "status", "message"),
    [
        (f"GET /health?{'a' * 20_000} HTTP/1.1\r\n\r\n", 414, "request target over 8,192 bytes"),
        (
            "GET /health HTTP/1.1\r\n" + "".join(f"x-{i}: 1\r\n" for i in range(200)) + "\r\n",
            431,
            "more than 100 headers",
        ),
        (
            f"GET /health HTTP/1.1\r\nx-big: {'a' * 100_000}\r\n\r\n",
            431,
            "request line and headers over 65,536 bytes",
        ),
    ],
    ids=["long-target", "many-headers", "big-header"],
)
def test_oversized_heads_are_refused_with_a_json_error_and_one_log_line(
    server: SimulatorHandle, request_head: str, status: int, message: str
) -> None:
    answer = _exchange(server, request_head.encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert json.loads(body)["error"]["message"] == message
    log = server.log_tail(100_000)
    assert f"bad request from 127.0.0.1: {status} {message}" in log
    assert "Traceback" not in log


def test_an_endless_header_is_cut_off_and_others_are_served(server: SimulatorHandle) -> None:
    # A header that never ends: before, all of it was read into memory (a 200 MB header added
    # 450 MB to the server). Now the server answers 431 and closes after about 1 MiB; what the
    # client got into the socket buffers before noticing is all it could send.
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nx-endless: ")
        piece = b"a" * 65536
        try:
            while sent < 200 * 1024 * 1024:
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    assert sent < 64 * 1024 * 1024
    assert answer.startswith(b"HTTP/1.1 431 ") or not answer  # a reset may lose the answer
    assert get(server, "/health")[0] == 200


def test_unknown_paths_and_methods(server: SimulatorHandle) -> None:
    assert post(server, "/v1/embeddings", {}).status == 404
    status, body = get(server, CHAT)
    assert status == 405
    assert "error" in body


# -- timing truth ----------------------------------------------------------------------------


def test_the_log_of_a_stream_is_consistent(server: SimulatorHandle) -> None:
    answer = post(server, CHAT, chat(), headers={"x-request-id": "consistent-1"})
    assert answer.headers["x-request-id"] == "consistent-1"

    (timing,) = server.timings("consistent-1")

    assert timing.status == 200
    assert timing.stream
    assert timing.ttft_ns == 20_000_000
    assert timing.arrived_ns <= timing.slot_started_ns
    assert timing.headers_written_ns is not None
    written = [c.written_ns for c in timing.chunks]
    assert written == sorted(written)
    assert all(c.written_ns >= c.scheduled_ns for c in timing.chunks)  # never early
    assert [c.kind for c in timing.chunks] == ["role"] + ["content"] * 12 + ["finish", "done"]
    tokens = timing.token_chunks
    assert sum(c.tokens for c in tokens) == timing.output_tokens == 12
    first = tokens[0]
    assert first.scheduled_ns == timing.slot_started_ns + 20_000_000
    assert first.written_ns >= timing.arrived_ns + 20_000_000 - 1_000_000
    gaps = {b.scheduled_ns - a.scheduled_ns for a, b in itertools.pairwise(tokens)}
    assert gaps == {2_000_000}
    assert timing.finished_ns == timing.chunks[-1].written_ns


def test_a_non_streamed_answer_is_written_after_ttft_and_all_gaps(
    server: SimulatorHandle,
) -> None:
    post(server, CHAT, chat(stream=False), headers={"x-request-id": "whole-1"})

    (timing,) = server.timings("whole-1")

    (response,) = timing.chunks
    assert response.kind == "response"
    assert response.tokens == 12
    assert timing.slot_started_ns is not None
    assert response.scheduled_ns == timing.slot_started_ns + 20_000_000 + 11 * 2_000_000
    assert response.written_ns >= response.scheduled_ns


def test_the_first_token_reaches_the_client_no_sooner_than_its_ttft(
    server: SimulatorHandle,
) -> None:
    async def first_content_after() -> int:
        parser = SseParser()
        async with aiohttp.ClientSession() as session:
            sent = time.monotonic_ns()
            async with session.post(server.url + CHAT, json=chat()) as response:
                async for piece in response.content.iter_any():
                    for event in parser.feed(piece, time.monotonic_ns()):
                        delta = json.loads(event.data)["choices"][0]["delta"]
                        if "content" in delta:
                            return event.received_at - sent
        raise AssertionError("the stream ended before any content")

    assert asyncio.run(first_content_after()) >= 20_000_000


def test_client_receive_times_never_precede_the_server_write_times(
    server: SimulatorHandle,
) -> None:
    # HTTP/1.0: the body is the bare event stream (no chunked framing) and ends at close.
    body = json.dumps(chat()).encode()
    request = (
        f"POST {CHAT} HTTP/1.0\r\nx-request-id: causal-1\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    parser = SseParser()
    received: list[int] = []  # the headers' receive time, then each event's
    buffered = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        while piece := sock.recv(65536):
            now = time.monotonic_ns()
            if not received:
                buffered += piece
                if b"\r\n\r\n" not in buffered:
                    continue
                head, _, piece = buffered.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200")
                assert b"transfer-encoding" not in head.lower()
                received.append(now)
            received.extend(event.received_at for event in parser.feed(piece, now))
    parser.close()

    (timing,) = server.timings("causal-1")
    written = [timing.headers_written_ns] + [c.written_ns for c in timing.chunks]
    # role + 12 content + finish + done, after the headers
    assert len(received) == len(written) == 16
    assert all(r >= w for r, w in zip(received, written, strict=True))


def test_keep_alive_and_pipelined_requests_are_answered_in_order(
    server: SimulatorHandle,
) -> None:
    def request(rid: str) -> bytes:
        body = json.dumps(chat(stream=False, max_tokens=2)).encode()
        return (
            f"POST {CHAT} HTTP/1.1\r\nhost: x\r\nx-request-id: {rid}\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode() + body

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request("pipe-1") + request("pipe-2") + request("pipe-3"))
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 3 or not data.endswith(b"}"):
            piece = sock.recv(65536)
            assert piece
            data += piece
    ids = [line.split(b": ")[1] for line in data.split(b"\r\n") if line.startswith(b"x-request")]
    assert ids == [b"pipe-1", b"pipe-2", b"pipe-3"]
    first, second, third = (server.timings(f"pipe-{i}")[0] for i in (1, 2, 3))
    assert first.finished_ns <= second.slot_started_ns
    assert second.finished_ns <= third.slot_started_ns


def test_a_client_going_away_is_logged_as_cancelled(server: SimulatorHandle) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", CHAT, json.dumps(chat()), {"x-request-id": "gone-1"})
    response = connection.getresponse()
    response.fp.readline()
    connection.sock.close()
    connection.close()

    deadline = time.monotonic() + 10
    while not (timings := server.timings("gone-1")) and time.monotonic() < deadline:
        time.sleep(0.01)
    (timing,) = timings
    assert timing.cancelled
    assert len(timing.token_chunks) < 12


# -- features that need a server of their own ------------------------------------------------


def test_tokens_per_chunk_and_reasoning_tokens() -> None:
    config = SimulatorConfig(
        ttft_ms=5, itl_ms=1, output_tokens=10, tokens_per_chunk=3, reasoning_tokens=4
    )
    with start_simulator(config) as server:
        chunks = post(server, CHAT, chat(stream_options={"include_usage": True})).chunks()
        whole = post(server, CHAT, chat(stream=False)).json()
        (timing, _) = server.timings()

    deltas = [c["choices"][0]["delta"] for c in chunks[1:-2]]
    assert [list(d) for d in deltas] == [["reasoning_content"]] * 2 + [["content"]] * 2
    assert [len(next(iter(d.values())).split()) for d in deltas] == [3, 1, 3, 3]
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == 10
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 4}
    message = whole["choices"][0]["message"]
    assert message["reasoning_content"] == "".join(d.get("reasoning_content", "") for d in deltas)
    assert message["content"] == "".join(d.get("content", "") for d in deltas)
    assert [c.tokens for c in timing.token_chunks] == [3, 1, 3, 3]
    assert [c.kind for c in timing.token_chunks] == ["reasoning"] * 2 + ["content"] * 2
    # a chunk is due when its last token is ready: token i at TTFT + i × ITL
    offsets = [c.scheduled_ns - timing.slot_started_ns for c in timing.token_chunks]
    assert offsets == [(5 + i) * 1_000_000 for i in (2, 3, 6, 9)]


def test_with_one_slot_a_second_request_waits_for_the_first(tmp_path: Path) -> None:
    config = SimulatorConfig(ttft_ms=30, itl_ms=5, output_tokens=8, slots=1)
    log = tmp_path / "timings.jsonl"
    with start_simulator(config, timings_log=log) as server:

        async def both() -> None:
            async with aiohttp.ClientSession() as session:

                async def one(rid: str) -> None:
                    async with session.post(
                        server.url + CHAT, json=chat(), headers={"x-request-id": rid}
                    ) as response:
                        assert response.status == 200
                        await response.read()

                await asyncio.gather(one("slot-a"), one("slot-b"))

        asyncio.run(both())
        timings = {t.request_id: t for t in server.timings()}

    first, second = sorted(timings.values(), key=lambda t: t.slot_started_ns or 0)
    assert second.arrived_ns < first.finished_ns  # it had to queue
    assert second.slot_started_ns >= first.finished_ns
    assert second.chunks[0].written_ns >= first.chunks[-1].written_ns
    assert second.headers_written_ns is not None
    assert second.headers_written_ns < first.finished_ns  # answered at once
    first_token = second.token_chunks[0]
    assert first_token.scheduled_ns == second.slot_started_ns + 30_000_000
    assert first_token.written_ns >= second.arrived_ns + 30_000_000
    # the log file holds the same records
    logged = [RequestTiming.from_json(json.loads(line)) for line in log.read_text().splitlines()]
    assert {t.request_id: t for t in logged} == timings


def test_error_rate_one_answers_every_request_with_an_injected_error() -> None:
    with start_simulator(SimulatorConfig(error_rate=1.0, seed=3)) as server:
        answers = [post(server, CHAT, chat()) for _ in range(12)]
        timings = server.timings()

    assert {a.status for a in answers} == {500, 429}
    for answer in answers:
        error = answer.json()["error"]
        assert error["message"]
        assert error["type"] == ("requests" if answer.status == 429 else "server_error")
        if answer.status == 429:
            assert answer.headers["retry-after"] == "1"
    assert sorted(t.status for t in timings) == sorted(a.status for a in answers)
    assert all([c.kind for c in t.chunks] == ["error"] for t in timings)


def test_configured_error_statuses_are_used() -> None:
    config = SimulatorConfig(error_rate=1.0, error_statuses=(503,))
    with start_simulator(config) as server:
        assert post(server, CHAT, chat(stream=False)).status == 503


def test_drawn_delays_follow_the_configured_distribution() -> None:
    config = SimulatorConfig(
        ttft_ms={"mean_ms": 4, "kind": "exponential"},
        itl_ms={"mean_ms": 1, "kind": "normal", "sd_ms": 0.5},
        output_tokens=(3, 6),
    )
    with start_simulator(config) as server:
        lengths = set()
        for index in range(20):
            body = chat(stream=False, messages=[{"role": "user", "content": f"prompt {index}"}])
            lengths.add(post(server, CHAT, body).json()["usage"]["completion_tokens"])
        timings = server.timings()

    assert lengths <= {3, 4, 5, 6}
    assert len(lengths) > 1
    assert len({t.ttft_ns for t in timings}) == len(timings)  # drawn afresh each time
    for timing in timings:
        (response,) = timing.chunks
        assert response.written_ns >= response.scheduled_ns >= timing.slot_started_ns


def test_a_port_in_use_fails_with_the_servers_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match="cannot listen"):
            start_simulator(SimulatorConfig(), port=port, ready_timeout_s=20)


def test_the_handle_reports_its_url() -> None:
    with start_simulator() as server:
        parts = urlsplit(server.url)
        assert (parts.hostname, parts.port) == ("127.0.0.1", server.port)
