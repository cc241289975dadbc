"""One load plan over several processes: one event loop per process, results merged exactly.

A single Python process tops out at one core. :func:`run_plan_in_processes` spawns worker
processes (the ``spawn`` start method: a running event loop is never forked), each of which builds
its own target from the target's spec, starts it, runs its share of the plan on its own event loop
(uvloop when installed) and sends its outcomes back in batches. The parent forwards each batch to
``sink`` and ``on_outcome`` as it arrives, so an interrupted run keeps everything that arrived.

How the plan is shared, so that the union is the single-process run:

* **open loop**: the schedule's arrivals are dealt round-robin, arrival ``i`` to worker
  ``i % workers``. Every worker computes the same offsets from the same plan and seed and keeps
  its own, and sends arrival ``i`` with sample ``i % len(samples)``, as the single-process engine
  does. ``max_in_flight`` is split as evenly as possible.
* **closed loop**: ``concurrency`` is split as evenly as possible (10 over 4: 3, 3, 2, 2), and
  ``max_requests`` in proportion to each worker's concurrency, as contiguous blocks of request
  indices, so that together the workers send exactly ``max_requests``.

All workers use one start time, chosen by the parent once every worker has reported its target
ready: ``time.monotonic_ns()`` is system-wide (CLOCK_MONOTONIC), so timestamps taken in different
processes are comparable, and warm-up and cool-down are measured from that common start.

Workers pin themselves to distinct cores when the parent's CPU affinity offers one per worker.
A worker whose target fails to build or start reports the error, and the parent raises it as the
same class. Cancelling the run asks every worker to stop, collects what they send within a grace
period, then terminates those still running; a worker whose parent disappears stops by itself.

As with any ``spawn``-based multiprocessing, a script that calls this must guard its entry point
with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import itertools
import multiprocessing
import os
import pickle
import signal
import struct
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from operator import attrgetter
from typing import Any

from modelmeter._exceptions import WorkerFailed
from modelmeter._loop import loop_factory
from modelmeter.data.sample import Sample
from modelmeter.load.engine import OnOutcome, closed_loop, dealt_arrivals, open_loop
from modelmeter.load.outcome import Outcome, OutcomeSink
from modelmeter.load.schedule import (
    NS_PER_S,
    LoadPlan,
    measured_window_ns,
)
from modelmeter.targets.base import Target
from modelmeter.targets.registry import create_target

__all__ = ["WorkerFailed", "run_plan_in_processes", "split_evenly", "split_like"]

# Workers send their outcomes when this many are waiting, or at least this often.
_BATCH = 1_000
_FLUSH_INTERVAL_S = 0.1
# Messages on both pipes: a 4-byte big-endian length, then a pickle.
_HEADER = struct.Struct("!I")
_PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL

# Outcomes travel as tuples of their fields in declaration order (measured: about 5x faster to
# encode than pickling the objects and about 1.4x faster to decode, at 56% of the bytes).
_FIELDS = tuple(field.name for field in dataclasses.fields(Outcome))
_as_row = attrgetter(*_FIELDS)


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` shares differing by at most one, larger first (10, 4: 3, 3, 2, 2)."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    base, extra = divmod(total, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def split_like(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` in shares proportional to ``weights`` (largest remainder; ties to the first),
    adding up to ``total`` exactly."""
    weight = sum(weights)
    if weight <= 0:
        raise ValueError("weights must add up to more than zero")
    exact = [total * w / weight for w in weights]
    shares = [int(x) for x in exact]
    left = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda k: (shares[k] - exact[k], k))
    for k in by_remainder[:left]:
        shares[k] += 1
    return shares


# -- what each worker is asked to do ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Share:
    worker: int
    workers: int
    cpu: int | None
    concurrency: int = 0
    """Closed loop: this worker's coroutines."""
    first_index: int = 0
    requests: int | None = None
    """Closed loop with max_requests: request indices [first_index, first_index + requests)."""
    max_in_flight: int = 0
    """Open loop: this worker's cap on outstanding requests."""

    def indices(self) -> Iterator[int]:
        """Closed loop: the request indices (sample ``index % len(samples)``) this worker sends."""
        if self.requests is not None:
            return iter(range(self.first_index, self.first_index + self.requests))
        return itertools.count(self.worker, self.workers)


def _shares(plan: LoadPlan, processes: int, pin: bool) -> list[_Share]:
    closed = plan.mode == "concurrency"
    workers = min(processes, plan.concurrency if closed else plan.max_in_flight)
    if workers < 1:
        raise ValueError("the plan leaves no work: concurrency and max_in_flight must be >= 1")
    cpus = sorted(os.sched_getaffinity(0)) if pin and hasattr(os, "sched_getaffinity") else []
    cpu_of: list[int | None] = list(cpus[:workers]) if len(cpus) >= workers else [None] * workers
    if not closed:
        caps = split_evenly(plan.max_in_flight, workers)
        return [
            _Share(worker=k, workers=workers, cpu=cpu_of[k], max_in_flight=caps[k])
            for k in range(workers)
        ]
    concurrency = split_evenly(plan.concurrency, workers)
    if plan.max_requests is None:
        return [
            _Share(worker=k, workers=workers, cpu=cpu_of[k], concurrency=concurrency[k])
            for k in range(workers)
        ]
    requests = split_like(plan.max_requests, concurrency)
    firsts = [0, *itertools.accumulate(requests)]
    return [
        _Share(
            worker=k,
            workers=workers,
            cpu=cpu_of[k],
            concurrency=concurrency[k],
            first_index=firsts[k],
            requests=requests[k],
        )
        for k in range(workers)
    ]


@dataclass(frozen=True, slots=True)
class _Job:
    target_spec: Any
    samples: Sequence[Sample]
    plan: LoadPlan
    share: _Share


# -- errors across the process boundary -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ErrorReport:
    module: str
    qualname: str
    message: str
    state: dict[str, Any]
    trace: str
    pickled: bytes | None


def _report(exc: BaseException) -> _ErrorReport:
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
    return _ErrorReport(cls.__module__, cls.__qualname__, str(exc), state, trace, pickled)


def _rebuild(report: _ErrorReport, worker: int) -> BaseException:
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


# -- framing on the pipes ---------------------------------------------------------------------


def _frame(message: object) -> bytes:
    payload = pickle.dumps(message, _PICKLE_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


class _FrameReader(asyncio.Protocol):
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


class _Closed(asyncio.Protocol):
    """Write side of a pipe: tells when the transport is gone (flushed, or the reader left)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.closed: asyncio.Future[None] = loop.create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


# -- the worker process -----------------------------------------------------------------------


def _worker_main(job: _Job, ctrl: Connection, data: Connection) -> None:
    """Entry point of a worker process."""
    # Ctrl-C reaches the whole process group; the parent decides, and tells workers to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if job.share.cpu is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {job.share.cpu})
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_worker(job, ctrl, data))


class _Outbox:
    """The worker's side of the data pipe: outcomes batched, messages never block the loop."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self._transport = transport
        self._batch: list[tuple[Any, ...]] = []

    def send(self, message: object) -> None:
        if not self._transport.is_closing():
            self._transport.write(_frame(message))

    def add(self, outcome: Outcome) -> None:
        batch = self._batch
        batch.append(_as_row(outcome))
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


async def _worker(job: _Job, ctrl: Connection, data: Connection) -> None:
    loop = asyncio.get_running_loop()
    transport, closed = await loop.connect_write_pipe(lambda: _Closed(loop), data)
    outbox = _Outbox(transport)
    inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    # The parent closing its end (or dying) means stop.
    ctrl_transport, _ = await loop.connect_read_pipe(
        lambda: _FrameReader(inbox.put_nowait, lambda: inbox.put_nowait(("stop",))), ctrl
    )
    target: Target | None = None
    cpu_s = 0.0
    try:
        try:
            target = create_target(job.target_spec)
            await target.start()
        except Exception as exc:
            outbox.send(("failed", _report(exc)))
            return
        outbox.send(("ready",))
        message = await inbox.get()
        if message[0] != "start":
            return
        cpu_before = time.process_time()
        flusher = asyncio.create_task(outbox.flush_every(_FLUSH_INTERVAL_S))
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
            outbox.send(("failed", _report(failure)))
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
    target: Target, job: _Job, start_ns: int, emit: Callable[[Outcome], None]
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


# -- the parent -------------------------------------------------------------------------------


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
        frame = _frame(message)
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
            self.fail(_rebuild(message[1], worker))
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

    def reader(self, worker: int) -> Callable[[], _FrameReader]:
        """The protocol factory for ``worker``'s data pipe."""
        return lambda: _FrameReader(
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
    shares = _shares(plan, processes, pin)
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
                    target=_worker_main,
                    args=(_Job(target_spec, samples, plan, share), ctrl_read, data_write),
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
