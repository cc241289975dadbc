"""A kernel-stamped connection times bytes by their arrival, not by when a busy loop read them.

A server process writes the first chunk of a streamed answer while the client's event loop is
blocked (an injected 1.5 s stall); the server records the time of its write on the same
monotonic clock. The loop's own transport can only stamp the bytes after the stall; the
kernel-stamped one must stamp them within milliseconds of the write.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
import uvloop

from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.client._stamped import kernel_stamps_supported

STALL_S = 1.5


# The server is a process of its own, so that no thread of this test process (nor one an
# earlier test left behind) can hold it up behind the GIL: it must write during the stall.
_SERVER = r"""
import socket, sys, time
HEAD = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: text/event-stream\r\n\r\n")
def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
connection, _ = listener.accept()
request = b""
while b"\r\n\r\n" not in request:
    request += connection.recv(65536)
sys.stdin.readline()  # the client's loop is stalled now
written = time.monotonic_ns()
connection.sendall(HEAD + chunk(b"data: first\n\n"))
print(written, flush=True)
sys.stdin.readline()
connection.sendall(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
connection.close()
"""


def _first_piece_delay(kernel_stamps: bool) -> tuple[int, int, int]:
    """(server write, first piece's stamp, end of the stall), monotonic ns."""
    with subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as server:
        assert server.stdin is not None and server.stdout is not None
        port = int(server.stdout.readline())
        stall_end = [0]

        def stall() -> None:
            assert server.stdin is not None
            server.stdin.write("go\n")
            server.stdin.flush()
            time.sleep(STALL_S)  # the loop is blocked: nothing is read meanwhile
            stall_end[0] = time.monotonic_ns()

        def on_body(piece: bytes, at: int) -> None:
            stamps.append(at)
            if len(stamps) == 1:
                # The rest only once the first piece was read: segments that wait together in
                # the socket are merged by the kernel under the newest one's stamp.
                assert server.stdin is not None
                server.stdin.write("finish\n")
                server.stdin.flush()

        stamps: list[int] = []

        async def main() -> int:
            endpoint = Endpoint.from_url(f"http://127.0.0.1:{port}")
            request = PreparedRequest.build("GET", endpoint, "/")
            client = HttpClient(endpoint, timeout_s=30, kernel_stamps=kernel_stamps)
            async with client:
                asyncio.get_running_loop().call_later(0.05, stall)
                await client.request(request, on_body)
            return stamps[0]

        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                first = runner.run(main())
            written = int(server.stdout.readline())
        finally:
            server.kill()
    return written, first, stall_end[0]


@pytest.mark.skipif(not kernel_stamps_supported(), reason="SO_TIMESTAMPNS is Linux-only")
def test_bytes_that_arrive_during_a_stall_keep_their_arrival_time() -> None:
    written, first, stall_end = _first_piece_delay(kernel_stamps=True)
    figures = f"write {written}, stamp {first}, stall end {stall_end} (ns)"
    assert written < stall_end, f"the server wrote after the stall: {figures}"
    assert first < stall_end, f"stamped when the loop read it, not when it arrived: {figures}"
    assert 0 <= first - written < 50_000_000, figures


def test_the_loops_transport_stamps_when_it_reads() -> None:
    # The contrast, and the reason for the stamped transport: the same bytes, stamped late.
    written, first, stall_end = _first_piece_delay(kernel_stamps=False)
    assert first >= stall_end > written
