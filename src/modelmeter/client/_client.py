"""A keep-alive connection pool to one endpoint, and the request call the load engine makes."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from modelmeter._exceptions import ConnectFailed, ConnectionReset
from modelmeter.client._connection import DEFAULT_MAX_BODY_BYTES, Connection, Unanswered
from modelmeter.client._endpoint import Endpoint
from modelmeter.client._request import PreparedRequest
from modelmeter.client._response import BodyListener, HeadListener, ReadControl, Response
from modelmeter.client._stamped import kernel_stamps_supported, open_stamped

# How long close() waits for connections to finish closing before it aborts them.
_CLOSE_GRACE_S = 2.0


class HttpClient:
    """HTTP/1.1 client for one endpoint, built for sending many small requests fast.

    Idle keep-alive connections are reused (most recently used first); when none is idle a new
    one is opened, up to ``max_connections`` (None: no limit), and beyond that requests queue
    until a connection is free. ``timeout_s`` bounds each request from the moment it is written
    until its answer is complete, and separately bounds opening a connection. An answer whose
    body exceeds ``max_body_bytes`` (or whose headers exceed 256 KiB) fails with
    `ProtocolFailure` and its connection is dropped.

    Every network failure is one of: `ConnectFailed` (refused, unreachable, TLS handshake
    failed, connect timed out), `RequestTimeout`, `ConnectionReset` (the peer closed or reset
    the connection before the answer was complete) and `ProtocolFailure` (not valid HTTP).
    A request that never reached the server, or an idempotent one whose reused connection was
    found closed by the server before any answer, is sent once more on a new connection (its
    ``sent_at`` is then that of the second send).

    Use it from one event loop (asyncio or uvloop); ``close()`` ends it.
    """

    __slots__ = (
        "_all",
        "_closed",
        "_idle",
        "_kernel_stamps",
        "_max",
        "_max_body_bytes",
        "_open",
        "_timeout_s",
        "_waiters",
        "endpoint",
    )

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout_s: float = 30.0,
        max_connections: int | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        kernel_stamps: bool = False,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be >= 1 or None, got {max_connections}")
        self.endpoint = endpoint
        self._timeout_s = timeout_s
        self._max = max_connections
        self._max_body_bytes = max_body_bytes
        # Plain TCP on Linux only: see _stamped for why and where the kernel's stamps apply.
        self._kernel_stamps = kernel_stamps and endpoint.tls is None and kernel_stamps_supported()
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()
        self._open = 0  # connected plus connecting
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._closed = False

    async def request(
        self,
        request: PreparedRequest,
        on_body: BodyListener | None = None,
        on_head: HeadListener | None = None,
        control: ReadControl | None = None,
    ) -> Response:
        """Send ``request`` and return the complete answer (any status).

        With ``on_body`` the body is handed over piece by piece as it arrives, each piece with
        its receive time, and ``Response.body`` is empty; ``on_head`` hears the status and
        headers first. Cancelling the call closes the connection the request was on (the rest
        of a long stream is not read). ``control`` can pause reading the answer meanwhile.
        """
        idle = self._idle
        connection = idle.pop() if idle else await self._acquire(fresh=False)
        waiter = None
        try:
            waiter = connection.send(request, on_body, on_head)
            if control is not None:
                control.bind(connection, waiter)
            return await waiter
        except Unanswered as exc:
            if exc.sent and not request.idempotent:
                raise ConnectionReset(str(exc)) from None
        except asyncio.CancelledError:
            if waiter is not None:
                connection.cancel(waiter)
            raise
        connection = await self._acquire(fresh=True)
        waiter = None
        try:
            waiter = connection.send(request, on_body, on_head)
            if control is not None:
                control.bind(connection, waiter)
            return await waiter
        except Unanswered as exc:
            raise ConnectionReset(str(exc)) from None
        except asyncio.CancelledError:
            if waiter is not None:
                connection.cancel(waiter)
            raise

    async def close(self) -> None:
        """Close every connection; requests still waiting or in flight fail with
        ConnectionReset. Further requests raise RuntimeError."""
        self._closed = True
        reason = f"the client for {self.endpoint} was closed"
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionReset(reason))
        pending = [lost for c in list(self._all) if (lost := c.shut(reason)) is not None]
        if pending:
            _, stragglers = await asyncio.wait(pending, timeout=_CLOSE_GRACE_S)
            if stragglers:
                for connection in list(self._all):
                    connection.abort()
                await asyncio.wait(stragglers, timeout=_CLOSE_GRACE_S)
        self._idle.clear()
        self._all.clear()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def open_connections(self) -> int:
        """Connections open or being opened."""
        return self._open

    # -- the pool --------------------------------------------------------------------------

    async def _acquire(self, *, fresh: bool) -> Connection:
        """An idle connection (unless ``fresh``), a new one, or the next one freed."""
        if self._closed:
            raise RuntimeError(f"the client for {self.endpoint} is closed")
        while True:
            if self._idle and not fresh:
                return self._idle.pop()
            if self._max is None or self._open < self._max:
                return await self._connect()
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    # Handed over just as the caller was cancelled: pass it on.
                    handed = waiter.result()
                    if handed is None:
                        self._wake()
                    else:
                        self.on_connection_idle(handed)
                raise
            if connection is not None:
                return connection
            fresh = False  # a slot was freed: take an idle connection or open one

    async def _connect(self) -> Connection:
        self._open += 1
        loop = asyncio.get_running_loop()
        endpoint = self.endpoint
        timeout_s = self._timeout_s
        try:
            async with asyncio.timeout(timeout_s) as deadline:
                if self._kernel_stamps:
                    connection = await open_stamped(
                        loop,
                        lambda: Connection(self, loop, timeout_s, self._max_body_bytes),
                        endpoint.host,
                        endpoint.port,
                    )
                else:
                    _, connection = await loop.create_connection(
                        lambda: Connection(self, loop, timeout_s, self._max_body_bytes),
                        endpoint.host,
                        endpoint.port,
                        ssl=endpoint.tls,
                        server_hostname=endpoint.server_hostname,
                    )
        except BaseException as exc:
            self._open -= 1
            self._wake()
            if isinstance(exc, TimeoutError) and deadline.expired():
                raise ConnectFailed(
                    f"could not connect to {endpoint} within {timeout_s} s"
                ) from None
            if isinstance(exc, OSError):  # refused, unreachable, DNS, TLS handshake
                raise ConnectFailed(f"cannot connect to {endpoint}: {exc}") from None
            raise
        self._all.add(connection)
        if self._closed:
            reason = f"the client for {endpoint} was closed"
            connection.shut(reason)
            raise ConnectionReset(reason)
        if connection.closed:
            # Lost before it was registered: free its slot now; send() will say it is closed.
            self.on_connection_closed(connection)
        return connection

    def on_connection_idle(self, connection: Connection) -> None:
        """``connection`` finished a request and stays open: give it to a waiter or park it."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def on_connection_closed(self, connection: Connection) -> None:
        """``connection`` is closed for good: free its slot."""
        if connection not in self._all:
            return
        self._all.remove(connection)
        self._open -= 1
        if connection in self._idle:
            self._idle.remove(connection)
        self._wake()

    def _wake(self) -> None:
        """A slot is free: let the first waiter open a connection."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
