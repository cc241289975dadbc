"""A minimal HTTP/1.1 server on a raw asyncio Protocol: the fastest answer this host can give.

``modelmeter calibrate`` measures the load generator against it, so that the figure is the
client's ceiling, not a server's. It answers every request with a small fixed JSON body, and
``GET /stream?events=N`` with N server-sent events in one chunked response. Requests may carry a
Content-Length body; anything else (chunked uploads, pipelining beyond order) is out of scope.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

from modelmeter._loop import run as run_on_fast_loop

_BODY = b'{"ok":true}'
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(_BODY)).encode()
    + b"\r\n\r\n"
    + _BODY
)
_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)
_EVENT = b'data: {"choices":[{"delta":{"content":"tok"}}]}\n\n'
_EVENT_CHUNK = f"{len(_EVENT):x}\r\n".encode() + _EVENT + b"\r\n"
_END_CHUNK = b"0\r\n\r\n"


def _stream_response(events: int) -> bytes:
    return _STREAM_HEAD + _EVENT_CHUNK * events + _END_CHUNK


class _Connection(asyncio.Protocol):
    __slots__ = ("_buffer", "_transport")

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            marker = head.lower().find(b"content-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker)
                length = int(head[marker + 15 : line_end if line_end >= 0 else None].strip())
            total = end + 4 + length
            if len(buffer) < total:
                break
            if head.startswith(b"GET /stream"):
                events = 100
                query = head.find(b"events=")
                if query >= 0:
                    digits = head[query + 7 : head.find(b" ", query)]
                    events = int(digits) if digits.isdigit() else events
                out.append(_stream_response(events))
            else:
                out.append(_RESPONSE)
            buffer = buffer[total:]
        self._buffer = buffer
        if out and self._transport is not None:
            self._transport.write(b"".join(out))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def serve(host: str, port: int, ready: int | None = None) -> None:
    """Serve until SIGTERM/SIGINT; print the bound port to ``ready`` fd (or stdout) once up."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, host, port, backlog=4096)
    bound = server.sockets[0].getsockname()[1]
    os.write(ready if ready is not None else sys.stdout.fileno(), f"{bound}\n".encode())
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set_result, None)
    async with server:
        await stop


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    run_on_fast_loop(serve(host, port))


if __name__ == "__main__":
    main()
