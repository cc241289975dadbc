"""The first load engine: a schedule in, one Outcome per request out.

Timing follows shared definitions: ``intended_at`` comes from the schedule (open loop) or equals
``sent_at`` (closed loop, where the next request waits for the previous one by design);
``sent_at`` is taken just before the target is called and ``done_at`` just after it returns.
A faster engine (raw HTTP protocol on uvloop) can replace this one behind the same function.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from time import monotonic_ns

from modelmeter._exceptions import TargetError
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

OnOutcome = Callable[[Outcome], None]

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
    target: Target, sample: Sample, intended_at: int | None, phase: Phase = Phase.MEASURED
) -> Outcome:
    """Send one sample; ``intended_at`` None means "intended when sent" (closed loop)."""
    called_at = monotonic_ns()
    try:
        prediction = await target.predict(sample)
    except TargetError as exc:
        return Outcome(
            sample_id=sample.id,
            target=target.name,
            intended_at=called_at if intended_at is None else intended_at,
            sent_at=called_at,
            done_at=monotonic_ns(),
            error=exc.kind,
            error_detail=str(exc)[:500],
            warmup=phase == Phase.WARMUP,
            cooldown=phase == Phase.COOLDOWN,
        )
    returned_at = monotonic_ns()
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
    start = monotonic_ns()
    warm_end = start + int(warmup_s * NS_PER_S)
    cool_start = None if duration_s is None else warm_end + int(duration_s * NS_PER_S)
    deadline = None if cool_start is None else cool_start + int(cooldown_s * NS_PER_S)
    counter = itertools.count()

    async def worker(offset_ns: int) -> None:
        if offset_ns:
            await sleep_until(start + offset_ns)
        while True:
            index = next(counter)
            if max_requests is not None and index >= max_requests:
                return
            now = monotonic_ns()
            if deadline is not None and now >= deadline:
                return
            if now < warm_end:
                phase = Phase.WARMUP
            elif cool_start is not None and now >= cool_start:
                phase = Phase.COOLDOWN
            else:
                phase = Phase.MEASURED
            outcome = await _send(target, samples[index % len(samples)], None, phase)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

    ramp_ns = int(ramp_up_s * NS_PER_S)
    await asyncio.gather(*(worker(ramp_ns * k // concurrency) for k in range(concurrency)))
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
    slots = asyncio.Semaphore(plan.max_in_flight)
    start = monotonic_ns() + _START_LEAD_NS
    window_start, window_end = measured_window_ns(plan)
    pending: set[asyncio.Task[None]] = set()

    async def send_one(sample: Sample, intended_at: int, phase: Phase) -> None:
        try:
            outcome = await _send(target, sample, intended_at, phase)
        finally:
            slots.release()
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    try:
        index = 0
        for chunk in iter_arrival_offsets(plan):
            for offset in chunk.tolist():
                intended_at = start + offset
                if intended_at > monotonic_ns():
                    await sleep_until(intended_at)
                await slots.acquire()
                if offset < window_start:
                    phase = Phase.WARMUP
                elif offset >= window_end:
                    phase = Phase.COOLDOWN
                else:
                    phase = Phase.MEASURED
                sample = samples[index % len(samples)]
                task = asyncio.create_task(send_one(sample, intended_at, phase))
                pending.add(task)
                task.add_done_callback(pending.discard)
                index += 1
        if pending:
            await asyncio.gather(*pending)
    finally:
        for task in pending:
            task.cancel()
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
