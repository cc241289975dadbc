"""The event loop every modelmeter process runs on: uvloop where it is installed.

Chosen when a process starts its loop, never at import, and never by setting a global policy, so
that a library caller's own loop is left alone (uvloop is not available on Windows; asyncio's
loop works there, slower).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

__all__ = ["loop_factory", "run", "stop_signals", "wait_for_stop"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` when uvloop is installed, else None (asyncio's default)."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a new loop of the fastest kind available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coroutine)


def stop_signals() -> tuple[signal.Signals, ...]:
    """SIGINT and SIGTERM where this thread may handle signals (the main thread), else none."""
    if threading.current_thread() is threading.main_thread():
        return (signal.SIGINT, signal.SIGTERM)
    return ()


async def wait_for_stop(
    signals: tuple[signal.Signals, ...],
    on_ready: Callable[[], None] | None = None,
    others: Mapping[signal.Signals, Callable[[], None]] | None = None,
) -> None:
    """What a foreground server does once it listens: stop on any of ``signals``, call
    ``others``' callbacks on theirs (only where the stop signals could be installed), tell
    ``on_ready``, wait; the handlers are removed on the way out."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []
    try:
        for signum in signals:
            try:
                loop.add_signal_handler(signum, stop.set)
            except NotImplementedError:  # Windows: Ctrl-C raises KeyboardInterrupt instead
                break
            installed.append(signum)
        if installed:
            for signum, callback in (others or {}).items():
                loop.add_signal_handler(signum, callback)
                installed.append(signum)
        if on_ready is not None:
            on_ready()
        await stop.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
