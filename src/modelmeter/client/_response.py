"""What one request gives back, with its timestamps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BodyListener = Callable[[bytes, int], None]
"""Receives each de-chunked body piece and ``time.monotonic_ns()`` of the read it came in.

It runs inside the connection's receive path: keep it short. An exception it raises fails the
request with that exception (a `TargetError` it raises reaches the caller as is).
"""

HeadListener = Callable[[int, list[tuple[bytes, bytes]]], None]
"""Receives the final status and the raw headers as soon as the head is read, before any body
piece; same rules as `BodyListener`."""


class ReadControl:
    """Pause and resume reading one request's answer, for a caller that passes it on to a
    slower reader (a gateway whose client stopped reading): without it the answer would pile
    up in memory. Give it to `HttpClient.request`; calls outside that request do nothing."""

    __slots__ = ("_connection", "_waiter")

    def __init__(self) -> None:
        self._connection: Any = None
        self._waiter: Any = None

    def bind(self, connection: Any, waiter: Any) -> None:
        self._connection = connection
        self._waiter = waiter

    def pause(self) -> None:
        if self._connection is not None:
            self._connection.pause_reading_for(self._waiter)

    def resume(self) -> None:
        if self._connection is not None:
            self._connection.resume_reading_for(self._waiter)


@dataclass(slots=True)
class Response:
    """A complete HTTP response. Any status, 4xx and 5xx included, is a Response, not an error.

    Timestamps are ``time.monotonic_ns()``: ``sent_at`` just before the request was written,
    ``first_byte_at`` when the first bytes of the answer were read, ``done_at`` when the message
    was complete. ``headers`` are raw ``(name, value)`` pairs in arrival order, names as sent.
    """

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    sent_at: int
    first_byte_at: int
    done_at: int

    @property
    def service_time_ns(self) -> int:
        return self.done_at - self.sent_at

    def header(self, name: str) -> bytes | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None
