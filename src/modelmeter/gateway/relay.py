"""The client's side of one upstream answer: its head made the gateway's own, its body passed
on piece by piece as it arrives, kept for the cache and read for its usage on the way.

Three framings: an upstream ``content-length`` is passed on and the body pieces go out as
they are; otherwise an HTTP/1.1 client gets each piece as one chunk; an HTTP/1.0 client, which
cannot take chunks, gets the whole answer at the end. The head waits for the first piece and
leaves in the same write (one system call for a small answer, not three).
"""

from __future__ import annotations

from dataclasses import dataclass

from modelmeter.gateway.balance import Backend
from modelmeter.httpserver import SERVER_HEADER, Connection, Request, status_line

__all__ = ["CAPTURE_LIMIT", "RETURNED", "Record", "Relay"]

# Response headers passed back; framing headers are the gateway's own.
RETURNED = (
    b"content-type",
    b"x-request-id",
    b"retry-after",
    b"cache-control",
    b"inference-header-content-length",
)
CAPTURE_LIMIT = 8 * 1024 * 1024  # an answer larger than this is passed on but not cached
_METER_TAIL = 64 * 1024  # of a streamed answer, the end kept to find its usage in


@dataclass(slots=True)
class Record:
    """How a request ended, for the experiment and traffic logs."""

    status: int = 0
    cut: bool = False  # the answer broke off after it started
    meter: bool = False  # read the answer's usage
    usage: tuple[int, int] | None = None
    request_id: str = ""
    logged: bool = False  # drawn for the traffic log
    keep_answer: bool = False  # ... with the answer's body
    answer: bytes | None = None
    cache: str = "none"  # miss, hit or semantic with a cache


class Relay:
    """The client's side of one upstream answer: head, body, end.

    Three framings: an upstream ``content-length`` is passed on and the body pieces go out as
    they are; otherwise an HTTP/1.1 client gets each piece as one chunk; an HTTP/1.0 client,
    which cannot take chunks, gets the whole answer at the end. The head waits for the first
    piece and leaves in the same write (one system call for a small answer, not three).
    """

    __slots__ = (
        "added_ns",
        "backend",
        "buffer",
        "capture",
        "captured",
        "connection",
        "fallback_of",
        "first_byte_ns",
        "framing",
        "kept",
        "meter",
        "metered",
        "pending_head",
        "refused",
        "request",
        "request_id",
        "sse",
        "started",
        "status",
    )

    def __init__(
        self,
        connection: Connection,
        request: Request,
        backend: Backend,
        fallback_of: str | None,
        added_ns: int,
    ) -> None:
        self.connection = connection
        self.added_ns = added_ns
        self.capture: list[bytes] | None = None  # the pieces, for the cache
        self.captured = 0
        self.kept = b""
        self.meter: list[bytes] | None = None  # the pieces kept to read the usage from
        self.metered = 0
        self.sse = False
        self.request_id = b""  # sent back when the upstream answer does not carry it
        self.status = 0
        self.first_byte_ns = 0
        self.request = request
        self.backend = backend
        self.fallback_of = fallback_of
        self.refused: int | None = None  # a 5xx head: not passed on, another backend is tried
        self.started = False  # something reached the client: no other backend may be tried
        self.framing = "chunked"
        self.buffer: list[bytes] = []
        self.pending_head = b""

    def head(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        if status >= 500:
            self.refused = status
            return
        self.status = status
        kept = []
        length: bytes | None = None
        for name, value in headers:
            lowered = name.lower()
            if lowered in RETURNED:
                kept.append(name + b": " + value + b"\r\n")
            elif lowered == b"content-length":
                length = value
            if lowered == b"content-type" and value.startswith(b"text/event-stream"):
                self.sse = True
        self.kept = b"".join(kept)
        parts = [status_line(status), self.kept, SERVER_HEADER]
        if self.request_id and b"x-request-id: " not in self.kept.lower():
            parts.append(b"x-request-id: " + self.request_id + b"\r\n")
        if self.capture is not None:
            parts.append(b"x-modelmeter-cache: miss\r\n")
        parts.append(b"server-timing: gateway;dur=%.3f\r\n" % (self.added_ns / 1e6))
        parts.append(b"x-modelmeter-backend: " + self.backend.name.encode() + b"\r\n")
        if self.fallback_of is not None:
            parts.append(b"x-modelmeter-fallback: " + self.fallback_of.encode() + b"\r\n")
        if not self.request.keep_alive:
            parts.append(b"connection: close\r\n")
        if length is not None:
            self.framing = "length"
            parts.append(b"content-length: " + length + b"\r\n\r\n")
        elif self.request.http11:
            parts.append(b"transfer-encoding: chunked\r\n\r\n")
        else:
            self.framing = "buffered"
        self.pending_head = b"".join(parts)

    def body(self, piece: bytes, received_at: int) -> None:
        if self.refused is not None or not piece:
            return
        capture = self.capture
        if capture is not None:
            self.captured += len(piece)
            if self.captured > CAPTURE_LIMIT:
                self.capture = None  # too large to be worth keeping: stop holding it
            else:
                capture.append(piece)
        meter = self.meter
        if meter is not None:
            meter.append(piece)
            self.metered += len(piece)
            if self.sse:
                while self.metered - len(meter[0]) >= _METER_TAIL:
                    self.metered -= len(meter.pop(0))
            elif self.metered > CAPTURE_LIMIT:
                self.meter = None  # too large to read: the reservation is charged
        framing = self.framing
        if framing == "buffered":
            self.buffer.append(piece)
            return
        data = piece if framing == "length" else b"%x\r\n%s\r\n" % (len(piece), piece)
        if self.pending_head:
            data = self.pending_head + data
            self.pending_head = b""
            self.first_byte_ns = self.connection.write(data)
        else:
            self.connection.write(data)
        self.started = True

    def finish(self) -> None:
        framing = self.framing
        if framing == "buffered":
            body = b"".join(self.buffer)
            data = self.pending_head + b"content-length: %d\r\n\r\n" % len(body) + body
        elif framing == "chunked":
            data = self.pending_head + b"0\r\n\r\n"
        else:
            data = self.pending_head
        if data:
            written = self.connection.write(data)
            if not self.first_byte_ns:
                self.first_byte_ns = written
        self.pending_head = b""
        self.connection.finish_response(keep_alive=self.request.keep_alive)

    def cut(self) -> None:
        transport = self.connection.transport
        if transport is not None:
            transport.close()
        self.connection.finish_response(keep_alive=False)
