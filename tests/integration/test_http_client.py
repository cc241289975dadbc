"""The load generator's HTTP client against a real aiohttp server on 127.0.0.1 (and ::1).

Every test runs on plain asyncio and on uvloop; the server runs on the same loop as the client.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvloop
from aiohttp import web

from modelmeter._exceptions import ConnectFailed, ConnectionReset
from modelmeter.client import Endpoint, HttpClient, PreparedRequest, Response

Run = Callable[[Awaitable[Any]], Any]


# Whether client_for() opens kernel-stamped connections (the streaming targets' transport).
STAMPED: list[bool] = [False]


@pytest.fixture(params=["asyncio", "uvloop", "uvloop, kernel-stamped"])
def run(request: pytest.FixtureRequest) -> Iterator[Run]:
    """Runs a coroutine to completion on a fresh loop of the parametrised kind; the third kind
    runs every test on the kernel-stamped transport."""
    factory = asyncio.new_event_loop if request.param == "asyncio" else uvloop.new_event_loop
    STAMPED[0] = "stamped" in request.param
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            yield runner.run
    finally:
        STAMPED[0] = False


# -- the server --------------------------------------------------------------------------------

PEERS = web.AppKey("peers", set)
IN_FLIGHT = web.AppKey("in_flight", list)  # [current, highest]
SEEN = web.AppKey("seen", list)
BIG = bytes(range(256)) * (8 * 1024 * 1024 // 256)  # 8 MiB, every byte value
CHUNKS = [b"data: one\n\n", b"data: two\n\n", b"data: three\n\n", b"data: [DONE]\n\n"]
GO_ON = web.AppKey("go_on", asyncio.Event)


async def _sleep_at_least(delay_ns: int) -> None:
    # uvloop's timers work on a millisecond clock read once per loop turn, so one sleep() may
    # end a little early by time.monotonic_ns(); the injected delay is a lower bound in ns.
    deadline = time.monotonic_ns() + delay_ns
    while (left := deadline - time.monotonic_ns()) > 0:
        await asyncio.sleep(left / 1e9)


def _track(request: web.Request) -> None:
    assert request.transport is not None
    request.app[PEERS].add(request.transport.get_extra_info("peername"))
    request.app[SEEN].append(request)


async def _hello(request: web.Request) -> web.Response:
    _track(request)
    return web.Response(text="hello")


async def _echo(request: web.Request) -> web.Response:
    _track(request)
    body = await request.read()
    return web.Response(
        body=body, content_type=request.content_type, headers={"X-Length": str(len(body))}
    )


async def _slow(request: web.Request) -> web.Response:
    _track(request)
    in_flight = request.app[IN_FLIGHT]
    in_flight[0] += 1
    in_flight[1] = max(in_flight[1], in_flight[0])
    await _sleep_at_least(int(request.query.get("delay_ms", "1")) * 1_000_000)
    in_flight[0] -= 1
    return web.Response(text=request.query.get("n", ""))


async def _big(request: web.Request) -> web.Response:
    _track(request)
    return web.Response(body=BIG, content_type="application/octet-stream")


async def _chunked(request: web.Request) -> web.StreamResponse:
    """Chunked body; with ``?lockstep`` each chunk waits until the client has seen the last."""
    _track(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    go_on = request.app[GO_ON]
    for chunk in CHUNKS:
        go_on.clear()
        await response.write(chunk)
        if "lockstep" in request.query:
            await go_on.wait()
        else:
            await asyncio.sleep(0.005)
    await response.write_eof()
    return response


async def _close(request: web.Request) -> web.Response:
    _track(request)
    response = web.Response(text="bye")
    response.force_close()
    return response


async def _status(request: web.Request) -> web.Response:
    _track(request)
    code = int(request.match_info["code"])
    return web.json_response({"error": f"injected {code}"}, status=code)


async def _hang(request: web.Request) -> web.Response:
    _track(request)
    await asyncio.sleep(3600)
    return web.Response()


def _app() -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[PEERS] = set()
    app[IN_FLIGHT] = [0, 0]
    app[SEEN] = []
    app[GO_ON] = asyncio.Event()
    app.router.add_get("/hello", _hello)
    app.router.add_post("/echo", _echo)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/big", _big)
    app.router.add_get("/chunked", _chunked)
    app.router.add_get("/close", _close)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/hang", _hang)
    return app


@asynccontextmanager
async def serving(
    host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[web.Application, int]]:
    app = _app()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield app, port
    finally:
        await runner.cleanup()


@asynccontextmanager
async def client_for(url: str, **options: Any) -> AsyncIterator[tuple[HttpClient, Endpoint]]:
    endpoint = Endpoint.from_url(url, verify_tls=options.pop("verify_tls", True))
    options.setdefault("kernel_stamps", STAMPED[0])
    client = HttpClient(endpoint, timeout_s=options.pop("timeout_s", 10.0), **options)
    try:
        yield client, endpoint
    finally:
        await client.close()


def _check_times(response: Response) -> None:
    assert 0 < response.sent_at <= response.first_byte_at <= response.done_at


# -- tests -------------------------------------------------------------------------------------


def test_get_and_post(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            got = await c.request(PreparedRequest.build("GET", ep, "/hello"))
            assert (got.status, got.body) == (200, b"hello")
            assert got.header("content-type") == b"text/plain; charset=utf-8"
            _check_times(got)
            payload = b'{"input": "caf\xc3\xa9"}'
            post = PreparedRequest.build(
                "POST", ep, "/echo", headers={"Content-Type": "application/json"}, body=payload
            )
            echoed = await c.request(post)
            assert (echoed.status, echoed.body) == (200, payload)
            assert echoed.header("X-Length") == str(len(payload)).encode()
            server_saw = app[SEEN][-1]
            assert server_saw.host == f"127.0.0.1:{port}"
            assert server_saw.content_type == "application/json"

    run(go())


def test_keep_alive_reuses_one_connection(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            hello = PreparedRequest.build("GET", ep, "/hello")
            for _ in range(25):
                assert (await c.request(hello)).body == b"hello"
            assert len(app[PEERS]) == 1
            assert c.open_connections == 1

    run(go())


def test_concurrent_requests_share_a_bounded_pool(run: Run) -> None:
    async def go() -> None:
        async with (
            serving() as (app, port),
            client_for(f"http://127.0.0.1:{port}", max_connections=4) as (c, ep),
        ):
            requests = [PreparedRequest.build("GET", ep, f"/slow?n={i}") for i in range(200)]
            answers = await asyncio.gather(*(c.request(r) for r in requests))
            assert [a.body for a in answers] == [str(i).encode() for i in range(200)]
            assert len(app[PEERS]) == 4
            assert app[IN_FLIGHT][1] == 4
            assert c.open_connections == 4

    run(go())


def test_unbounded_pool_opens_one_connection_per_concurrent_request(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            slow = PreparedRequest.build("GET", ep, "/slow?delay_ms=20")
            await asyncio.gather(*(c.request(slow) for _ in range(16)))
            assert len(app[PEERS]) == 16
            assert c.open_connections == 16
            await asyncio.gather(*(c.request(slow) for _ in range(16)))
            assert len(app[PEERS]) == 16  # the second wave reused them

    run(go())


def test_large_bodies_both_ways(run: Run) -> None:
    async def go() -> None:
        async with serving() as (_, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            got = await c.request(PreparedRequest.build("GET", ep, "/big"))
            assert len(got.body) == len(BIG)
            assert hashlib.sha256(got.body).digest() == hashlib.sha256(BIG).digest()
            upload = BIG[: 4 * 1024 * 1024 + 7]
            echoed = await c.request(PreparedRequest.build("POST", ep, "/echo", body=upload))
            assert echoed.body == upload
            _check_times(echoed)

    run(go())


def test_chunked_body_reaches_the_listener_piece_by_piece(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            pieces: list[tuple[bytes, int]] = []

            def listener(piece: bytes, received_at: int) -> None:
                pieces.append((piece, received_at))
                app[GO_ON].set()  # only now does the server send the next chunk

            lockstep = PreparedRequest.build("GET", ep, "/chunked?lockstep")
            got = await c.request(lockstep, on_body=listener)
            assert got.status == 200
            assert got.body == b""
            assert [piece for piece, _ in pieces] == CHUNKS
            times = [t for _, t in pieces]
            assert times == sorted(times)
            assert got.sent_at <= got.first_byte_at <= times[0]
            assert times[-1] <= got.done_at

    run(go())


def test_chunked_pieces_with_pauses_have_increasing_receive_times(run: Run) -> None:
    async def go() -> None:
        async with serving() as (_, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            pieces: list[tuple[bytes, int]] = []
            chunked = PreparedRequest.build("GET", ep, "/chunked")
            got = await c.request(chunked, on_body=lambda p, t: pieces.append((p, t)))
            assert [piece for piece, _ in pieces] == CHUNKS
            for (_, earlier), (_, later) in itertools.pairwise(pieces):
                assert later >= earlier
            _check_times(got)
            whole = await c.request(chunked)  # no listener: the de-chunked body, joined
            assert whole.body == b"".join(CHUNKS)

    run(go())


def test_connection_close_from_server_is_honoured(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            close = PreparedRequest.build("GET", ep, "/close")
            for _ in range(3):
                got = await c.request(close)
                assert (got.status, got.body) == (200, b"bye")
                assert got.header("Connection") == b"close"
                assert c.open_connections == 0
            assert len(app[PEERS]) == 3

    run(go())


def test_error_statuses_are_responses_not_exceptions(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            for code in (400, 404, 429, 500, 503):
                got = await c.request(PreparedRequest.build("GET", ep, f"/status/{code}"))
                assert got.status == code
                assert f"injected {code}".encode() in got.body
            missing = await c.request(PreparedRequest.build("GET", ep, "/no/such/path"))
            assert missing.status == 404
            assert len(app[PEERS]) == 1  # error answers keep the connection alive

    run(go())


def test_head_answer_ends_at_its_headers(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            head = await c.request(PreparedRequest.build("HEAD", ep, "/hello"))
            assert (head.status, head.body) == (200, b"")
            assert head.header("Content-Length") == b"5"
            after = await c.request(PreparedRequest.build("GET", ep, "/hello"))
            assert after.body == b"hello"
            assert len(app[PEERS]) == 1

    run(go())


@pytest.mark.parametrize("delay_ms", [30, 80])
def test_service_time_covers_the_injected_server_delay(run: Run, delay_ms: int) -> None:
    async def go() -> None:
        async with serving() as (_, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            got = await c.request(PreparedRequest.build("GET", ep, f"/slow?delay_ms={delay_ms}"))
            _check_times(got)
            assert got.service_time_ns >= delay_ms * 1_000_000
            assert got.first_byte_at - got.sent_at >= delay_ms * 1_000_000

    run(go())


def test_close_fails_requests_in_flight_and_refuses_new_ones(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port):
            endpoint = Endpoint.from_url(f"http://127.0.0.1:{port}")
            client = HttpClient(endpoint, max_connections=1)
            hang = PreparedRequest.build("GET", endpoint, "/hang")
            in_flight = asyncio.ensure_future(client.request(hang))
            queued = asyncio.ensure_future(client.request(hang))
            while not app[SEEN]:  # the first request reached the server; the second waits
                await asyncio.sleep(0.001)
            await client.close()
            for task in (in_flight, queued):
                with pytest.raises(ConnectionReset, match="closed"):
                    await task
            assert client.open_connections == 0
            with pytest.raises(RuntimeError, match="closed"):
                await client.request(hang)

    run(go())


def test_a_cancelled_waiter_does_not_lose_its_connection(run: Run) -> None:
    async def go() -> None:
        async with (
            serving() as (_, port),
            client_for(f"http://127.0.0.1:{port}", max_connections=1) as (c, ep),
        ):
            slow = PreparedRequest.build("GET", ep, "/slow?delay_ms=20")
            first = asyncio.ensure_future(c.request(slow))
            waiting = asyncio.ensure_future(c.request(slow))
            await asyncio.sleep(0.005)
            waiting.cancel()
            assert (await first).status == 200
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert (await c.request(slow)).status == 200
            assert c.open_connections == 1

    run(go())


def test_cancelling_a_streaming_request_drops_its_connection(run: Run) -> None:
    async def go() -> None:
        async with serving() as (app, port), client_for(f"http://127.0.0.1:{port}") as (c, ep):
            pieces: list[bytes] = []
            first_piece = asyncio.Event()

            def listener(piece: bytes, received_at: int) -> None:
                pieces.append(piece)
                first_piece.set()  # the server is never told to go on

            lockstep = PreparedRequest.build("GET", ep, "/chunked?lockstep")
            streaming = asyncio.ensure_future(c.request(lockstep, on_body=listener))
            await first_piece.wait()
            streaming.cancel()
            with pytest.raises(asyncio.CancelledError):
                await streaming
            assert c.open_connections == 0
            app[GO_ON].set()
            got = await c.request(PreparedRequest.build("GET", ep, "/hello"))
            assert got.body == b"hello"
            assert pieces == CHUNKS[:1]
            assert len(app[PEERS]) == 2

    run(go())


# -- TLS and IPv6 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, made with the openssl command line."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except FileNotFoundError:
        pytest.skip("no 'openssl' command to make a self-signed certificate for the TLS test")
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"openssl could not make a test certificate: {exc.stderr.decode()[:200]}")
    return cert, key


def test_tls_with_a_self_signed_certificate(run: Run, self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    async def go() -> None:
        async with serving(tls=server_tls) as (app, port):
            url = f"https://127.0.0.1:{port}"
            async with client_for(url, verify_tls=False) as (c, ep):
                assert ep.tls is not None and ep.server_hostname == "127.0.0.1"
                for _ in range(3):
                    got = await c.request(PreparedRequest.build("GET", ep, "/hello"))
                    assert (got.status, got.body) == (200, b"hello")
                big = await c.request(PreparedRequest.build("GET", ep, "/big"))
                assert big.body == BIG
                assert len(app[PEERS]) == 1

            # The default context checks the chain: a self-signed certificate fails to connect.
            async with client_for(url) as (strict, ep):
                with pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
                    await strict.request(PreparedRequest.build("GET", ep, "/hello"))

            # Trusting this certificate, with the host name checked against it, works.
            trusting = ssl.create_default_context(cafile=str(cert))
            ep = Endpoint("https", "127.0.0.1", port, trusting, "localhost")
            async with HttpClient(ep) as trusted:
                got = await trusted.request(PreparedRequest.build("GET", ep, "/hello"))
                assert got.body == b"hello"

    run(go())


def _ipv6_loopback_works() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_works(), reason="this machine has no IPv6 loopback (::1)")
def test_ipv6_loopback(run: Run) -> None:
    async def go() -> None:
        async with serving(host="::1") as (app, port):
            async with client_for(f"http://[::1]:{port}") as (c, ep):
                assert (ep.host, ep.authority) == ("::1", f"[::1]:{port}")
                for _ in range(3):
                    got = await c.request(PreparedRequest.build("GET", ep, "/hello"))
                    assert (got.status, got.body) == (200, b"hello")
            assert app[SEEN][-1].host == f"[::1]:{port}"
            assert len(app[PEERS]) == 1

    run(go())
