"""How a plan is shared among worker processes, so that the union is the single-process run."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from modelmeter.load.schedule import (
    LoadPlan,
)

__all__ = ["Share", "plan_shares", "split_evenly", "split_like"]


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
class Share:
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


def plan_shares(plan: LoadPlan, processes: int, pin: bool) -> list[Share]:
    closed = plan.mode == "concurrency"
    workers = min(processes, plan.concurrency if closed else plan.max_in_flight)
    if workers < 1:
        raise ValueError("the plan leaves no work: concurrency and max_in_flight must be >= 1")
    cpus = sorted(os.sched_getaffinity(0)) if pin and hasattr(os, "sched_getaffinity") else []
    cpu_of: list[int | None] = list(cpus[:workers]) if len(cpus) >= workers else [None] * workers
    if not closed:
        caps = split_evenly(plan.max_in_flight, workers)
        return [
            Share(worker=k, workers=workers, cpu=cpu_of[k], max_in_flight=caps[k])
            for k in range(workers)
        ]
    concurrency = split_evenly(plan.concurrency, workers)
    if plan.max_requests is None:
        return [
            Share(worker=k, workers=workers, cpu=cpu_of[k], concurrency=concurrency[k])
            for k in range(workers)
        ]
    requests = split_like(plan.max_requests, concurrency)
    firsts = [0, *itertools.accumulate(requests)]
    return [
        Share(
            worker=k,
            workers=workers,
            cpu=cpu_of[k],
            concurrency=concurrency[k],
            first_index=firsts[k],
            requests=requests[k],
        )
        for k in range(workers)
    ]
