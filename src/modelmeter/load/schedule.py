"""Arrival schedules: when each request is meant to be sent.

Open-loop schedules are precomputed as absolute offsets (int64 ns from the run's start) so that the
dispatcher never decides timing on the fly, and a slow server cannot slow the arrivals down.

Three things make a schedule:

* the **arrival kind** (``plan.mode``): ``constant`` spacing, ``poisson`` (exponential gaps),
  ``gamma`` (gamma gaps of shape ``burstiness``: coefficient of variation 1/√k, so k = 1 is
  Poisson, k < 1 bursty, k > 1 smoother), or ``trace`` (timestamps replayed from a log, see
  :mod:`modelmeter.load.trace`);
* the **rate profile**: flat at ``rate_rps``; a linear ramp from ``rate_rps`` to ``rate_end_rps``
  over the whole phase; or ``steps``, stages of ``(duration_s, rate_rps)`` played in order;
* the **phase**: warm-up ``[0, warmup_s)``, the measured window of ``duration_s``, then a
  cool-down of ``cooldown_s``. Requests of the warm-up and cool-down are sent (the target sees
  the same load throughout) but excluded from statistics (:func:`phases_of`).

A rate that changes over time is applied by time-rescaling: arrivals are drawn as a unit-rate
process in "operational time" ``s`` and mapped back through the inverse of the cumulative rate
``Λ(t) = ∫ rate``. For Poisson this gives exactly an inhomogeneous Poisson process; for constant
spacing, gaps of ``1 / rate(t)``; for gamma, gamma gaps locally. The first arrival is at offset 0.

Memory: the whole schedule as one array takes 8 bytes per arrival (10 minutes at 20,000 req/s is
12 million arrivals, 96 MB). :func:`iter_arrival_offsets` yields the same offsets in chunks, so a
dispatcher that walks them in order holds one chunk at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from modelmeter.load.trace import TraceSource, load_trace_offsets
from modelmeter.spec.load import LoadSpec

__all__ = [
    "NS_PER_S",
    "ArrivalMode",
    "LoadPlan",
    "Phase",
    "RateProfile",
    "Stage",
    "arrival_offsets_ns",
    "expected_arrivals",
    "iter_arrival_offsets",
    "measured_window_ns",
    "phase_of",
    "phases_of",
]

NS_PER_S = 1_000_000_000

ArrivalMode = Literal["concurrency", "constant", "poisson", "gamma", "trace"]

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]

# Random draws are made in blocks of this size whatever chunk size a caller asks for, so that a
# seed gives the same schedule through every API.
_BLOCK = 1 << 16
# Extra room when preallocating a random schedule: this many standard deviations of the count.
_HEADROOM_SD = 8.0
# Steps must fill the phase; a float sum may miss it by rounding only.
_STEPS_SLACK_S = 1e-6


class Stage(NamedTuple):
    """One stage of a step profile: ``rate_rps`` arrivals per second for ``duration_s``."""

    duration_s: float
    rate_rps: float


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What the engine is asked to do.

    Warm-up and cool-down requests are sent but excluded from statistics; ``total_s`` (warm-up +
    measured window + cool-down) is the length of the whole schedule.
    """

    mode: ArrivalMode = "concurrency"
    concurrency: int = 8
    rate_rps: float | None = None
    duration_s: float = 10.0
    warmup_s: float = 1.0
    max_requests: int | None = None
    max_in_flight: int = 1024
    seed: int = 0
    rate_end_rps: float | None = None
    """When set, the rate changes linearly from ``rate_rps`` at offset 0 to this at the end."""
    steps: tuple[tuple[float, float], ...] = ()
    """``(duration_s, rate_rps)`` stages played in order from offset 0 (kept as :class:`Stage`);
    their durations must add up to ``total_s``."""
    burstiness: float = 1.0
    """Gamma shape k: gaps have a coefficient of variation of 1/√k (mode ``gamma`` only)."""
    cooldown_s: float = 0.0
    ramp_up_s: float = 0.0
    """Closed loop: the workers start one after another over this many seconds, not all at once."""
    trace: TraceSource | None = None
    """The recorded log replayed in mode ``trace``."""
    trace_speedup: float = 1.0
    """Mode ``trace``: replay this many times faster than recorded (0.5 = half speed)."""
    _profile: RateProfile | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if any(len(stage) != 2 for stage in self.steps):
            raise ValueError("each of steps must be a (duration_s, rate_rps) pair")
        steps = tuple(Stage(float(d), float(r)) for d, r in self.steps)
        object.__setattr__(self, "steps", steps)
        _check_number("burstiness", self.burstiness, low=0.0, low_open=True)
        _check_number("cooldown_s", self.cooldown_s, low=0.0)
        _check_number("ramp_up_s", self.ramp_up_s, low=0.0)
        _check_number("trace_speedup", self.trace_speedup, low=0.0, low_open=True)
        if self.rate_end_rps is not None:
            _check_number("rate_end_rps", self.rate_end_rps, low=0.0)
            if self.rate_rps is None:
                raise ValueError("rate_end_rps needs rate_rps, the rate the ramp starts from")
        for index, stage in enumerate(steps):
            _check_number(f"steps[{index}].duration_s", stage.duration_s, low=0.0, low_open=True)
            _check_number(f"steps[{index}].rate_rps", stage.rate_rps, low=0.0)
        if steps:
            if self.mode in ("concurrency", "trace"):
                raise ValueError(f"steps apply to open-loop arrivals, not to mode '{self.mode}'")
            if self.rate_rps is not None or self.rate_end_rps is not None:
                raise ValueError("give either steps or rate_rps (with rate_end_rps), not both")
            length = math.fsum(stage.duration_s for stage in steps)
            if abs(length - self.total_s) > _STEPS_SLACK_S:
                raise ValueError(
                    f"the steps last {length:g} s but warmup_s + duration_s + cooldown_s is "
                    f"{self.total_s:g} s; they must match (duration_s = "
                    f"{length - self.warmup_s - self.cooldown_s:g} here)"
                )
        if self.mode == "trace" and self.trace is None:
            raise ValueError("mode 'trace' needs trace, the log to replay")
        if self.trace is not None and self.mode != "trace":
            raise ValueError(f"a trace is replayed in mode 'trace', not '{self.mode}'")

    @property
    def stages(self) -> tuple[Stage, ...]:
        """``steps`` as named :class:`Stage` tuples."""
        return tuple(Stage(*stage) for stage in self.steps)

    @property
    def total_s(self) -> float:
        """Length of the schedule: warm-up, measured window and cool-down."""
        return self.warmup_s + self.duration_s + self.cooldown_s

    @property
    def horizon_ns(self) -> int:
        """End of the schedule in ns; every arrival is strictly before it."""
        return int(self.total_s * NS_PER_S)

    def profile(self) -> RateProfile:
        """The rate profile of an open-loop plan (cached: plans are immutable)."""
        profile = self._profile
        if profile is None:
            profile = RateProfile.of(self)
            object.__setattr__(self, "_profile", profile)
        return profile

    @classmethod
    def from_section(cls, load: LoadSpec, seed: int = 0) -> LoadPlan:
        """The plan a spec's ``load:`` section describes (arrivals drawn with ``seed``)."""
        trace = load.trace
        return cls(
            mode=load.mode,
            concurrency=load.concurrency,
            rate_rps=load.rate_rps,
            duration_s=load.duration_s,
            warmup_s=load.warmup_s,
            cooldown_s=load.cooldown_s,
            ramp_up_s=load.ramp_up_s,
            max_requests=load.max_requests,
            max_in_flight=load.max_in_flight,
            seed=seed,
            rate_end_rps=load.rate_end_rps,
            steps=tuple((stage.duration_s, stage.rate_rps) for stage in load.steps or ()),
            burstiness=load.burstiness,
            trace=TraceSource(trace.path, trace.field, trace.format, trace.unit) if trace else None,
            trace_speedup=trace.speedup if trace else 1.0,
        )


def _check_number(name: str, value: float, *, low: float, low_open: bool = False) -> None:
    bad = not math.isfinite(value) or value < low or (low_open and value == low)
    if bad:
        bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")


@dataclass(frozen=True, slots=True)
class RateProfile:
    """A piecewise-linear rate over ``[0, total_s)`` and the inverse of its integral ``Λ``
    (``LoadPlan.profile()``; also what a chart of the intended rate would draw).

    Segment ``j`` starts at ``starts_s[j]``, lasts ``durations_s[j]`` and goes linearly from
    ``rate_from[j]`` to ``rate_to[j]``; ``cumulative[j]`` is ``Λ`` at its start (one more entry
    at the end: the expected number of arrivals of the whole schedule).
    """

    starts_s: Float64Array
    durations_s: Float64Array
    rate_from: Float64Array
    rate_to: Float64Array
    cumulative: Float64Array

    @classmethod
    def of(cls, plan: LoadPlan) -> RateProfile:
        if plan.steps:
            durations = [stage.duration_s for stage in plan.stages]
            rates_from = rates_to = [stage.rate_rps for stage in plan.stages]
        elif plan.rate_rps is not None:
            _check_number("rate_rps", plan.rate_rps, low=0.0)
            end = plan.rate_rps if plan.rate_end_rps is None else plan.rate_end_rps
            durations, rates_from, rates_to = [plan.total_s], [plan.rate_rps], [end]
        else:
            raise ValueError("arrival offsets exist only for open-loop plans with a rate")
        d = np.asarray(durations, dtype=np.float64)
        a = np.asarray(rates_from, dtype=np.float64)
        b = np.asarray(rates_to, dtype=np.float64)
        areas = 0.5 * (a + b) * d
        starts = np.concatenate(([0.0], np.cumsum(d)[:-1]))
        cumulative = np.concatenate(([0.0], np.cumsum(areas)))
        return cls(starts, d, a, b, cumulative)

    @property
    def total(self) -> float:
        """``Λ(total_s)``: the expected number of arrivals of the schedule."""
        return float(self.cumulative[-1])

    @property
    def flat_rate(self) -> float | None:
        """The rate when it never changes, else None."""
        if self.durations_s.size == 1 and self.rate_from[0] == self.rate_to[0]:
            return float(self.rate_from[0])
        return None

    def rate_at(self, t_s: Float64Array) -> Float64Array:
        """The rate at times ``t_s`` (seconds), for tests and charts."""
        j = np.clip(np.searchsorted(self.starts_s, t_s, side="right") - 1, 0, None)
        u = (t_s - self.starts_s[j]) / self.durations_s[j]
        return np.asarray(self.rate_from[j] + (self.rate_to[j] - self.rate_from[j]) * u)

    def inverse(self, s: Float64Array) -> Float64Array:
        """Times (seconds) at which ``Λ`` reaches ``s`` (ascending, each below ``total``).

        Where the rate is zero ``Λ`` is flat; an ``s`` on such a plateau maps to its end, the
        first moment arrivals can happen again. Sorted input lets each segment be solved with
        scalar coefficients over a slice, several times faster than gathering per element.
        """
        out = np.empty_like(s)
        if s.size == 0:
            return out
        edges = np.searchsorted(s, self.cumulative, side="left")
        first = int(np.searchsorted(self.cumulative, s[0], side="right")) - 1
        last = int(np.searchsorted(self.cumulative, s[-1], side="right")) - 1
        for j in range(first, last + 1):
            lo, hi = int(edges[j]), int(edges[j + 1])
            if lo == hi:
                continue
            d = s[lo:hi] - self.cumulative[j]
            a, b = float(self.rate_from[j]), float(self.rate_to[j])
            duration = float(self.durations_s[j])
            if a == b:
                u = d / a
            else:
                # Solve c·u² + a·u = d for u ≥ 0 in the form that stays exact as c → 0; the
                # denominator is 0 only where a = 0 and d = 0, and u = 0 there.
                c = (b - a) / (2.0 * duration)
                denominator = a + np.sqrt(np.maximum(a * a + 4.0 * c * d, 0.0))
                u = np.divide(2.0 * d, denominator, out=np.zeros_like(d), where=denominator > 0)
            np.minimum(u, duration, out=u)
            u += float(self.starts_s[j])
            out[lo:hi] = u
        return out


def expected_arrivals(plan: LoadPlan) -> int:
    """How many arrivals the schedule will have, about (exactly, for constant spacing).

    For progress bars and memory estimates; bounded by ``max_requests``.
    """
    if plan.mode == "trace":
        return int(arrival_offsets_ns(plan).size)
    total = plan.profile().total
    count = math.ceil(total) if plan.mode == "constant" else round(total)
    if plan.max_requests is not None:
        count = min(count, plan.max_requests)
    return int(count)


def _operational_blocks(plan: LoadPlan) -> Iterator[Float64Array]:
    """Arrival positions in operational time (unit rate), in blocks of ``_BLOCK``, endless."""
    if plan.mode == "constant":
        first = 0
        while True:
            yield np.arange(first, first + _BLOCK, dtype=np.float64)
            first += _BLOCK
    rng = np.random.default_rng(plan.seed)
    shape = plan.burstiness if plan.mode == "gamma" else 1.0
    carry = 0.0
    while True:
        if shape == 1.0:
            gaps = rng.standard_exponential(_BLOCK)
        else:
            gaps = rng.standard_gamma(shape, _BLOCK)
            gaps /= shape
        positions = np.empty(_BLOCK, dtype=np.float64)
        positions[0] = 0.0
        np.cumsum(gaps[:-1], out=positions[1:])
        positions += carry
        carry = float(positions[-1] + gaps[-1])
        yield positions


def _blocks(plan: LoadPlan) -> Iterator[Int64Array]:
    """Offsets in ns, in blocks of at most ``_BLOCK``, cut at the horizon and ``max_requests``."""
    if plan.mode == "concurrency":
        raise ValueError("arrival offsets exist only for open-loop plans with a rate")
    horizon_ns = plan.horizon_ns
    remaining = plan.max_requests
    if plan.mode == "trace":
        assert plan.trace is not None
        offsets = load_trace_offsets(
            plan.trace,
            speedup=plan.trace_speedup,
            horizon_ns=horizon_ns,
            max_requests=remaining,
        )
        for start in range(0, offsets.size, _BLOCK):
            yield offsets[start : start + _BLOCK]
        return
    profile = plan.profile()
    total = profile.total
    if total <= 0.0:
        return
    flat = profile.flat_rate
    for s in _operational_blocks(plan):
        if remaining is not None and remaining <= 0:
            return
        inside = s < total
        last_block = not bool(inside[-1])
        if last_block:
            s = s[inside]
        if flat is not None:
            offsets = (s * NS_PER_S / flat).astype(np.int64)
        else:
            offsets = (profile.inverse(s) * NS_PER_S).astype(np.int64)
        if offsets.size and offsets[-1] >= horizon_ns:
            offsets = offsets[offsets < horizon_ns]
            last_block = True
        if remaining is not None:
            if offsets.size >= remaining:
                offsets = offsets[:remaining]
                last_block = True
            remaining -= offsets.size
        if offsets.size:
            yield offsets
        if last_block:
            return


def iter_arrival_offsets(plan: LoadPlan, chunk: int = 65_536) -> Iterator[Int64Array]:
    """The schedule of :func:`arrival_offsets_ns` in arrays of ``chunk`` offsets (the last may
    be shorter); memory stays at a few chunks however long the schedule."""
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    pending: list[Int64Array] = []
    held = 0
    for block in _blocks(plan):
        pending.append(block)
        held += block.size
        while held >= chunk:
            joined = pending[0] if len(pending) == 1 else np.concatenate(pending)
            yield joined[:chunk]
            rest = joined[chunk:]
            pending = [rest] if rest.size else []
            held = rest.size
    if held:
        yield pending[0] if len(pending) == 1 else np.concatenate(pending)


def arrival_offsets_ns(plan: LoadPlan) -> Int64Array:
    """Intended send offsets (int64 ns from start) for an open-loop plan, warm-up and cool-down
    included: sorted, the first at 0, all before ``plan.horizon_ns``, at most ``max_requests``."""
    if plan.mode == "trace":
        parts = list(_blocks(plan))
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    if plan.mode == "concurrency":
        raise ValueError("arrival offsets exist only for open-loop plans with a rate")
    total = plan.profile().total
    if plan.mode == "constant":
        capacity = math.ceil(total) + 1
    else:
        shape = plan.burstiness if plan.mode == "gamma" else 1.0
        capacity = math.ceil(total + _HEADROOM_SD * math.sqrt(total / shape)) + 64
    if plan.max_requests is not None:
        capacity = min(capacity, plan.max_requests)
    out = np.empty(capacity, dtype=np.int64)
    filled = 0
    for block in _blocks(plan):
        if filled + block.size > out.size:
            out = np.concatenate((out[:filled], np.empty(max(out.size, block.size), np.int64)))
        out[filled : filled + block.size] = block
        filled += block.size
    return out[:filled]


class Phase(IntEnum):
    """Where an intended send offset falls; only ``MEASURED`` requests enter statistics."""

    WARMUP = 0
    MEASURED = 1
    COOLDOWN = 2


def measured_window_ns(plan: LoadPlan) -> tuple[int, int]:
    """``[start, end)`` of the measured window, in ns from the schedule's start."""
    start = int(plan.warmup_s * NS_PER_S)
    end = max(start, plan.horizon_ns - int(plan.cooldown_s * NS_PER_S))
    return start, end


def phases_of(offsets_ns: npt.ArrayLike, plan: LoadPlan) -> npt.NDArray[np.int8]:
    """The :class:`Phase` of each intended offset: warm-up ``[0, warmup_s)``, then measured,
    then cool-down (the last ``cooldown_s`` of the schedule and anything after it)."""
    start, end = measured_window_ns(plan)
    offsets = np.asarray(offsets_ns, dtype=np.int64)
    phases = np.full(offsets.shape, Phase.MEASURED, dtype=np.int8)
    phases[offsets < start] = Phase.WARMUP
    phases[offsets >= end] = Phase.COOLDOWN
    return phases


def phase_of(offset_ns: int, plan: LoadPlan) -> Phase:
    """The :class:`Phase` of one intended offset (ns from the schedule's start)."""
    start, end = measured_window_ns(plan)
    if offset_ns < start:
        return Phase.WARMUP
    return Phase.COOLDOWN if offset_ns >= end else Phase.MEASURED
