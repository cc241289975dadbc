"""What workers and the parent say to each other: framed, pickled messages; outcomes as rows in
batches; errors rebuilt as the same class on the other side.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import pickle
import struct
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from modelmeter._exceptions import WorkerFailed
from modelmeter.load.outcome import Outcome

__all__ = [
    "FLUSH_INTERVAL_S",
    "OUTCOME_FIELDS",
    "ClosedWaiter",
    "ErrorReport",
    "FrameReader",
    "Outbox",
    "encode_frame",
    "error_report",
    "outcome_row",
    "rebuild_error",
]


# Workers send their outcomes when this many are waiting, or at least this often.
_BATCH = 1_000
FLUSH_INTERVAL_S = 0.1
# Messages on both pipes: a 4-byte big-endian length, then a pickle.
_HEADER = struct.Struct("!I")
_PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL

# Outcomes travel as tuples of their fields in declaration order (measured: about 5x faster to
# encode than pickling the objects and about 1.4x faster to decode, at 56% of the bytes).
OUTCOME_FIELDS = tuple(field.name for field in dataclasses.fields(Outcome))
outcome_row = attrgetter(*OUTCOME_FIELDS)


@dataclass(frozen=True, slots=True)
class ErrorReport:
    module: str
    qualname: str
    message: str
    state: dict[str, Any]
    trace: str
    pickled: bytes | None


def error_report(exc: BaseException) -> ErrorReport:
    cls = type(exc)
    state: dict[str, Any] = {}
    for key, value in getattr(exc, "__dict__", {}).items():
        if key == "__notes__":
            continue
        try:
            pickle.dumps(value, _PICKLE_PROTOCOL)
        except Exception:
            continue
        state[key] = value
    pickled: bytes | None = None
    try:
        blob = pickle.dumps(exc, _PICKLE_PROTOCOL)
        back = pickle.loads(blob)
        # Exceptions whose __init__ does not take their own args back do not survive pickling
        # (their message comes out changed): those are rebuilt from class, message and state.
        if type(back) is cls and str(back) == str(exc):
            pickled = blob
    except Exception:
        pickled = None
    trace = "".join(traceback.format_exception(exc))
    return ErrorReport(cls.__module__, cls.__qualname__, str(exc), state, trace, pickled)


def rebuild_error(report: ErrorReport, worker: int) -> BaseException:
    """The worker's exception as the same class, message and attributes, where possible."""
    exc: BaseException | None = None
    if report.pickled is not None:
        with contextlib.suppress(Exception):
            exc = pickle.loads(report.pickled)
    if exc is None:
        try:
            found: Any = importlib.import_module(report.module)
            for part in report.qualname.split("."):
                found = getattr(found, part)
            if not (isinstance(found, type) and issubclass(found, BaseException)):
                raise TypeError(f"{report.qualname} is not an exception class")
            exc = found.__new__(found)
            exc.args = (report.message,)
            exc.__dict__.update(report.state)
        except Exception:
            exc = WorkerFailed(f"{report.module}.{report.qualname}: {report.message}")
    exc.add_note(f"raised in load worker {worker}:\n{report.trace.rstrip()}")
    return exc


def encode_frame(message: object) -> bytes:
    payload = pickle.dumps(message, _PICKLE_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


class FrameReader(asyncio.Protocol):
    """Reads length-prefixed pickles from a pipe and hands each to ``on_message``."""

    def __init__(self, on_message: Callable[[Any], None], on_closed: Callable[[], None]) -> None:
        self._buffer = bytearray()
        self._on_message = on_message
        self._on_closed = on_closed

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        offset = 0
        size = len(buffer)
        while size - offset >= _HEADER.size:
            (length,) = _HEADER.unpack_from(buffer, offset)
            end = offset + _HEADER.size + length
            if size < end:
                break
            message = pickle.loads(bytes(buffer[offset + _HEADER.size : end]))
            offset = end
            self._on_message(message)
        del buffer[:offset]

    def eof_received(self) -> bool | None:
        return None  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_closed()


class ClosedWaiter(asyncio.Protocol):
    """Write side of a pipe: tells when the transport is gone (flushed, or the reader left)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.closed: asyncio.Future[None] = loop.create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class Outbox:
    """The worker's side of the data pipe: outcomes batched, messages never block the loop."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self._transport = transport
        self._batch: list[tuple[Any, ...]] = []

    def send(self, message: object) -> None:
        if not self._transport.is_closing():
            self._transport.write(encode_frame(message))

    def add(self, outcome: Outcome) -> None:
        batch = self._batch
        batch.append(outcome_row(outcome))
        if len(batch) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self.send(("outcomes", batch))

    async def flush_every(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.flush()
