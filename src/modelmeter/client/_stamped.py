"""A plain-TCP transport whose every read carries the kernel's receive time.

Why: a load generator stamps an answer when its event loop gets round to reading it. When a
hundred streams answer in the same millisecond, the loop reads the sockets one after another,
and between two reads it parses, records and sends the next request: the last socket of the
burst is stamped milliseconds after its bytes arrived, and that delay lands in its TTFT (the
timing-truth benchmark measured +7 ms at p99 for 100 streams started together). The kernel
stamps each packet as it arrives (``SO_TIMESTAMPNS``); ``recvmsg`` hands that stamp over with
the bytes, however late the loop reads them.

One limit, the kernel's: a read carries one stamp, and TCP merges segments that wait in the
receive queue together, keeping the newest one's stamp. So bytes followed by more before the
loop reads them are stamped when the later ones arrived: never earlier than the truth, at worst
as late as the loop's own read. (Peeking the first byte alone was tried: after a merge it
carries the newest stamp too.) For a first token that means: exact unless the next token also
came before the loop got round to the socket.

The kernel's stamp is wall-clock time (``CLOCK_REALTIME``); it is turned into the monotonic
clock every other stamp uses by the offset between the two clocks read at the same read, so a
wall-clock step between packet and read is the only error, and a stamp is clamped to the
read's own monotonic time (never later than the loop saw it).

Only what `Connection` uses of an asyncio transport is here: ``write`` (written at once;
what the socket does not take is queued and written when it is writable), ``close`` (after the
queue drains), ``abort``, ``is_closing``; and the protocol's ``connection_made``,
``data_received_at`` (bytes and their monotonic receive time), ``eof_received`` and
``connection_lost``. TLS connections keep the event loop's own transport: the kernel stamps
the encrypted records, which the TLS layer then decodes in pieces that no longer match them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
import threading
from collections.abc import Callable
from time import monotonic_ns, time_ns
from typing import Any, Protocol, TypeVar

__all__ = ["StampedTransport", "kernel_stamps_supported", "open_stamped"]

SO_TIMESTAMPNS = 35  # Linux, all architectures (asm-generic/socket.h): SO_TIMESTAMPNS_OLD
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_READ_BYTES = 256 * 1024
_TIMESPEC = struct.Struct("@qq")  # struct timespec on 64-bit Linux: seconds, nanoseconds
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
_buffers = threading.local()


def _buffer() -> bytearray:
    """This thread's read buffer: one for all connections of its loop, since reads never
    overlap, instead of a fresh 256 KiB allocation (an mmap and munmap) per read."""
    buffer: bytearray | None = getattr(_buffers, "buffer", None)
    if buffer is None:
        buffer = _buffers.buffer = bytearray(_READ_BYTES)
    return buffer


class StampedProtocol(Protocol):
    # Any: an asyncio protocol's signature takes an asyncio transport, which this is not.
    def connection_made(self, transport: Any) -> None: ...
    def data_received_at(self, data: bytes | bytearray, received_ns: int) -> None: ...
    def eof_received(self) -> bool | None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...


def kernel_stamps_supported() -> bool:
    """Linux with 64-bit ``time_t``: where ``SO_TIMESTAMPNS`` means what this module reads."""
    return sys.platform == "linux" and _TIMESPEC.size == 16 and _ANCILLARY > 0


class StampedTransport:
    __slots__ = ("_closing", "_fd", "_loop", "_lost", "_pending", "_protocol", "_sock")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol: StampedProtocol
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._pending = bytearray()
        self._closing = False
        self._lost = False
        protocol.connection_made(self)
        loop.add_reader(self._fd, self._read)

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = _buffer()
        try:
            size, ancillary, _flags, _address = self._sock.recvmsg_into([buffer], _ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lose(exc)
            return
        if not size:
            self._loop.remove_reader(self._fd)
            keep_open = self._protocol.eof_received()
            if not keep_open:
                self._lose(None)
            return
        now = monotonic_ns()
        received = now
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
                # Wall-clock stamp to monotonic: the two clocks' offset, read now.
                stamped = seconds * 1_000_000_000 + nanoseconds - (time_ns() - monotonic_ns())
                received = min(stamped, now)
        self._protocol.data_received_at(buffer[:size], received)

    def pause_reading(self) -> None:
        if not self.is_closing():
            self._loop.remove_reader(self._fd)

    def resume_reading(self) -> None:
        if not self.is_closing():
            self._loop.add_reader(self._fd, self._read)

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._closing:
            raise RuntimeError("write on a closing transport")
        if self._pending:
            self._pending += data
            return
        try:
            sent = self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._loop.call_soon(self._lose, exc)
            return
        if sent < len(data):
            self._pending += data[sent:]
            self._loop.add_writer(self._fd, self._flush)

    def _flush(self) -> None:
        try:
            sent = self._sock.send(self._pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lose(exc)
            return
        del self._pending[:sent]
        if not self._pending:
            self._loop.remove_writer(self._fd)
            if self._closing:
                self._lose(None)

    # -- closing ---------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing or self._lost

    def close(self) -> None:
        """Close once what was written has left; the protocol hears of it on the next turn."""
        if self.is_closing():
            return
        self._closing = True
        self._loop.remove_reader(self._fd)
        if not self._pending:
            self._loop.call_soon(self._lose, None)

    def abort(self) -> None:
        if self._lost:
            return
        self._closing = True
        self._pending.clear()
        self._loop.call_soon(self._lose, None)

    def _lose(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._loop.remove_reader(self._fd)
        self._loop.remove_writer(self._fd)
        with contextlib.suppress(OSError):
            self._sock.close()
        self._protocol.connection_lost(exc)


_P = TypeVar("_P", bound=StampedProtocol)


async def open_stamped(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], _P],
    host: str,
    port: int,
) -> _P:
    """Connect to ``host:port`` (every address it resolves to, in order, as asyncio does) and
    return the protocol, already told of its transport."""
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    if not infos:
        raise OSError(f"{host} resolves to no address")
    errors: list[OSError] = []
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
            continue
        except BaseException:
            sock.close()
            raise
        protocol = protocol_factory()
        StampedTransport(loop, sock, protocol)
        return protocol
    if len(errors) == 1:
        raise errors[0]
    raise OSError(f"cannot connect to {host}:{port}: " + "; ".join(str(e) for e in errors))
