"""The HTTP client against raw socket servers that misbehave on purpose.

Each fault must come back as one typed error (ConnectFailed, RequestTimeout, ConnectionReset,
ProtocolFailure) and the broken connection must never be used again. Runs on asyncio and uvloop.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvloop
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmeter._exceptions import (
    ConnectFailed,
    ConnectionReset,
    ProtocolFailure,
    RequestTimeout,
    TargetError,
)
from modelmeter.client import Endpoint, HttpClient, PreparedRequest, Response

Run = Callable[[Awaitable[Any]], Any]
LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


# Whether client_to() opens kernel-stamped connections (the streaming targets' transport).
STAMPED: list[bool] = [False]


@pytest.fixture(params=[*sorted(LOOPS), "uvloop, kernel-stamped"])
def run(request: pytest.FixtureRequest) -> Iterator[Run]:
    STAMPED[0] = "stamped" in request.param
    try:
        with asyncio.Runner(loop_factory=LOOPS[request.param.split(",")[0]]) as runner:
            yield runner.run
    finally:
        STAMPED[0] = False


# -- a raw server ------------------------------------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "RawServer"], Awaitable[None]]


@dataclass
class RawServer:
    port: int
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # a connection saw EOF

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                head += await reader.readexactly(int(line.split(b":")[1]))
        self.requests.append(head)
        return head


@asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[RawServer]:
    tasks: set[asyncio.Task[None]] = set()
    state = RawServer(port=0)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handle(reader, writer, state)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def client_to(
    server: RawServer, **options: Any
) -> AsyncIterator[tuple[HttpClient, Endpoint]]:
    endpoint = Endpoint.from_url(f"http://127.0.0.1:{server.port}")
    options.setdefault("kernel_stamps", STAMPED[0])
    client = HttpClient(endpoint, timeout_s=options.pop("timeout_s", 5.0), **options)
    try:
        yield client, endpoint
    finally:
        await client.close()


def ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def chunked(body: bytes, sizes: list[int]) -> bytes:
    """``body`` as a chunked HTTP/1.1 response, cut into chunks of ``sizes`` (cycled)."""
    out = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"]
    at, turn = 0, 0
    while at < len(body):
        size = max(1, sizes[turn % len(sizes)]) if sizes else len(body)
        piece = body[at : at + size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        at += len(piece)
        turn += 1
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def answer_each(answer: bytes) -> Handler:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        while True:
            await s.read_request(r)
            w.write(answer)

    return handle


async def _until(condition: Callable[[], bool]) -> None:
    """Wait for something the event loop will make true soon (bounded by the test timeout)."""
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never became true")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- connect -----------------------------------------------------------------------------------


def test_refused_port_is_connect_failed(run: Run) -> None:
    async def go() -> None:
        endpoint = Endpoint.from_url(f"http://127.0.0.1:{_free_port()}")
        async with HttpClient(endpoint) as client:
            with pytest.raises(ConnectFailed, match=r"cannot connect to http://127\.0\.0\.1"):
                await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert client.open_connections == 0

    run(go())


def test_unresolvable_host_is_connect_failed(run: Run) -> None:
    async def go() -> None:
        endpoint = Endpoint.from_url("http://no-such-host.invalid:80")
        async with HttpClient(endpoint) as client:
            with pytest.raises(ConnectFailed):
                await client.request(PreparedRequest.build("GET", endpoint, "/"))

    run(go())


def test_a_queued_request_connects_after_a_failed_connect(run: Run) -> None:
    async def go() -> None:
        endpoint = Endpoint.from_url(f"http://127.0.0.1:{_free_port()}")
        async with HttpClient(endpoint, max_connections=1) as client:
            get = PreparedRequest.build("GET", endpoint, "/")
            outcomes = await asyncio.gather(
                *(client.request(get) for _ in range(3)), return_exceptions=True
            )
            assert [type(o) for o in outcomes] == [ConnectFailed] * 3
            assert client.open_connections == 0

    run(go())


# -- broken answers ----------------------------------------------------------------------------


def test_reset_mid_body_is_connection_reset(run: Run) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        await w.drain()
        await asyncio.sleep(0.02)
        # Linger 0: close() sends RST instead of FIN.
        w.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        w.transport.abort()

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            with pytest.raises(ConnectionReset):
                await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert client.open_connections == 0

    run(go())


@pytest.mark.parametrize(
    "partial",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Le",
    ],
    ids=["short-body", "mid-chunk", "mid-headers"],
)
def test_eof_mid_response_is_connection_reset(run: Run, partial: bytes) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(partial)
        await w.drain()

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            with pytest.raises(ConnectionReset, match="mid-response"):
                await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert client.open_connections == 0

    run(go())


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_close_before_answering_is_connection_reset(run: Run, method: str) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            with pytest.raises(ConnectionReset, match="before answering"):
                await client.request(PreparedRequest.build(method, endpoint, "/", body=b"{}"))
            assert server.connections == 1  # a fresh connection that failed is not retried

    run(go())


def test_server_that_never_answers_times_out_and_is_dropped(run: Run) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        head = await s.read_request(r)
        if b"/hang" in head:
            await r.read()  # returns when the client closes its end
            s.ended.set()
            return
        w.write(ok())
        while True:
            await s.read_request(r)
            w.write(ok())

    async def go() -> None:
        async with (
            raw_server(handle) as server,
            client_to(server, timeout_s=0.2) as (client, endpoint),
        ):
            with pytest.raises(RequestTimeout, match=r"within 0\.2 s"):
                await client.request(PreparedRequest.build("GET", endpoint, "/hang"))
            await server.ended.wait()  # the timed-out connection was closed, not kept
            assert client.open_connections == 0
            got = await client.request(PreparedRequest.build("GET", endpoint, "/fine"))
            assert got.body == b"ok"
            assert server.connections == 2

    run(go())


def test_every_request_gets_its_whole_timeout(run: Run) -> None:
    """Timeouts share one timer per connection; a later request must not inherit an earlier
    request's deadline, and no request may time out before its own."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        while True:
            head = await s.read_request(r)
            if b"/slow" in head:
                await _sleep_at_least(600_000_000)
            elif b"/hang" in head:
                await r.read()
                return
            w.write(ok())

    async def go() -> None:
        async with (
            raw_server(handle) as server,
            client_to(server, timeout_s=1.0) as (client, endpoint),
        ):
            await client.request(PreparedRequest.build("GET", endpoint, "/fast"))  # arms it
            await _sleep_at_least(600_000_000)
            # Sent 0.6 s after the timer was armed and answered 0.6 s later: past the first
            # request's deadline, well within its own.
            slow = await client.request(PreparedRequest.build("GET", endpoint, "/slow"))
            assert slow.status == 200
            assert server.connections == 1
            started = time.monotonic_ns()
            with pytest.raises(RequestTimeout):
                await client.request(PreparedRequest.build("GET", endpoint, "/hang"))
            assert time.monotonic_ns() - started >= 1_000_000_000

    run(go())


async def _sleep_at_least(delay_ns: int) -> None:
    # uvloop's timers tick in milliseconds, read once per loop turn: one sleep() can end a
    # little early by time.monotonic_ns().
    deadline = time.monotonic_ns() + delay_ns
    while (left := deadline - time.monotonic_ns()) > 0:
        await asyncio.sleep(left / 1e9)


@pytest.mark.parametrize(
    "garbage",
    [
        b"hello, this is not HTTP\r\n\r\n",
        b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    ],
    ids=["text", "bad-status", "bad-chunk-size", "two-lengths", "tls-bytes"],
)
def test_garbage_is_protocol_failure(run: Run, garbage: bytes) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(garbage)
        await r.read()

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            with pytest.raises(ProtocolFailure, match="malformed HTTP response"):
                await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert client.open_connections == 0

    run(go())


def test_switching_protocols_is_protocol_failure(run: Run) -> None:
    answer = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )

    async def go() -> None:
        async with (
            raw_server(answer_each(answer)) as server,
            client_to(server) as (client, endpoint),
        ):
            with pytest.raises(ProtocolFailure, match="switched protocols"):
                await client.request(PreparedRequest.build("GET", endpoint, "/"))

    run(go())


# -- odd but valid answers ---------------------------------------------------------------------


def test_http_1_0_answer_without_length_ends_at_eof(run: Run) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        await w.drain()
        w.close()

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            for _ in range(2):
                got = await client.request(PreparedRequest.build("GET", endpoint, "/"))
                assert (got.status, got.body) == (200, b"until the end")
                assert client.open_connections == 0
            assert server.connections == 2

    run(go())


def test_http_1_0_answer_with_length_closes_the_connection(run: Run) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nfour")
        await r.read()
        s.ended.set()

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            got = await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert got.body == b"four"
            await server.ended.wait()  # the client closed it: HTTP/1.0 is not kept alive
            assert client.open_connections == 0

    run(go())


def test_informational_answers_are_skipped(run: Run) -> None:
    answer = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok(b"final", b"X-Final: 1\r\n")

    async def go() -> None:
        async with (
            raw_server(answer_each(answer)) as server,
            client_to(server) as (client, endpoint),
        ):
            got = await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert (got.status, got.body) == (200, b"final")
            assert got.headers == [(b"Content-Length", b"5"), (b"X-Final", b"1")]
            assert (await client.request(PreparedRequest.build("GET", endpoint, "/"))).status == 200
            assert server.connections == 1

    run(go())


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["204", "304", "empty"],
)
def test_answers_without_a_body_keep_the_connection(run: Run, answer: bytes) -> None:
    async def go() -> None:
        async with (
            raw_server(answer_each(answer)) as server,
            client_to(server) as (client, endpoint),
        ):
            for _ in range(3):
                got = await client.request(PreparedRequest.build("GET", endpoint, "/"))
                assert got.body == b""
            assert server.connections == 1

    run(go())


# -- connections that must not be reused -------------------------------------------------------


def test_two_answers_to_one_request_discard_the_connection(run: Run) -> None:
    answers = ok(b"first") + ok(b"unasked")

    async def go() -> None:
        async with (
            raw_server(answer_each(answers)) as server,
            client_to(server) as (client, endpoint),
        ):
            got = await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert got.body == b"first"
            assert client.open_connections == 0
            again = await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert again.body == b"first"
            assert server.connections == 2

    run(go())


def test_unsolicited_answer_on_an_idle_connection_discards_it(run: Run) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(ok(b"asked"))
        await asyncio.sleep(0.01)
        w.write(ok(b"not asked"))
        await r.read()
        s.ended.set()

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            got = await client.request(PreparedRequest.build("GET", endpoint, "/"))
            assert got.body == b"asked"
            await server.ended.wait()
            assert client.open_connections == 0

    run(go())


@pytest.mark.parametrize("how", ["eof", "reset"])
def test_idle_connection_closed_by_the_server_is_not_reused(run: Run, how: str) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(ok(b"once"))
        await w.drain()
        if s.connections == 1:
            if how == "reset":
                w.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                w.transport.abort()
            return
        await r.read()

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            post = PreparedRequest.build("POST", endpoint, "/", body=b"{}")
            assert (await client.request(post)).body == b"once"
            await _until(lambda: client.open_connections == 0)
            assert (await client.request(post)).body == b"once"
            assert server.connections == 2

    run(go())


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("POST", False)])
def test_keep_alive_closed_by_the_server_retries_only_idempotent_requests(
    run: Run, method: str, retried: bool
) -> None:
    """The server answers once, then drops the connection when the second request arrives."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        await s.read_request(r)
        w.write(ok(b"one"))
        await s.read_request(r)
        # Dropped without a word, as when a keep-alive timeout and a request cross.

    async def go() -> None:
        async with raw_server(handle) as server, client_to(server) as (client, endpoint):
            request = PreparedRequest.build(method, endpoint, "/", body=b"{}")
            assert (await client.request(request)).body == b"one"
            if retried:
                assert (await client.request(request)).body == b"one"
                assert server.connections == 2
            else:
                with pytest.raises(ConnectionReset, match="before answering"):
                    await client.request(request)
                assert server.connections == 1

    run(go())


def test_a_listener_error_fails_the_request_and_drops_the_connection(run: Run) -> None:
    def listener(piece: bytes, received_at: int) -> None:
        raise ProtocolFailure(f"bad event {piece!r}")

    async def go() -> None:
        async with (
            raw_server(answer_each(chunked(b"event", [5]))) as server,
            client_to(server) as (client, endpoint),
        ):
            get = PreparedRequest.build("GET", endpoint, "/")
            with pytest.raises(ProtocolFailure, match="bad event b'event'"):
                await client.request(get, on_body=listener)
            assert client.open_connections == 0
            assert (await client.request(get)).body == b"event"

    run(go())


# -- answers cut at any point ------------------------------------------------------------------


def _pieces(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(raw) + 1) for c in cuts} | {0, len(raw)})
    return [raw[a:b] for a, b in itertools.pairwise(points) if b > a]


def _trickle(pieces: list[bytes]) -> Handler:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        while True:
            await s.read_request(r)
            for piece in pieces:
                w.write(piece)
                await w.drain()
                await asyncio.sleep(0)  # let the client read before the next piece

    return handle


async def _fetch_twice(pieces: list[bytes]) -> tuple[Response, Response, list[bytes], int]:
    async with (
        raw_server(_trickle(pieces)) as server,
        client_to(server) as (client, endpoint),
    ):
        get = PreparedRequest.build("GET", endpoint, "/")
        whole = await client.request(get)
        heard: list[bytes] = []
        streamed = await client.request(get, on_body=lambda piece, _: heard.append(piece))
        return whole, streamed, heard, server.connections


def test_answer_in_one_byte_pieces(run: Run) -> None:
    body = b"data: hello\n\ndata: world\n\n" * 3
    raw = chunked(body, [7, 1, 13])
    whole, streamed, heard, connections = run(_fetch_twice([bytes([b]) for b in raw]))
    assert whole.body == body
    assert b"".join(heard) == body
    assert streamed.body == b""
    assert connections == 1
    for response in (whole, streamed):
        assert response.sent_at <= response.first_byte_at <= response.done_at


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(min_size=0, max_size=300),
    sizes=st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
    loop=st.sampled_from(sorted(LOOPS)),
)
def test_any_split_of_a_chunked_answer_gives_the_same_body(
    body: bytes, sizes: list[int], cuts: list[int], loop: str
) -> None:
    raw = chunked(body, sizes)
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        whole, _, heard, connections = runner.run(_fetch_twice(_pieces(raw, cuts)))
    assert whole.body == body
    assert b"".join(heard) == body
    assert connections == 1


# -- nothing else escapes ----------------------------------------------------------------------


def test_only_typed_errors_escape_under_mixed_faults(run: Run) -> None:
    """Many concurrent requests against a server that misbehaves in turn."""
    turn = 0

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: RawServer) -> None:
        nonlocal turn
        while True:
            await s.read_request(r)
            turn += 1
            kind = turn % 5
            if kind == 0:
                w.write(ok())
            elif kind == 1:
                w.write(b"garbage\r\n\r\n")
                return
            elif kind == 2:
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
                return
            elif kind == 3:
                return
            else:
                await asyncio.sleep(1)
                return

    async def go() -> None:
        async with (
            raw_server(handle) as server,
            client_to(server, timeout_s=0.3, max_connections=8) as (client, endpoint),
        ):
            get = PreparedRequest.build("POST", endpoint, "/", body=b"x")
            outcomes = await asyncio.gather(
                *(client.request(get) for _ in range(100)), return_exceptions=True
            )
            for outcome in outcomes:
                assert isinstance(outcome, Response | TargetError), repr(outcome)
            assert any(isinstance(o, Response) for o in outcomes)
            assert client.open_connections <= 8

    run(go())
