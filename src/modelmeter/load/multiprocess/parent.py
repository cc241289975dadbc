"""The parent: starts the workers, gives them one start time, forwards their outcomes as they
arrive, and stops or reaps them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from operator import attrgetter
from typing import Any

from modelmeter._exceptions import WorkerFailed
from modelmeter.data.sample import Sample
from modelmeter.load.engine import OnOutcome
from modelmeter.load.multiprocess.messages import FrameReader, encode_frame, rebuild_error
from modelmeter.load.multiprocess.shares import plan_shares
from modelmeter.load.multiprocess.worker import Job, worker_main
from modelmeter.load.outcome import Outcome, OutcomeSink
from modelmeter.load.schedule import (
    NS_PER_S,
    LoadPlan,
)

__all__ = ["run_plan_in_processes"]


@dataclass
class _Handle:
    """The parent's view of one worker."""

    process: BaseProcess
    ctrl: Connection
    data: Connection
    transport: asyncio.BaseTransport | None = None
    ready: bool = False
    done: bool = False
    lost: bool = False
    cpu_s: float | None = None

    def tell(self, message: object) -> None:
        if self.ctrl.closed:
            return
        frame = encode_frame(message)
        with contextlib.suppress(OSError):
            view = memoryview(frame)
            while view:
                view = view[os.write(self.ctrl.fileno(), view) :]

    @property
    def finished(self) -> bool:
        return self.done or self.lost


class _Session:
    def __init__(self, outcomes: OutcomeSink, on_outcome: OnOutcome | None) -> None:
        self.workers: list[_Handle] = []
        self.outcomes = outcomes
        self.on_outcome = on_outcome
        self.error: BaseException | None = None
        self.changed = asyncio.Event()

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.changed.set()

    def on_message(self, worker: int, message: tuple[Any, ...]) -> None:
        handle = self.workers[worker]
        kind = message[0]
        if kind == "outcomes":
            received = list(itertools.starmap(Outcome, message[1]))
            sink = self.outcomes
            if isinstance(sink, list):
                sink.extend(received)
            else:
                append = sink.append
                for outcome in received:
                    append(outcome)
            if self.on_outcome is not None and self.error is None:
                try:
                    for outcome in received:
                        self.on_outcome(outcome)
                except BaseException as exc:  # the caller's callback: stop the run with it
                    self.fail(exc)
            return
        if kind == "ready":
            handle.ready = True
        elif kind == "failed":
            self.fail(rebuild_error(message[1], worker))
        elif kind == "done":
            handle.done = True
            handle.cpu_s = message[1]
        self.changed.set()

    def on_closed(self, worker: int) -> None:
        handle = self.workers[worker]
        handle.lost = not handle.done
        if handle.lost:
            self.fail(WorkerFailed(f"load worker {worker} ended before finishing its share"))
        self.changed.set()

    def reader(self, worker: int) -> Callable[[], FrameReader]:
        """The protocol factory for ``worker``'s data pipe."""
        return lambda: FrameReader(
            lambda message: self.on_message(worker, message), lambda: self.on_closed(worker)
        )

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()``; raise the first failure reported meanwhile."""
        while True:
            if self.error is not None:
                raise self.error
            if condition():
                return
            self.changed.clear()
            await self.changed.wait()

    def stop(self) -> None:
        for handle in self.workers:
            handle.tell(("stop",))


async def _reap(session: _Session, grace_s: float) -> None:
    """Every worker process ended and joined: politely, then by signal."""
    processes = [handle.process for handle in session.workers if handle.process.pid is not None]
    try:
        deadline = time.monotonic() + grace_s
        while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        for process in processes:
            if process.exitcode is None:
                process.terminate()
        for process in processes:
            process.join(1.0)
            if process.exitcode is None:
                process.kill()
                process.join()
        for handle in session.workers:
            handle.ctrl.close()
            # A transport owns its pipe and closes it; closing the pipe under it would not do.
            if handle.transport is not None:
                handle.transport.close()
            else:
                handle.data.close()


async def run_plan_in_processes(
    target_spec: Any,
    samples: Sequence[Sample],
    plan: LoadPlan,
    *,
    processes: int,
    on_outcome: OnOutcome | None = None,
    sink: OutcomeSink | None = None,
    on_start: Callable[[int], None] | None = None,
    worker_cpu_s: list[float] | None = None,
    pin: bool = True,
    start_delay_s: float = 0.2,
    grace_s: float = 5.0,
) -> OutcomeSink:
    """Run ``plan`` as :func:`modelmeter.load.engine.run_plan` would, over ``processes`` worker
    processes that each build their own target from ``target_spec`` (a target's pydantic spec).

    Returns ``sink`` (a new list when None) holding every outcome once. Outcomes are appended to
    it (and passed to ``on_outcome``) in this process as the workers' batches arrive, batch by
    batch, not in one order; a list is sorted by ``intended_at`` in place at the end (an
    ``OutcomeRecorder`` needs no order). ``on_start`` gets the common start (a
    ``time.monotonic_ns()`` value), from which open-loop offsets and all phases count;
    ``worker_cpu_s`` gets each worker's CPU seconds (user + system) over its run, for telling
    whether the load generator was the limit.

    Fewer workers than ``processes`` are started when the plan has less to share: at most
    ``concurrency`` (closed loop) or ``max_in_flight`` (open loop). ``pin`` pins worker k to the
    k-th core of this process's affinity when there is one per worker. The start is
    ``start_delay_s`` after the last worker reported its target ready. Raises what a worker's
    target raised on building or starting (same class), or :class:`WorkerFailed` when a worker
    ended before finishing. On cancellation, workers are asked to stop and given ``grace_s`` to
    send what they measured before they are terminated.
    """
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    if not samples:
        raise ValueError("no samples to send")
    outcomes: OutcomeSink = sink if sink is not None else []
    shares = plan_shares(plan, processes, pin)
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    session = _Session(outcomes, on_outcome)
    samples = list(samples)
    try:
        try:
            for share in shares:
                ctrl_read, ctrl_write = context.Pipe(duplex=False)
                data_read, data_write = context.Pipe(duplex=False)
                process = context.Process(
                    target=worker_main,
                    args=(Job(target_spec, samples, plan, share), ctrl_read, data_write),
                    name=f"modelmeter-load-{share.worker}",
                    daemon=True,
                )
                handle = _Handle(process, ctrl_write, data_read)
                session.workers.append(handle)
                try:
                    process.start()
                finally:
                    # The child has its copies; closing ours lets either side see the other end.
                    ctrl_read.close()
                    data_write.close()
                handle.transport, _ = await loop.connect_read_pipe(
                    session.reader(share.worker), data_read
                )
            await session.until(lambda: all(h.ready for h in session.workers))
            start_ns = time.monotonic_ns() + int(start_delay_s * NS_PER_S)
            for handle in session.workers:
                handle.tell(("start", start_ns))
            if on_start is not None:
                on_start(start_ns)
            await session.until(lambda: all(h.finished for h in session.workers))
        except BaseException:
            session.stop()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(grace_s):
                    while not all(h.finished for h in session.workers):
                        session.changed.clear()
                        await session.changed.wait()
            raise
        finally:
            finished = all(handle.finished for handle in session.workers)
            await _reap(session, grace_s if finished else 0.0)
    finally:
        if isinstance(outcomes, list):
            outcomes.sort(key=_intended_at)
        if worker_cpu_s is not None:
            worker_cpu_s.extend(h.cpu_s for h in session.workers if h.cpu_s is not None)
    return outcomes


_intended_at = attrgetter("intended_at")
