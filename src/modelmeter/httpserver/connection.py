"""A minimal HTTP/1.1 server connection on an asyncio Protocol and httptools (llhttp).

Shared by ``simulate`` and ``gateway``: both need to control what is written and when, with no
framework between the request and the socket. A raw protocol rather than aiohttp because the
simulator's point is write times it controls: the pacer calls ``transport.write`` itself, from
one callback, at the due time, with no coroutine or task switch in between. Measured at 100
concurrent streams (TTFT 50 ms, ITL 10 ms, 2-vCPU VM, client on the same machine): with the
same timer-only pacing this server used less than half the CPU of an aiohttp StreamResponse
handler (about 11% of a core against 25%), and with the busy-waiting pacer its p99 send
lateness was about 75 µs against 110–140 µs.

Requests on a connection are answered one at a time, in order (pipelined requests wait their
turn); keep-alive follows HTTP/1.0 and 1.1 rules. A request that cannot be served is answered
with a JSON error and the connection closed, with one log line: malformed (400), a request
target over ``MAX_TARGET_BYTES`` (414), headers over ``MAX_HEAD_BYTES`` or ``MAX_HEADERS`` of
them (431), a body over ``MAX_BODY_BYTES`` (413). Without those caps a 200 MB header was read
into memory whole, and the server stalled while it did.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol, cast

import httptools

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_TARGET_BYTES = 8 * 1024  # the request target (path and query), as most servers allow
MAX_HEAD_BYTES = 64 * 1024  # the request line and the headers together
MAX_HEADERS = 100
# Bytes fed into an unfinished head without a single parser callback (one header still coming):
# a socket read is at most 256 KiB, so this passes any head under MAX_HEAD_BYTES and stops a
# 200 MB header after about 1 MiB.
_SILENT_HEAD_LIMIT = 1024 * 1024
MAX_PIPELINED = 64  # requests read ahead of the one being answered before reading pauses
SERVER_HEADER = b"server: modelmeter\r\n"
_monotonic_ns = time.monotonic_ns
logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    arrived_ns: int  # when the last byte of the request had been read
    keep_alive: bool
    http11: bool


class Handler(Protocol):
    def handle(self, connection: Connection, request: Request) -> None:
        """Answer ``request``, now or later; call ``connection.finish_response`` when done."""

    def connection_lost(self, connection: Connection) -> None:
        """The client went away (or the server closes): drop what it was waiting for."""


def error_body(
    message: str, error_type: str, param: str | None = None, code: str | None = None
) -> bytes:
    """``{"error": {"message", "type", "param", "code"}}`` as OpenAI answers errors."""
    return json.dumps(
        {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    ).encode()


def status_line(status: int) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"HTTP/1.1 {status} {reason}\r\n".encode("ascii")


def response_bytes(
    status: int,
    body: bytes,
    *,
    keep_alive: bool,
    content_type: bytes = b"application/json",
    extra_headers: bytes = b"",
) -> bytes:
    """A complete response with a Content-Length body."""
    return b"".join(
        (
            status_line(status),
            b"content-type: ",
            content_type,
            b"\r\ncontent-length: ",
            str(len(body)).encode("ascii"),
            b"\r\n",
            SERVER_HEADER,
            extra_headers,
            b"" if keep_alive else b"connection: close\r\n",
            b"\r\n",
            body,
        )
    )


class Connection(asyncio.Protocol):
    """One client connection; ``handler`` answers its requests."""

    def __init__(
        self, handler: Handler, registry: set[Connection], max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self._handler = handler
        self._max_body = max_body_bytes
        self._registry = registry  # the server's open connections, to close them when it stops
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._pending: deque[Request] = deque()
        self._busy = False  # a response is under way
        self._dispatching = False
        self.closed = False
        self.context: Any = None  # what the handler keeps for the response under way
        # Flow control of the response under way: the transport's buffer passed its high-water
        # mark (the client reads slower than the handler writes); a handler that relays a
        # stream sets these to stop and restart its source.
        self.writing_paused = False
        self.on_pause: Callable[[], None] | None = None
        self.on_resume: Callable[[], None] | None = None
        self._now = 0
        self._url = bytearray()
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._body_size = 0
        self._reading_paused = False
        # The head being read: its parsed size and headers, and the bytes fed since the parser
        # last called back. httptools hands a header over only once it is complete, so a huge
        # one shows only as bytes going in with no callback coming out.
        self._reading_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._fed_silently = 0
        self._called_back = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's do not subclass it
        self._registry.add(self)

    def data_received(self, data: bytes) -> None:
        self._now = _monotonic_ns()
        try:
            self._called_back = False
            self._parser.feed_data(data)
            if not self._reading_head:
                self._fed_silently = 0
            elif self._called_back:  # at most this chunk is held in a header not yet complete
                self._fed_silently = len(data)
            else:
                self._fed_silently += len(data)
                if self._fed_silently > _SILENT_HEAD_LIMIT:
                    raise _Refused(431, f"request line and headers over {MAX_HEAD_BYTES:,} bytes")
        except _Refused as exc:
            self._fail(exc.status, exc.message)
        except httptools.HttpParserCallbackError as exc:
            refused = exc.__context__
            if not isinstance(refused, _Refused):
                raise  # a bug in a callback, not the client's fault
            self._fail(refused.status, refused.message)
        except httptools.HttpParserUpgrade:
            self._fail(400, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self._fail(400, f"malformed HTTP request: {exc}")
        self._dispatch()  # after parsing, not inside a parser callback

    def pause_writing(self) -> None:
        self.writing_paused = True
        if self.on_pause is not None:
            self.on_pause()

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.on_resume is not None:
            self.on_resume()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pending.clear()
        self._handler.connection_lost(self)
        self._registry.discard(self)

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._called_back = True
        self._url.clear()
        self._headers = {}
        self._body = []
        self._body_size = 0
        self._reading_head = True
        self._head_bytes = 0
        self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._called_back = True
        self._url += url
        if len(self._url) > MAX_TARGET_BYTES:
            raise _Refused(414, f"request target over {MAX_TARGET_BYTES:,} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._called_back = True
        self._header_count += 1
        self._head_bytes += len(name) + len(value) + 4
        if self._header_count > MAX_HEADERS:
            raise _Refused(431, f"more than {MAX_HEADERS} headers")
        if self._head_bytes > MAX_HEAD_BYTES:
            raise _Refused(431, f"request line and headers over {MAX_HEAD_BYTES:,} bytes")
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._reading_head = False
        length = self._headers.get("content-length", "0")
        if length.isdigit() and int(length) > self._max_body:
            raise _Refused(413, f"request body over {self._max_body:,} bytes")
        if self._headers.get("expect", "").lower() == "100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body:
            raise _Refused(413, f"request body over {self._max_body:,} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        url = httptools.parse_url(bytes(self._url))
        request = Request(
            method=self._parser.get_method().decode("ascii", "replace"),
            path=(url.path or b"/").decode("utf-8", "replace"),
            query=(url.query or b"").decode("utf-8", "replace"),
            headers=self._headers,
            body=b"".join(self._body),
            arrived_ns=self._now,
            keep_alive=self._parser.should_keep_alive(),
            http11=self._parser.get_http_version() == "1.1",
        )
        self._pending.append(request)
        if len(self._pending) >= MAX_PIPELINED and self.transport and not self._reading_paused:
            self.transport.pause_reading()
            self._reading_paused = True

    # answering

    def write(self, data: bytes) -> int:
        """Hand ``data`` to the socket; the ``time.monotonic_ns()`` read just before."""
        now = _monotonic_ns()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
        return now

    def respond(self, data: bytes, *, keep_alive: bool) -> int:
        """Write a whole response and finish it; the write time."""
        written = self.write(data)
        self.finish_response(keep_alive=keep_alive)
        return written

    def finish_response(self, *, keep_alive: bool) -> None:
        """The response under way is complete: close, or go on with the next request."""
        self._busy = False
        self.context = None
        self.on_pause = self.on_resume = None
        if not keep_alive:
            self.closed = True
            self._pending.clear()
            if self.transport is not None:
                self.transport.close()
            return
        self._dispatch()

    def _dispatch(self) -> None:
        if self._dispatching:
            return  # the loop below picks the next request up
        self._dispatching = True
        try:
            while self._pending and not self._busy and not self.closed:
                request = self._pending.popleft()
                self._busy = True
                self._handler.handle(self, request)
            if self._reading_paused and len(self._pending) < MAX_PIPELINED // 4:
                self._reading_paused = False
                if self.transport is not None and not self.closed:
                    self.transport.resume_reading()
        finally:
            self._dispatching = False

    def _fail(self, status: int, message: str) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        peer = self.transport.get_extra_info("peername")
        client = peer[0] if isinstance(peer, tuple) and peer else "a client"
        logger.warning("bad request from %s: %d %s", client, status, message[:200])
        if not self._busy:  # else the answer under way would be corrupted: just close
            self.transport.write(
                response_bytes(
                    status, error_body(message, "invalid_request_error"), keep_alive=False
                )
            )
        self.closed = True
        self._pending.clear()
        self.transport.close()


class _Refused(Exception):
    """Raised (from a parser callback or after feeding it) to refuse the request being read."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
