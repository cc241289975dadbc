"""One worker process: builds its target, waits for the common start, runs its share of the plan
on the engine's loops and sends the outcomes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from modelmeter._loop import loop_factory
from modelmeter.data.sample import Sample
from modelmeter.load.engine import closed_loop, dealt_arrivals, open_loop
from modelmeter.load.multiprocess.messages import (
    FLUSH_INTERVAL_S,
    ClosedWaiter,
    FrameReader,
    Outbox,
    error_report,
)
from modelmeter.load.multiprocess.shares import Share
from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import (
    LoadPlan,
    measured_window_ns,
)
from modelmeter.targets.base import Target
from modelmeter.targets.registry import create_target

__all__ = ["Job", "worker_main"]


@dataclass(frozen=True, slots=True)
class Job:
    target_spec: Any
    samples: Sequence[Sample]
    plan: LoadPlan
    share: Share


def worker_main(job: Job, ctrl: Connection, data: Connection) -> None:
    """Entry point of a worker process."""
    # Ctrl-C reaches the whole process group; the parent decides, and tells workers to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if job.share.cpu is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {job.share.cpu})
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_worker(job, ctrl, data))


async def _worker(job: Job, ctrl: Connection, data: Connection) -> None:
    loop = asyncio.get_running_loop()
    transport, closed = await loop.connect_write_pipe(lambda: ClosedWaiter(loop), data)
    outbox = Outbox(transport)
    inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    # The parent closing its end (or dying) means stop.
    ctrl_transport, _ = await loop.connect_read_pipe(
        lambda: FrameReader(inbox.put_nowait, lambda: inbox.put_nowait(("stop",))), ctrl
    )
    target: Target | None = None
    cpu_s = 0.0
    try:
        try:
            target = create_target(job.target_spec)
            await target.start()
        except Exception as exc:
            outbox.send(("failed", error_report(exc)))
            return
        outbox.send(("ready",))
        message = await inbox.get()
        if message[0] != "start":
            return
        cpu_before = time.process_time()
        flusher = asyncio.create_task(outbox.flush_every(FLUSH_INTERVAL_S))
        run = asyncio.create_task(_run_share(target, job, message[1], outbox.add))
        stop = asyncio.create_task(inbox.get())
        try:
            await asyncio.wait((run, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (run, stop, flusher):
                task.cancel()
            await asyncio.gather(run, stop, flusher, return_exceptions=True)
        cpu_s = time.process_time() - cpu_before
        outbox.flush()
        if not run.cancelled() and (failure := run.exception()) is not None:
            outbox.send(("failed", error_report(failure)))
    finally:
        outbox.flush()
        if target is not None:
            # What is measured has been sent; a target that fails to close changes none of it.
            with contextlib.suppress(Exception):
                await target.close()
        outbox.send(("done", cpu_s))
        transport.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CLOSE_WAIT_S):
                await closed.closed
        ctrl_transport.close()


# How long a finished worker waits for the parent to read its last messages.
_CLOSE_WAIT_S = 10.0


async def _run_share(
    target: Target, job: Job, start_ns: int, emit: Callable[[Outcome], None]
) -> None:
    """This worker's share of the plan, run by the engine's one closed or open loop."""
    plan, share = job.plan, job.share
    if plan.mode == "concurrency":
        await closed_loop(
            target,
            job.samples,
            share.indices(),
            coroutines=share.concurrency,
            start_ns=start_ns,
            warmup_s=plan.warmup_s,
            duration_s=plan.duration_s,
            cooldown_s=plan.cooldown_s,
            emit=emit,
        )
    else:
        await open_loop(
            target,
            job.samples,
            dealt_arrivals(plan, share.worker, share.workers),
            stride=share.workers,
            start_ns=start_ns,
            window_ns=measured_window_ns(plan),
            max_in_flight=share.max_in_flight,
            emit=emit,
        )
