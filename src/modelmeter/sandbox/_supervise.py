"""Watching one sandboxed program from outside: its output, its end, its timeout, a cancel.

The parent side of a run after the launcher has started (see ``_runner``): stdout and stderr are
read as they come and kept up to a bound (start and end), the status pipe is collected, and the
launcher is stopped on the wall-clock timeout or when the caller cancels the batch; its process
group is swept and it is reaped. The launcher itself is never waited on blindly: a pidfd (or
``waitid`` without reaping) tells when it has exited, so its process group cannot be reused by
another process before the final sweep.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time

from modelmeter.sandbox._limits import SandboxLimits

__all__ = ["supervise"]

# How long the supervisor gets to tear the PID namespace down after a timeout before the whole
# process group is killed; and how long output is still read once the program has ended.
_STOP_GRACE_S = 5.0
_DRAIN_GRACE_S = 1.0
_POLL_S = 0.02
_CANCEL_POLL_S = 0.1


class _Capture:
    """Keeps the first ``limit`` bytes and, once past them, the last ``limit // 2``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            keep = self.limit // 2
            if len(self.tail) > 2 * keep:
                del self.tail[: len(self.tail) - keep]

    def text(self) -> str:
        if not self.tail:
            return self.head.decode("utf-8", "replace")
        keep = self.limit // 2
        head, tail = self.head[:keep], self.tail[-keep:]
        omitted = self.total - len(head) - len(tail)
        marker = f"\n[... {omitted} bytes of output omitted ...]\n"
        return head.decode("utf-8", "replace") + marker + tail.decode("utf-8", "replace")


class _ExitWatch:
    """Tells when the launcher has exited without reaping it, so that its process group
    cannot be reused by another process before the final sweep."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.fd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.fd = os.pidfd_open(process.pid)

    def exited(self) -> bool:
        if self.fd is not None:
            with selectors.DefaultSelector() as selector:
                selector.register(self.fd, selectors.EVENT_READ)
                return bool(selector.select(0))
        if hasattr(os, "waitid"):
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.process.pid, flags) is not None
        return self.process.poll() is not None

    def wait(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not self.exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)
        return True

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def supervise(
    process: subprocess.Popen[bytes],
    status_read: int,
    limits: SandboxLimits,
    isolated: bool,
    start: float,
    cancel: threading.Event | None = None,
) -> tuple[tuple[str, str], bytes, bool]:
    """Read the output until the launcher ends or the timeout strikes (or ``cancel`` is set);
    stop it, sweep its process group, reap it. Returns (stdout, stderr), the status pipe's
    bytes, and whether it was stopped before its end."""
    assert process.stdout is not None and process.stderr is not None
    bound = limits.output_kb * 1024
    captures = {process.stdout.fileno(): _Capture(bound), process.stderr.fileno(): _Capture(bound)}
    status = bytearray()
    watch = _ExitWatch(process)
    selector = selectors.DefaultSelector()
    for fd in (*captures, status_read):
        selector.register(fd, selectors.EVENT_READ)
    if watch.fd is not None:
        selector.register(watch.fd, selectors.EVENT_READ)
    open_fds = {*captures, status_read}
    deadline = start + limits.timeout_s
    timed_out = exited = stopped = False
    try:
        while not exited:
            remaining = deadline - time.monotonic()
            if cancel is not None and cancel.is_set():
                remaining = 0
            if remaining <= 0:
                # A program that ended while this thread was not scheduled did not time out.
                exited = watch.exited()
                timed_out = not exited
                break
            wait_s = remaining if watch.fd is not None else min(remaining, _POLL_S)
            if cancel is not None:
                wait_s = min(wait_s, _CANCEL_POLL_S)
            for key, _ in selector.select(wait_s):
                if key.fd == watch.fd:
                    exited = True
                else:
                    _read(key.fd, captures, status, selector, open_fds)
            if watch.fd is None:
                exited = exited or watch.exited()
        if timed_out:
            # Isolated: the launcher kills the namespace's init and returns once every process
            # in it is gone. Either way the whole group is killed after that, or instead.
            if isolated:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                watch.wait(_STOP_GRACE_S)
            _kill_group(process)
        else:
            _kill_group(process)  # unsafe runs: background processes left in the group
        stopped = True
        if watch.fd is not None:
            selector.unregister(watch.fd)
        # Read what is left. Data already in a pipe is read however late it is; only a pipe
        # held open by an escaped process (unsafe runs) is given up after the grace period.
        drain_until = time.monotonic() + _DRAIN_GRACE_S
        give_up = drain_until + 10 * _DRAIN_GRACE_S  # an escaped process that keeps writing
        while open_fds:
            ready = selector.select(max(drain_until - time.monotonic(), 0))
            if not ready or time.monotonic() > give_up:
                break
            for key, _ in ready:
                _read(key.fd, captures, status, selector, open_fds)
    finally:
        if not stopped:  # interrupted (KeyboardInterrupt): leave nothing running
            _kill_group(process)
        selector.close()
        watch.close()
        os.close(status_read)
        process.wait()
    out, err = captures.values()
    return (out.text(), err.text()), bytes(status), timed_out


def _read(
    fd: int,
    captures: dict[int, _Capture],
    status: bytearray,
    selector: selectors.BaseSelector,
    open_fds: set[int],
) -> None:
    data = os.read(fd, 65536)
    if not data:
        selector.unregister(fd)
        open_fds.discard(fd)
        return
    if fd in captures:
        captures[fd].feed(data)
    else:
        status += data
