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
from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import NS_PER_S, LoadPlan, arrival_offsets_ns
from modelmeter.targets.base import Target

OnOutcome = Callable[[Outcome], None]

# Open-loop start is put this far in the future so that the first arrivals are not late already.
_START_LEAD_NS = 5_000_000


async def _send(target: Target, sample: Sample, intended_at: int | None, warmup: bool) -> Outcome:
    """Send one sample; ``intended_at`` None means "intended when sent" (closed loop)."""
    sent_at = monotonic_ns()
    if intended_at is None:
        intended_at = sent_at
    try:
        prediction = await target.predict(sample)
    except TargetError as exc:
        return Outcome(
            sample_id=sample.id,
            target=target.name,
            intended_at=intended_at,
            sent_at=sent_at,
            done_at=monotonic_ns(),
            error=exc.kind,
            error_detail=str(exc)[:500],
            warmup=warmup,
        )
    return Outcome(
        sample_id=sample.id,
        target=target.name,
        intended_at=intended_at,
        sent_at=sent_at,
        done_at=monotonic_ns(),
        prediction=prediction.label,
        input_tokens=prediction.input_tokens,
        output_tokens=prediction.output_tokens,
        warmup=warmup,
    )


async def run_closed_loop(
    target: Target,
    samples: Sequence[Sample],
    *,
    concurrency: int,
    duration_s: float | None,
    warmup_s: float = 0.0,
    max_requests: int | None = None,
    sink: list[Outcome] | None = None,
    on_outcome: OnOutcome | None = None,
) -> list[Outcome]:
    """``concurrency`` workers each send the next sample as soon as their last answer is in.

    Stops at ``duration_s`` after the warm-up or after ``max_requests``, whichever comes first;
    with neither, ``samples`` are each sent once. Outcomes are appended to ``sink`` as they
    arrive, so an interrupted run keeps what it measured.
    """
    if not samples:
        raise ValueError("no samples to send")
    outcomes = sink if sink is not None else []
    if duration_s is None and max_requests is None:
        max_requests = len(samples)
    start = monotonic_ns()
    warm_end = start + int(warmup_s * NS_PER_S)
    deadline = None if duration_s is None else warm_end + int(duration_s * NS_PER_S)
    counter = itertools.count()

    async def worker() -> None:
        while True:
            index = next(counter)
            if max_requests is not None and index >= max_requests:
                return
            now = monotonic_ns()
            if deadline is not None and now >= deadline:
                return
            outcome = await _send(target, samples[index % len(samples)], None, now < warm_end)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


async def run_open_loop(
    target: Target,
    samples: Sequence[Sample],
    plan: LoadPlan,
    *,
    sink: list[Outcome] | None = None,
    on_outcome: OnOutcome | None = None,
) -> list[Outcome]:
    """Send at precomputed arrival times whatever the answers do (constant or Poisson).

    At most ``plan.max_in_flight`` requests are outstanding; an arrival that finds the cap
    reached waits, and that wait shows in its response time and schedule lag.
    """
    if not samples:
        raise ValueError("no samples to send")
    outcomes = sink if sink is not None else []
    offsets = arrival_offsets_ns(plan)
    slots = asyncio.Semaphore(plan.max_in_flight)
    start = monotonic_ns() + _START_LEAD_NS
    warm_end = start + int(plan.warmup_s * NS_PER_S)
    pending: set[asyncio.Task[None]] = set()

    async def send_one(sample: Sample, intended_at: int) -> None:
        try:
            outcome = await _send(target, sample, intended_at, intended_at < warm_end)
        finally:
            slots.release()
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    try:
        for index, offset in enumerate(offsets.tolist()):
            intended_at = start + offset
            delay_ns = intended_at - monotonic_ns()
            if delay_ns > 0:
                await asyncio.sleep(delay_ns / NS_PER_S)
            await slots.acquire()
            task = asyncio.create_task(send_one(samples[index % len(samples)], intended_at))
            pending.add(task)
            task.add_done_callback(pending.discard)
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
    sink: list[Outcome] | None = None,
    on_outcome: OnOutcome | None = None,
) -> list[Outcome]:
    """Run one load phase as the plan says."""
    if plan.mode == "concurrency":
        return await run_closed_loop(
            target,
            samples,
            concurrency=plan.concurrency,
            duration_s=plan.duration_s,
            warmup_s=plan.warmup_s,
            max_requests=plan.max_requests,
            sink=sink,
            on_outcome=on_outcome,
        )
    return await run_open_loop(target, samples, plan, sink=sink, on_outcome=on_outcome)
