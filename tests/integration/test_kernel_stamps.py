"""A kernel-stamped connection times bytes by their arrival, not by when a busy loop read them.

A server thread writes the first chunk of a streamed answer while the client's event loop is
blocked (an injected 1.5 s stall); the server records the time of its write on the same
monotonic clock. The loop's own transport can only stamp the bytes after the stall; the
kernel-stamped one must stamp them within milliseconds of the write.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import uvloop

from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.client._stamped import kernel_stamps_supported

STALL_S = 1.5
HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class _Server:
    """Answers one request: the head and a first chunk once ``stalled`` is set (the client's
    loop is then blocked), then the rest once ``finish`` is set."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stalled = threading.Event()
        self.finish = threading.Event()
        self.written_ns = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            self.stalled.wait(30)
            self.written_ns = time.monotonic_ns()
            connection.sendall(HEAD + _chunk(b"data: first\n\n"))
            self.finish.wait(30)
            connection.sendall(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    def close(self) -> None:
        self.stalled.set()
        self.finish.set()
        self.thread.join(10)
        self.listener.close()


def _first_piece_delay(kernel_stamps: bool) -> tuple[int, int, int]:
    """(server write, first piece's stamp, end of the stall), monotonic ns."""
    server = _Server()
    stall_end = [0]

    def stall() -> None:
        server.stalled.set()
        time.sleep(STALL_S)  # the loop is blocked: nothing is read meanwhile
        stall_end[0] = time.monotonic_ns()
        server.finish.set()

    async def main() -> int:
        endpoint = Endpoint.from_url(f"http://127.0.0.1:{server.port}")
        request = PreparedRequest.build("GET", endpoint, "/")
        stamps: list[int] = []
        async with HttpClient(endpoint, timeout_s=30, kernel_stamps=kernel_stamps) as client:
            asyncio.get_running_loop().call_later(0.05, stall)
            await client.request(request, lambda piece, at: stamps.append(at))
        return stamps[0]

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            first = runner.run(main())
    finally:
        server.close()
    return server.written_ns, first, stall_end[0]


@pytest.mark.skipif(not kernel_stamps_supported(), reason="SO_TIMESTAMPNS is Linux-only")
def test_bytes_that_arrive_during_a_stall_keep_their_arrival_time() -> None:
    written, first, stall_end = _first_piece_delay(kernel_stamps=True)
    assert first < stall_end, "stamped when the loop read it, not when it arrived"
    assert 0 <= first - written < 50_000_000, f"{(first - written) / 1e6:.1f} ms after the write"


def test_the_loops_transport_stamps_when_it_reads() -> None:
    # The contrast, and the reason for the stamped transport: the same bytes, stamped late.
    written, first, stall_end = _first_piece_delay(kernel_stamps=False)
    assert first >= stall_end > written
