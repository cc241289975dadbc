"""The load engine: a schedule in, one Outcome per request out, in one process or many.

Timing follows shared definitions: ``intended_at`` comes from the schedule (open loop) or equals
``sent_at`` (closed loop, where the next request waits for the previous one by design);
``sent_at`` is taken just before the target is called and ``done_at`` just after it returns.
The closed and the open loop are written once (:func:`closed_loop`, :func:`open_loop`); a run in
one process and each worker process of :mod:`modelmeter.load.multiprocess` both run them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from time import monotonic_ns

from modelmeter._exceptions import ErrorKind, TargetError
from modelmeter.data.sample import Sample
from modelmeter.load.outcome import Outcome, OutcomeSink
from modelmeter.load.schedule import (
    NS_PER_S,
    LoadPlan,
    Phase,
    iter_arrival_offsets,
    measured_window_ns,
)
from modelmeter.targets.base import Target

logger = logging.getLogger(__name__)

OnOutcome = Callable[[Outcome], None]
# Where the loop hands each outcome: a sink's append, a worker's outbox.
Emit = Callable[[Outcome], None]

# Open-loop start is put this far in the future so that the first arrivals are not late already.
_START_LEAD_NS = 5_000_000
# uvloop's timers run on a millisecond clock and can fire early; the last stretch before a due
# time is waited by yielding to the loop, so no request is ever sent before it is intended.
_SPIN_NS = 1_000_000


async def sleep_until(due_ns: int) -> None:
    """Return at ``due_ns`` (a ``monotonic_ns`` value) or just after it, never before."""
    while (delay_ns := due_ns - monotonic_ns()) > 0:
        await asyncio.sleep((delay_ns - _SPIN_NS) / NS_PER_S if delay_ns > _SPIN_NS else 0)


async def _send(
    target: Target,
    sample: Sample,
    intended_at: int | None,
    phase: Phase = Phase.MEASURED,
    window_end: int | None = None,
) -> Outcome:
    """Send one sample; ``intended_at`` None means "intended when sent" (closed loop).

    ``window_end`` (a ``monotonic_ns`` value) is when the measured window closes: a warm-up
    request still unanswered then counts in the window (see :func:`_phase_when_done`).
    """
    called_at = monotonic_ns()
    try:
        prediction = await target.predict(sample)
    except TargetError as exc:
        phase = _phase_when_done(phase, window_end)
        return _failed(target, sample, intended_at, called_at, phase, exc.kind, str(exc))
    except Exception as exc:
        # Targets turn every bad answer into a TargetError; anything else is a gap in a target
        # (a plugin's, or ours) that one answer exposed. It costs that request, never the run,
        # and the report keeps its message as the sample of its kind.
        logger.debug("target %s raised unexpectedly", target.name, exc_info=True)
        detail = f"unexpected {type(exc).__name__} reading the answer: {exc}"
        phase = _phase_when_done(phase, window_end)
        return _failed(target, sample, intended_at, called_at, phase, ErrorKind.PROTOCOL, detail)
    returned_at = monotonic_ns()
    phase = _phase_when_done(phase, window_end)
    # A target that timed the wire itself knows better than the call boundary, which also
    # counts the target's own overhead.
    sent_at = called_at if prediction.sent_at is None else prediction.sent_at
    return Outcome(
        sample_id=sample.id,
        target=target.name,
        intended_at=sent_at if intended_at is None else intended_at,
        sent_at=sent_at,
        done_at=returned_at if prediction.done_at is None else prediction.done_at,
        prediction=prediction.label,
        input_tokens=prediction.input_tokens,
        output_tokens=prediction.output_tokens,
        token_source=prediction.token_source,
        reasoning_tokens=prediction.reasoning_tokens,
        cached_input_tokens=prediction.cached_input_tokens,
        first_byte_at=prediction.first_byte_at,
        first_token_at=prediction.first_token_at,
        first_reasoning_at=prediction.first_reasoning_at,
        token_gaps_ns=prediction.token_gaps_ns,
        warmup=phase == Phase.WARMUP,
        cooldown=phase == Phase.COOLDOWN,
    )


def _phase_when_done(phase: Phase, window_end: int | None) -> Phase:
    """The phase a request counts in, known once it is done.

    A request counts in the phase it was intended in, with one exception: a warm-up request
    still unanswered when the measured window closes held its worker (or its in-flight slot)
    through the whole window. Leaving it out would let a server that stopped answering show an
    empty window, "0 requests, 0% errors", instead of the timeouts it caused.
    """
    if phase == Phase.WARMUP and window_end is not None and monotonic_ns() >= window_end:
        return Phase.MEASURED
    return phase


def _failed(
    target: Target,
    sample: Sample,
    intended_at: int | None,
    called_at: int,
    phase: Phase,
    kind: ErrorKind,
    detail: str,
) -> Outcome:
    return Outcome(
        sample_id=sample.id,
        target=target.name,
        intended_at=called_at if intended_at is None else intended_at,
        sent_at=called_at,
        done_at=monotonic_ns(),
        error=kind,
        error_detail=detail[:500],
        warmup=phase == Phase.WARMUP,
        cooldown=phase == Phase.COOLDOWN,
    )


def _emitter(outcomes: OutcomeSink, on_outcome: OnOutcome | None) -> Emit:
    if on_outcome is None:
        return outcomes.append

    def emit(outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)

    return emit


async def closed_loop(
    target: Target,
    samples: Sequence[Sample],
    indices: Iterator[int],
    *,
    coroutines: int,
    start_ns: int,
    warmup_s: float,
    duration_s: float | None,
    cooldown_s: float,
    ramp_up_s: float = 0.0,
    emit: Emit,
) -> None:
    """The closed loop, for one process or one worker's share: ``coroutines`` workers each send
    the next request as soon as their last answer is in.

    Requests take their numbers from ``indices`` (shared by the workers; request ``i`` sends
    sample ``i % len(samples)``), so a finite iterator bounds the requests and several
    processes can deal the numbers among them. From ``start_ns`` (a ``monotonic_ns`` value) the
    warm-up, measured window and cool-down follow; with ``duration_s`` None there is no
    deadline. With ``ramp_up_s``, worker k starts k/coroutines of the way into it.
    """
    warm_end = start_ns + int(warmup_s * NS_PER_S)
    cool_start = None if duration_s is None else warm_end + int(duration_s * NS_PER_S)
    deadline = None if cool_start is None else cool_start + int(cooldown_s * NS_PER_S)
    count = len(samples)

    async def worker(offset_ns: int) -> None:
        if start_ns + offset_ns > monotonic_ns():
            await sleep_until(start_ns + offset_ns)
        for index in indices:
            now = monotonic_ns()
            if deadline is not None and now >= deadline:
                return
            if now < warm_end:
                phase = Phase.WARMUP
            elif cool_start is not None and now >= cool_start:
                phase = Phase.COOLDOWN
            else:
                phase = Phase.MEASURED
            emit(await _send(target, samples[index % count], None, phase, cool_start))

    ramp_ns = int(ramp_up_s * NS_PER_S)
    await asyncio.gather(*(worker(ramp_ns * k // coroutines) for k in range(coroutines)))


async def open_loop(
    target: Target,
    samples: Sequence[Sample],
    arrivals: Iterable[tuple[int, list[int]]],
    *,
    stride: int = 1,
    start_ns: int,
    window_ns: tuple[int, int],
    max_in_flight: int,
    emit: Emit,
) -> None:
    """The open loop, for one process or one worker's share: send at the intended times
    whatever the answers do.

    ``arrivals`` gives the schedule chunk by chunk, each as the number of its first request and
    the offsets (ns from ``start_ns``) of the requests, numbered ``stride`` apart (a worker
    that sends every ``stride``-th arrival of the whole schedule). At most ``max_in_flight``
    requests are outstanding; an arrival that finds the cap reached waits, and that wait shows
    in its response time and schedule lag. ``window_ns`` is the measured window's
    ``[start, end)`` in offsets; earlier arrivals are warm-up, later ones cool-down.
    """
    slots = asyncio.Semaphore(max_in_flight)
    window_start, window_end = window_ns
    pending: set[asyncio.Task[None]] = set()
    count = len(samples)

    async def send_one(sample: Sample, intended_at: int, phase: Phase) -> None:
        try:
            outcome = await _send(target, sample, intended_at, phase, start_ns + window_end)
        finally:
            slots.release()
        emit(outcome)

    try:
        for index, offsets in arrivals:
            for offset in offsets:
                intended_at = start_ns + offset
                if intended_at > monotonic_ns():
                    await sleep_until(intended_at)
                await slots.acquire()
                if offset < window_start:
                    phase = Phase.WARMUP
                elif offset >= window_end:
                    phase = Phase.COOLDOWN
                else:
                    phase = Phase.MEASURED
                task = asyncio.create_task(send_one(samples[index % count], intended_at, phase))
                pending.add(task)
                task.add_done_callback(pending.discard)
                index += stride
        if pending:
            await asyncio.gather(*pending)
    finally:
        for task in pending:
            task.cancel()


def dealt_arrivals(
    plan: LoadPlan, worker: int = 0, workers: int = 1, chunk: int = 65_536
) -> Iterator[tuple[int, list[int]]]:
    """Arrivals ``worker``, ``worker + workers``, ... of the plan's schedule, chunk by chunk:
    each chunk as the number of its first arrival in the whole schedule and the offsets (the
    others follow ``workers`` apart). With the defaults, the whole schedule."""
    base = 0  # number of the chunk's first arrival in the whole schedule
    for offsets in iter_arrival_offsets(plan, chunk):
        first = (worker - base) % workers
        mine = offsets[first::workers]
        if mine.size:
            yield base + first, mine.tolist()
        base += offsets.size


async def run_closed_loop(
    target: Target,
    samples: Sequence[Sample],
    *,
    concurrency: int,
    duration_s: float | None,
    warmup_s: float = 0.0,
    cooldown_s: float = 0.0,
    ramp_up_s: float = 0.0,
    max_requests: int | None = None,
    sink: OutcomeSink | None = None,
    on_outcome: OnOutcome | None = None,
) -> OutcomeSink:
    """``concurrency`` workers each send the next sample as soon as their last answer is in.

    Stops at ``duration_s`` after the warm-up (plus the cool-down) or after ``max_requests``,
    whichever comes first; with neither, ``samples`` are each sent once. Requests sent in the
    warm-up or cool-down are marked so statistics leave them out. With ``ramp_up_s``, worker k
    starts k/concurrency of the way into it, so that workers facing a server with a steady
    answer time do not stay in lock-step. Outcomes are appended to ``sink`` as they arrive, so
    an interrupted run keeps what it measured.
    """
    if not samples:
        raise ValueError("no samples to send")
    outcomes: OutcomeSink = sink if sink is not None else []
    if duration_s is None and max_requests is None:
        max_requests = len(samples)
    indices = iter(range(max_requests)) if max_requests is not None else itertools.count()
    await closed_loop(
        target,
        samples,
        indices,
        coroutines=concurrency,
        start_ns=monotonic_ns(),
        warmup_s=warmup_s,
        duration_s=duration_s,
        cooldown_s=cooldown_s,
        ramp_up_s=ramp_up_s,
        emit=_emitter(outcomes, on_outcome),
    )
    return outcomes


async def run_open_loop(
    target: Target,
    samples: Sequence[Sample],
    plan: LoadPlan,
    *,
    sink: OutcomeSink | None = None,
    on_outcome: OnOutcome | None = None,
) -> OutcomeSink:
    """Send at precomputed arrival times whatever the answers do (constant, Poisson, gamma,
    ramps, steps, a replayed trace).

    At most ``plan.max_in_flight`` requests are outstanding; an arrival that finds the cap
    reached waits, and that wait shows in its response time and schedule lag. Arrival times are
    generated in chunks, so memory does not grow with the length of the run.
    """
    if not samples:
        raise ValueError("no samples to send")
    outcomes: OutcomeSink = sink if sink is not None else []
    await open_loop(
        target,
        samples,
        dealt_arrivals(plan),
        start_ns=monotonic_ns() + _START_LEAD_NS,
        window_ns=measured_window_ns(plan),
        max_in_flight=plan.max_in_flight,
        emit=_emitter(outcomes, on_outcome),
    )
    return outcomes


async def run_plan(
    target: Target,
    samples: Sequence[Sample],
    plan: LoadPlan,
    *,
    sink: OutcomeSink | None = None,
    on_outcome: OnOutcome | None = None,
) -> OutcomeSink:
    """Run one load phase as the plan says."""
    if plan.mode == "concurrency":
        return await run_closed_loop(
            target,
            samples,
            concurrency=plan.concurrency,
            duration_s=plan.duration_s,
            warmup_s=plan.warmup_s,
            cooldown_s=plan.cooldown_s,
            ramp_up_s=plan.ramp_up_s,
            max_requests=plan.max_requests,
            sink=sink,
            on_outcome=on_outcome,
        )
    return await run_open_loop(target, samples, plan, sink=sink, on_outcome=on_outcome)
