"""Runs callbacks at absolute ``time.monotonic_ns()`` times, never early and as little late as
the event loop allows.

Event-loop timers are coarse: uvloop (libuv) counts in whole milliseconds and rounds delays,
so a timer may fire up to a millisecond early or late. The pacer therefore keeps one heap of due
times and one timer: it sleeps until ``busy_wait_ns`` before the earliest due time, then polls
the clock on every loop iteration (``call_soon``; socket I/O is still served in between) and
runs each callback as soon as its time has come. A callback is never run before its due time,
whatever the timer does. ``busy_wait_ns=0`` leaves the timing to the timers, rounded up to whole
milliseconds: no polling, so little CPU, but sends up to about a millisecond late.

Work that is not due at any particular time (writing the timings log) is `defer`-red: it runs
between due callbacks, only while nothing is due within ``IDLE_MARGIN_NS``, so it never delays
a send that is about to be due.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable

_monotonic_ns = time.monotonic_ns
IDLE_MARGIN_NS = 300_000


class Pacer:
    """A heap of ``(due_ns, callback)``; each callback gets its due time as argument."""

    def __init__(self, loop: asyncio.AbstractEventLoop, busy_wait_ns: int) -> None:
        self._loop = loop
        self._busy_wait_ns = busy_wait_ns
        self._heap: list[tuple[int, int, Callable[[int], None]]] = []
        self._order = itertools.count()  # ties run in the order they were added
        self._handle: asyncio.Handle | None = None
        self._handle_due = 0  # the due time the pending timer wakes for; 0 while polling
        self._running = False
        self._deferred: deque[Callable[[], None]] = deque()

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, due_ns: int, callback: Callable[[int], None]) -> None:
        """Run ``callback(due_ns)`` once ``time.monotonic_ns() >= due_ns``."""
        heapq.heappush(self._heap, (due_ns, next(self._order), callback))
        if self._running:
            return  # `_run_due` re-arms once it is done
        if self._handle is None:
            self._arm(_monotonic_ns())
        elif self._handle_due and due_ns < self._handle_due:
            self._handle.cancel()
            self._arm(_monotonic_ns())

    def defer(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` when nothing is due for a while (soon, on an idle server)."""
        self._deferred.append(callback)
        if self._running:
            return  # `_run_due` re-arms once it is done
        if self._handle is None:
            self._arm(_monotonic_ns())
        elif self._handle_due:  # a timer sleeps until shortly before the next due: wake sooner
            self._handle.cancel()
            self._arm(_monotonic_ns())

    def run_deferred(self) -> None:
        """Run all deferred callbacks now."""
        while self._deferred:
            self._deferred.popleft()()

    def close(self) -> None:
        """Forget everything still due; run what was deferred."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._heap.clear()
        self.run_deferred()

    def _arm(self, now: int) -> None:
        if not self._heap:
            self._handle = self._loop.call_soon(self._run_due) if self._deferred else None
            self._handle_due = 0
            return
        wait = self._heap[0][0] - now
        if self._deferred and wait > IDLE_MARGIN_NS:
            self._handle = self._loop.call_soon(self._run_due)
            self._handle_due = 0
            return
        if wait <= self._busy_wait_ns:
            self._handle = self._loop.call_soon(self._run_due)
            self._handle_due = 0
        else:
            delay_s = (wait - self._busy_wait_ns) / 1e9
            if not self._busy_wait_ns:  # uvloop rounds to whole ms: round up, not to nearest
                delay_s = math.ceil(delay_s * 1000) / 1000
            self._handle = self._loop.call_later(delay_s, self._run_due)
            self._handle_due = self._heap[0][0]

    def _run_due(self) -> None:
        self._handle = None
        heap = self._heap
        self._running = True
        try:
            now = _monotonic_ns()
            while heap and heap[0][0] <= now:
                due, _, callback = heapq.heappop(heap)
                callback(due)
                now = _monotonic_ns()
            deferred = self._deferred
            while deferred and (not heap or heap[0][0] - now > IDLE_MARGIN_NS):
                deferred.popleft()()
                now = _monotonic_ns()
        finally:
            self._running = False
            self._arm(_monotonic_ns())
