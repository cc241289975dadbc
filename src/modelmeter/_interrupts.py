"""Holding a second Ctrl-C off while a partial report is written.

The first Ctrl-C of a run stops the measuring and the run writes what it measured. A second one,
pressed while that report is being built and written (a second or two), used to raise
KeyboardInterrupt in the middle of it: the partial report was lost and tracebacks were printed.
While `interrupts_deferred` is active, Ctrl-C only says that the report is on its way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["hold_off_interrupts", "interrupts_deferred"]


def _once(on_interrupt: Callable[[], None]) -> Callable[[int, FrameType | None], None]:
    told = False

    def note(signum: int, frame: FrameType | None) -> None:
        nonlocal told
        if not told:
            told = True
            on_interrupt()

    return note


@contextmanager
def interrupts_deferred(on_interrupt: Callable[[], None]) -> Iterator[None]:
    """Within the block, SIGINT calls ``on_interrupt`` (once) instead of interrupting; the
    previous handler is back afterwards. Only the main thread can set signal handlers:
    elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _once(on_interrupt))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def hold_off_interrupts(on_interrupt: Callable[[], None]) -> None:
    """From now on SIGINT only calls ``on_interrupt`` (once): for a command whose last step is
    writing what was asked for, through to its exit."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _once(on_interrupt))
