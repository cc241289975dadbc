"""One keep-alive HTTP/1.1 connection: an asyncio Protocol driving an httptools parser.

This is the load generator's hot path. Per request it allocates one Future, the header list,
the body piece list and the Response; everything else lives on the connection. At most one
request is in flight per connection (no pipelining).

Timeouts use one ``loop.call_later`` handle per connection, not one per request: arming and
cancelling a handle for every request cost 0.65 µs of about 8.7 µs per request on uvloop
(benchmarks/README.md). The handle is armed when a request is sent and none is pending; when it
fires it fails the request in flight if that request's own deadline (``sent_at + timeout``) has
passed, and otherwise re-arms itself for that deadline. So every request still gets its whole
timeout, measured from its send, and no earlier request's deadline applies to it.
"""

from __future__ import annotations

import asyncio
import logging
from time import monotonic_ns
from typing import TYPE_CHECKING, Protocol, cast

from httptools import (
    HttpParserCallbackError,
    HttpParserError,
    HttpParserUpgrade,
    HttpResponseParser,
)

from modelmeter._exceptions import ConnectionReset, ProtocolFailure, RequestTimeout
from modelmeter.client._request import PreparedRequest
from modelmeter.client._response import BodyListener, HeadListener, Response

if TYPE_CHECKING:
    from modelmeter.client._endpoint import Endpoint

logger = logging.getLogger(__name__)

# A body longer than this fails its request (a server streaming without end would otherwise
# fill memory within its timeout); targets may set their own limit.
DEFAULT_MAX_BODY_BYTES = 16 << 20
# Servers send a few hundred bytes of headers; this much is a broken or hostile server.
MAX_HEADER_BYTES = 256 << 10


class Unanswered(ConnectionReset):
    """The connection went away before any byte of the answer came back.

    ``sent`` False: the request was never written, so sending it again is always safe.
    ``sent`` True on a reused connection: most likely the server closed an idle keep-alive
    connection just as the request went out; idempotent requests may be sent again.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class _Unsolicited(Exception):
    """Response bytes arrived with no request in flight (raised inside the parser to stop it)."""


class _HeadersOnly(Exception):
    """The answer to HEAD is complete at the end of its headers (stops the parser there)."""


class ConnectionOwner(Protocol):
    """The pool a connection belongs to (an ``HttpClient``): told when it is free or gone."""

    endpoint: Endpoint

    def on_connection_idle(self, connection: Connection) -> None:
        """``connection`` finished a request and stays open for the next one."""

    def on_connection_closed(self, connection: Connection) -> None:
        """``connection`` is closed for good."""


class Connection(asyncio.Protocol):
    """Sends one request at a time and resolves its Future when the answer is complete.

    The owner is told when the connection can take the next request (``on_connection_idle``)
    and when it is gone for good (``on_connection_closed``); a connection that timed out, broke
    or misbehaved is closed and never handed out again.
    """

    __slots__ = (
        "_body_bytes",
        "_client",
        "_first_byte_at",
        "_head",
        "_header_bytes",
        "_headers",
        "_keep_alive",
        "_listener",
        "_loop",
        "_lost_waiter",
        "_max_body_bytes",
        "_on_head",
        "_on_timeout_cb",
        "_parser",
        "_parts",
        "_read_paused",
        "_received_at",
        "_sent_at",
        "_status",
        "_timeout_ns",
        "_timeout_s",
        "_timer",
        "_transport",
        "_transport_lost",
        "_waiter",
        "closed",
        "reused",
    )

    def __init__(
        self,
        client: ConnectionOwner,
        loop: asyncio.AbstractEventLoop,
        timeout_s: float,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ):
        self._client = client
        self._max_body_bytes = max_body_bytes
        self._loop = loop
        self._timeout_s = timeout_s
        self._timeout_ns = round(timeout_s * 1e9)
        self._on_timeout_cb = self._on_timeout  # bound once, not per request
        self._parser = HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._listener: BodyListener | None = None
        self._on_head: HeadListener | None = None
        self._read_paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._parts: list[bytes] = []
        self._body_bytes = 0
        self._status = 0
        self._keep_alive = True
        self._head = False
        self._sent_at = 0
        self._first_byte_at = 0
        self._received_at = 0
        self._transport_lost = False
        self._lost_waiter: asyncio.Future[None] | None = None
        self.closed = False  # no further request may be sent on it
        self.reused = False  # it has completed at least one answer

    # -- sending ---------------------------------------------------------------------------

    def send(
        self,
        request: PreparedRequest,
        listener: BodyListener | None,
        on_head: HeadListener | None = None,
    ) -> asyncio.Future[Response]:
        """Write ``request`` and return the Future of its answer; ``on_head`` hears the final
        status and headers before the first body piece (a proxy writes its own head then)."""
        transport = self._transport
        if self.closed or transport is None:
            raise Unanswered(f"connection to {self._client.endpoint} closed before use", sent=False)
        loop = self._loop
        waiter: asyncio.Future[Response] = loop.create_future()
        self._waiter = waiter
        self._listener = listener
        self._on_head = on_head
        self._head = request.method == "HEAD"
        self._first_byte_at = 0
        self._status = 0
        if self._timer is None:
            self._timer = loop.call_later(self._timeout_s, self._on_timeout_cb)
        self._sent_at = monotonic_ns()
        try:
            transport.write(request.raw)
        except RuntimeError:
            # uvloop refuses writes once the peer reset the connection, before it reports
            # connection_lost: the request never left, so it may be sent elsewhere.
            self._fail(Unanswered(f"connection to {self._client.endpoint} was lost", sent=False))
        return waiter

    # -- flow control ----------------------------------------------------------------------

    def pause_reading_for(self, waiter: asyncio.Future[Response]) -> None:
        """Stop reading the answer of ``waiter``'s request (a proxy's client reads slowly); a
        no-op once that request is over, so a late call never stalls the next one."""
        transport = self._transport
        if self._waiter is waiter and not self._read_paused and transport is not None:
            self._read_paused = True
            transport.pause_reading()

    def resume_reading_for(self, waiter: asyncio.Future[Response] | None) -> None:
        transport = self._transport
        if self._read_paused and (waiter is None or self._waiter is waiter):
            self._read_paused = False
            if transport is not None and not self._transport_lost:
                transport.resume_reading()

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.data_received_at(data, monotonic_ns())

    def data_received_at(self, data: bytes | bytearray, now: int) -> None:
        """``data`` arrived at ``now`` (monotonic ns): the kernel's receive time on a stamped
        transport (see ``_stamped``), the time of this read otherwise."""
        self._received_at = now
        if not self._first_byte_at:
            self._first_byte_at = now
        try:
            self._parser.feed_data(data)
        except HttpParserCallbackError as exc:
            self._callback_failed(exc.__context__, exc)
        except HttpParserUpgrade:
            self._fail(ProtocolFailure(f"{self._client.endpoint} switched protocols (upgrade)"))
        except HttpParserError as exc:
            self._fail(
                ProtocolFailure(f"malformed HTTP response from {self._client.endpoint}: {exc}")
            )

    def eof_received(self) -> bool:
        self._ended(None)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport_lost = True
        self._ended(exc)
        lost_waiter = self._lost_waiter
        if lost_waiter is not None and not lost_waiter.done():
            lost_waiter.set_result(None)

    # -- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None:
            raise _Unsolicited
        self._headers = []
        self._header_bytes = 0
        self._parts = []
        self._body_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > MAX_HEADER_BYTES:
            raise ProtocolFailure(
                f"{self._client.endpoint} sent more than {MAX_HEADER_BYTES:,} bytes of headers"
            )
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self._parser
        self._status = status = parser.get_status_code()
        self._keep_alive = parser.should_keep_alive()
        if self._on_head is not None and status >= 200:
            self._on_head(status, self._headers)
        if self._head and status >= 200:
            raise _HeadersOnly

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self._max_body_bytes:
            raise ProtocolFailure(
                f"answer from {self._client.endpoint} is over {self._max_body_bytes:,} bytes "
                "(the target's max_response_bytes)"
            )
        listener = self._listener
        if listener is None:
            self._parts.append(body)
        else:
            listener(body, self._received_at)

    def on_message_complete(self) -> None:
        if self._status < 200:
            return  # 1xx informational answer: the final one follows on the same request
        self._finish(monotonic_ns())

    # -- outcomes --------------------------------------------------------------------------

    def _finish(self, done_at: int) -> None:
        waiter = self._waiter
        assert waiter is not None
        self.resume_reading_for(None)  # back to the pool reading, whatever paused it
        self._waiter = None
        self._listener = None
        self.reused = True
        if self._keep_alive and not self.closed:
            self._client.on_connection_idle(self)
        else:
            self._close(abort=False)
        if not waiter.done():  # the caller may have been cancelled meanwhile
            waiter.set_result(
                Response(
                    self._status,
                    self._headers,
                    b"".join(self._parts),
                    self._sent_at,
                    self._first_byte_at,
                    done_at,
                )
            )

    def _fail(self, exc: BaseException) -> None:
        """End the request in flight (if any) with ``exc`` and throw the connection away."""
        waiter = self._waiter
        self._waiter = None
        self._listener = None
        self._close(abort=True)
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _callback_failed(self, cause: BaseException | None, exc: HttpParserError) -> None:
        if isinstance(cause, _HeadersOnly):
            # The old parser is left waiting for a body that HEAD answers never have.
            self._parser = HttpResponseParser(self)
            self._finish(monotonic_ns())
        elif isinstance(cause, _Unsolicited) or self._waiter is None:
            logger.debug(
                "discarding connection to %s: data with no request in flight", self._client.endpoint
            )
            self._fail(ConnectionReset("unsolicited data"))
        elif cause is None:
            self._fail(
                ProtocolFailure(f"malformed HTTP response from {self._client.endpoint}: {exc}")
            )
        else:
            # A body listener raised: the request fails with that very exception.
            self._fail(cause)

    def _on_timeout(self) -> None:
        self._timer = None
        if self._waiter is None or self.closed:
            return  # idle: the next send arms it again
        left_ns = self._sent_at + self._timeout_ns - monotonic_ns()
        if left_ns > 0:  # this request was sent after the timer was armed
            self._timer = self._loop.call_later(left_ns / 1e9, self._on_timeout_cb)
            return
        self._fail(
            RequestTimeout(
                f"no complete answer from {self._client.endpoint} within {self._timeout_s} s"
            )
        )

    def _ended(self, exc: Exception | None) -> None:
        """The peer closed (EOF) or the transport was lost, with ``exc`` if it broke."""
        if self._waiter is None:
            self._close(abort=exc is not None)
            return
        if exc is None and self._status >= 200 and self._delimited_by_eof():
            self._keep_alive = False
            self._finish(monotonic_ns())
            return
        endpoint = self._client.endpoint
        why = f": {exc}" if exc is not None else ""
        if self._first_byte_at:
            self._fail(ConnectionReset(f"{endpoint} closed the connection mid-response{why}"))
        else:
            message = f"{endpoint} closed the connection before answering{why}"
            self._fail(Unanswered(message, sent=True) if self.reused else ConnectionReset(message))

    def _delimited_by_eof(self) -> bool:
        """True when the answer has neither Content-Length nor chunked framing (RFC 9112 6.3)."""
        for name, _ in self._headers:
            lowered = name.lower()
            if lowered == b"content-length" or lowered == b"transfer-encoding":
                return False
        return True

    def _close(self, *, abort: bool) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
        if not self.closed:
            self.closed = True
            self._client.on_connection_closed(self)
        transport = self._transport
        if transport is not None and not self._transport_lost:
            if abort:
                transport.abort()
            elif not transport.is_closing():
                transport.close()

    # -- shutdown --------------------------------------------------------------------------

    def shut(self, reason: str) -> asyncio.Future[None] | None:
        """Close now; a request in flight fails with ConnectionReset(``reason``).

        Returns a Future that resolves when the transport is gone, or None if it already is.
        """
        if self._transport_lost or self._transport is None:
            self._close(abort=True)
            return None
        self._lost_waiter = lost = self._loop.create_future()
        if self._waiter is not None:
            self._fail(ConnectionReset(reason))
        else:
            self._close(abort=False)
        return lost

    def cancel(self, waiter: asyncio.Future[Response]) -> None:
        """The caller of ``waiter`` gave up: if that request is still in flight, drop it and the
        connection with it (the rest of its answer is not worth reading)."""
        if self._waiter is waiter:
            self._fail(ConnectionReset("request cancelled"))  # the Future is already cancelled

    def abort(self) -> None:
        transport = self._transport
        if transport is not None and not self._transport_lost:
            transport.abort()
