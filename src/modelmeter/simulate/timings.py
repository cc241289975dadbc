"""The simulator's own record of when it did what: the timing truth a client is checked against.

Every time is a ``time.monotonic_ns()`` reading taken in the server process. On Linux and macOS
that clock is shared by all processes of the machine, so a client on the same machine can
compare its receive times with the server's write times directly.

One JSON object per completion request, in ``GET /debug/timings`` (a list) and in the
``--timings-log`` file (one line each)::

    {"request_id": "...", "completion_id": "chatcmpl-...", "path": "/v1/chat/completions",
     "stream": true, "status": 200, "arrived_ns": ..., "slot_started_ns": ...,
     "headers_written_ns": ..., "finished_ns": ..., "ttft_ns": ..., "prompt_tokens": 12,
     "output_tokens": 64, "reasoning_tokens": 0, "finish_reason": "stop", "cancelled": false,
     "chunks": {"kind": [...], "tokens": [...], "scheduled_ns": [...], "written_ns": [...]}}

``chunks`` lists every write of the answer in order, as parallel arrays: ``kind`` is one of
``role``, ``reasoning``, ``content``, ``finish``, ``usage``, ``done`` (streamed server-sent
events), ``response`` (a whole non-streamed answer) or ``error``; ``tokens`` the output tokens
it carries; ``scheduled_ns`` when it was due; ``written_ns`` when the server handed its bytes to
the socket (read just before the write call, so it never postdates the bytes leaving).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ChunkTiming", "RequestTiming", "SendAccuracy", "send_accuracy"]

TOKEN_KINDS = ("reasoning", "content")


@dataclass(frozen=True, slots=True)
class ChunkTiming:
    """One write of an answer (see the module docstring for the kinds)."""

    kind: str
    tokens: int
    scheduled_ns: int
    written_ns: int

    @property
    def late_ns(self) -> int:
        """How long after its due time the write happened (never negative: nothing goes early)."""
        return self.written_ns - self.scheduled_ns


@dataclass(frozen=True, slots=True)
class RequestTiming:
    """What the server did with one completion request, with its own clock's times.

    ``request_id`` is the client's ``x-request-id`` header when it sent one, else the completion
    id (also returned in the ``x-request-id`` response header). ``arrived_ns`` is when the whole
    request had been read, ``slot_started_ns`` when generation began (later than arrival when
    all slots were busy), ``finished_ns`` the last write. ``ttft_ns`` is the drawn time to first
    token, counted from the slot start. ``cancelled`` means the client went away first.
    """

    request_id: str
    completion_id: str | None
    path: str
    stream: bool
    status: int
    arrived_ns: int
    slot_started_ns: int | None
    headers_written_ns: int | None
    finished_ns: int | None
    ttft_ns: int | None
    prompt_tokens: int
    output_tokens: int
    reasoning_tokens: int
    finish_reason: str | None
    cancelled: bool
    chunks: tuple[ChunkTiming, ...]

    @property
    def token_chunks(self) -> tuple[ChunkTiming, ...]:
        """The chunks that carry output tokens (reasoning or content), in order."""
        return tuple(chunk for chunk in self.chunks if chunk.kind in TOKEN_KINDS)

    @property
    def first_token_written_ns(self) -> int | None:
        """When the first chunk carrying output tokens (or the whole answer) was written."""
        for chunk in self.chunks:
            if chunk.kind in TOKEN_KINDS or chunk.kind == "response":
                return chunk.written_ns
        return None

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> RequestTiming:
        """Read one record as ``/debug/timings`` and the timings log write it."""
        chunks = record["chunks"]
        return cls(
            request_id=str(record["request_id"]),
            completion_id=record["completion_id"],
            path=str(record["path"]),
            stream=bool(record["stream"]),
            status=int(record["status"]),
            arrived_ns=int(record["arrived_ns"]),
            slot_started_ns=record["slot_started_ns"],
            headers_written_ns=record["headers_written_ns"],
            finished_ns=record["finished_ns"],
            ttft_ns=record["ttft_ns"],
            prompt_tokens=int(record["prompt_tokens"]),
            output_tokens=int(record["output_tokens"]),
            reasoning_tokens=int(record["reasoning_tokens"]),
            finish_reason=record["finish_reason"],
            cancelled=bool(record["cancelled"]),
            chunks=tuple(
                ChunkTiming(str(kind), int(tokens), int(scheduled), int(written))
                for kind, tokens, scheduled, written in zip(
                    chunks["kind"],
                    chunks["tokens"],
                    chunks["scheduled_ns"],
                    chunks["written_ns"],
                    strict=True,
                )
            ),
        )


@dataclass(frozen=True, slots=True)
class SendAccuracy:
    """How late the server's writes were against their schedule, in microseconds."""

    count: int
    p50_us: float
    p99_us: float
    max_us: float
    mean_us: float


def send_accuracy(
    timings: Iterable[RequestTiming], kinds: Sequence[str] = TOKEN_KINDS
) -> SendAccuracy:
    """Lateness (written − scheduled) of the chunks of ``kinds`` over ``timings``.

    The default counts only token-carrying chunks: those whose time a simulated model sets.
    """
    late = sorted(
        chunk.late_ns / 1000.0
        for timing in timings
        for chunk in timing.chunks
        if chunk.kind in kinds
    )
    if not late:
        raise ValueError("no chunks of the kinds asked for in these timings")
    return SendAccuracy(
        count=len(late),
        p50_us=_quantile(late, 0.50),
        p99_us=_quantile(late, 0.99),
        max_us=late[-1],
        mean_us=statistics.fmean(late),
    )


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default method)."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
