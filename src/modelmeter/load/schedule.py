"""Arrival schedules: when each request is meant to be sent.

Open-loop schedules are precomputed as absolute offsets (ns from the run's start) so that the
dispatcher never decides timing on the fly, and a slow server cannot slow the arrivals down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What the engine is asked to do. Warm-up requests are sent but excluded from statistics."""

    mode: Literal["concurrency", "constant", "poisson"] = "concurrency"
    concurrency: int = 8
    rate_rps: float | None = None
    duration_s: float = 10.0
    warmup_s: float = 1.0
    max_requests: int | None = None
    max_in_flight: int = 1024
    seed: int = 0

    @property
    def total_s(self) -> float:
        return self.warmup_s + self.duration_s


def arrival_offsets_ns(plan: LoadPlan) -> np.ndarray:
    """Intended send offsets (int64 ns from start) for an open-loop plan, covering warm-up too."""
    if plan.mode == "concurrency" or plan.rate_rps is None:
        raise ValueError("arrival offsets exist only for open-loop plans with a rate")
    horizon_ns = int(plan.total_s * NS_PER_S)
    expected = int(plan.rate_rps * plan.total_s) + 1
    if plan.max_requests is not None:
        expected = min(expected, plan.max_requests)
    if plan.mode == "constant":
        gap_ns = NS_PER_S / plan.rate_rps
        offsets = (np.arange(expected, dtype=np.float64) * gap_ns).astype(np.int64)
    else:
        rng = np.random.default_rng(plan.seed)
        # Draw with headroom, then cut at the horizon: exponential gaps make a Poisson process.
        draws = int(expected * 1.2) + 16
        gaps = rng.exponential(NS_PER_S / plan.rate_rps, size=draws)
        offsets = np.cumsum(gaps).astype(np.int64)
        offsets -= offsets[0]
    offsets = offsets[offsets < horizon_ns]
    if plan.max_requests is not None:
        offsets = offsets[: plan.max_requests]
    return offsets
