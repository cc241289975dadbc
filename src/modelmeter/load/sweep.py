"""Sweeps and SLA search: which load a target sustains, found by measuring several load points.

Everything here orchestrates a ``measure`` callback, ``LoadPoint -> PointResult``, that runs one
load phase and summarises it; nothing here sends a request, so the logic is tested against
synthetic targets and the runner supplies the real callback.

* :func:`sweep` measures points in increasing order and stops early at the first sign that more
  load cannot help: the error rate passes a limit, the client (not the target) set the pace, or
  throughput stopped growing while latency kept growing (saturation).
* :func:`search_max_rate` finds the highest arrival rate whose latency percentiles and error rate
  meet an :class:`Slo`: the rate grows geometrically from ``low`` until a point fails, then the
  bracket between the best passing and the lowest failing rate is bisected. Near a limit one
  measurement is noise-prone, so a point whose figures land within ``noise_margin`` of a limit
  (either side) is measured once more and passes only when both runs pass.
* :func:`goodput` counts the requests that met every per-request limit, per second.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from modelmeter.load.schedule import LoadPlan
from modelmeter.spec.sla import LimitName, empty_window, limit_violations, near_limits

if TYPE_CHECKING:
    from modelmeter.load.recorder.columns import Columns
    from modelmeter.spec.objectives import Sla

__all__ = [
    "LoadMode",
    "LoadPoint",
    "Measure",
    "PointResult",
    "RequestRecord",
    "SaturationRule",
    "SearchRun",
    "SearchStop",
    "Slo",
    "SweepRun",
    "SweepStop",
    "geometric_points",
    "goodput",
    "plan_for_point",
    "search_max_rate",
    "slo_met_mask",
    "sweep",
]

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000

LoadMode = Literal["concurrency", "rate"]
SweepStop = Literal["errors", "client_bound", "saturation"]
SearchStop = Literal["converged", "max_steps", "high_passes", "low_fails", "client_bound"]


@dataclass(frozen=True, slots=True)
class LoadPoint:
    """One load level: ``concurrency`` requests in flight (closed loop), or ``rate`` arrivals per
    second (open loop)."""

    mode: LoadMode
    value: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and self.value > 0):
            raise ValueError(f"a load point needs a finite value above 0, got {self.value!r}")
        if self.mode == "concurrency" and self.value != int(self.value):
            raise ValueError(f"concurrency must be a whole number, got {self.value!r}")

    def __str__(self) -> str:
        if self.mode == "concurrency":
            return f"concurrency {int(self.value)}"
        return f"{self.value:,.4g} req/s"


@dataclass(frozen=True, slots=True)
class PointResult:
    """What one load point measured, over its measured window. Latencies are response times
    (from the intended send) in ms; None where nothing was measured."""

    point: LoadPoint
    throughput_rps: float
    goodput_rps: float
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float
    p50_ms: float | None = None
    ttft_p95_ms: float | None = None
    ttft_p99_ms: float | None = None
    itl_p95_ms: float | None = None
    itl_p99_ms: float | None = None
    client_bound: bool = False
    # How many requests the window held and how many of them completed; None when not counted
    # (a measure that only reports rates).
    requests: int | None = None
    completed: int | None = None


Measure = Callable[[LoadPoint], Awaitable[PointResult]]

# The load-level limits of an Slo, each the name of the PointResult figure it holds.
_POINT_LIMITS: tuple[LimitName, ...] = (
    "p95_ms",
    "p99_ms",
    "ttft_p95_ms",
    "ttft_p99_ms",
    "itl_p95_ms",
    "itl_p99_ms",
    "max_error_rate",
)


@dataclass(frozen=True, slots=True)
class Slo:
    """Service-level objectives. A limit left None is not checked; equal to a limit passes.

    The percentile limits judge a load point (:meth:`violations`). Goodput judges each request
    against a per-request limit: ``request_ms`` for response time, ``request_ttft_ms`` for time
    to first token and ``request_tpot_ms`` for time per output token; a per-request limit left
    None falls back to the metric's P99 limit, else its P95 limit (ITL limits stand in for
    TPOT, the mean inter-token gap of a request).
    """

    p95_ms: float | None = None
    p99_ms: float | None = None
    ttft_p95_ms: float | None = None
    ttft_p99_ms: float | None = None
    itl_p95_ms: float | None = None
    itl_p99_ms: float | None = None
    max_error_rate: float | None = None
    request_ms: float | None = None
    request_ttft_ms: float | None = None
    request_tpot_ms: float | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{item.name} must be a finite number >= 0, got {value!r}")
        if self.max_error_rate is not None and self.max_error_rate > 1:
            raise ValueError(f"max_error_rate is a share (0 to 1), got {self.max_error_rate!r}")

    @classmethod
    def from_sla(cls, sla: Sla) -> Slo:
        """The latency and error limits of a spec's ``objectives.sla`` (quality is not load's)."""
        return cls(
            p95_ms=sla.p95_ms,
            p99_ms=sla.p99_ms,
            ttft_p95_ms=sla.ttft_p95_ms,
            itl_p95_ms=sla.itl_p95_ms,
            max_error_rate=sla.max_error_rate,
        )

    def _limits(self) -> dict[LimitName, float | None]:
        return {name: getattr(self, name) for name in _POINT_LIMITS}

    @staticmethod
    def _figures(result: PointResult) -> dict[LimitName, float | None]:
        figures: dict[LimitName, float | None] = {
            name: getattr(result, name) for name in _POINT_LIMITS if name != "max_error_rate"
        }
        figures["max_error_rate"] = result.error_rate
        return figures

    @property
    def is_empty(self) -> bool:
        """True when no point-level limit is set (every point would pass)."""
        return all(limit is None for limit in self._limits().values())

    def violations(self, result: PointResult) -> list[str]:
        """Broken limits, e.g. ``'P95 142.3 ms > 100 ms'``; a missing figure breaks its limit
        (a point cannot be shown to meet an SLO without the evidence). The judgment is
        :func:`modelmeter.spec.sla.limit_violations`, the same as for a model's results."""
        found = [v.describe() for v in limit_violations(self._limits(), self._figures(result))]
        if result.requests is not None and result.completed is not None:
            empty = empty_window(result.requests, result.completed)
            found += [empty] if empty is not None else []
        return found

    def met_by(self, result: PointResult) -> bool:
        return not self.violations(result)

    def near_limits(self, result: PointResult, margin: float) -> list[str]:
        """Figures within ``margin`` (a share of the limit) of their limit, on either side."""
        return near_limits(self._limits(), self._figures(result), margin)

    def request_limits_ms(self) -> tuple[float | None, float | None, float | None]:
        """Per-request limits (response, TTFT, TPOT) in ms, after the fallbacks."""
        return (
            _first_set(self.request_ms, self.p99_ms, self.p95_ms),
            _first_set(self.request_ttft_ms, self.ttft_p99_ms, self.ttft_p95_ms),
            _first_set(self.request_tpot_ms, self.itl_p99_ms, self.itl_p95_ms),
        )


def _first_set(*values: float | None) -> float | None:
    return next((value for value in values if value is not None), None)


def plan_for_point(base: LoadPlan, point: LoadPoint) -> LoadPlan:
    """``base`` set to one load point: closed loop at the concurrency, or open loop at the flat
    rate (keeping ``base``'s arrival kind when it is constant, poisson or gamma, else poisson).
    Durations, warm-up, cool-down, caps and seed are kept."""
    if point.mode == "concurrency":
        return replace(
            base,
            mode="concurrency",
            concurrency=int(point.value),
            rate_rps=None,
            rate_end_rps=None,
            steps=(),
            trace=None,
        )
    mode = base.mode if base.mode in ("constant", "poisson", "gamma") else "poisson"
    return replace(base, mode=mode, rate_rps=point.value, rate_end_rps=None, steps=(), trace=None)


# --- goodput -------------------------------------------------------------------------------------


class RequestRecord(Protocol):
    """What goodput reads from one request (``Outcome`` fits). ``ttft_ns`` and ``tpot_ns`` are
    read when present, as attributes that may be None."""

    @property
    def ok(self) -> bool: ...

    @property
    def intended_at(self) -> int: ...

    @property
    def done_at(self) -> int: ...


def slo_met_mask(
    ok: npt.ArrayLike,
    response_ms: npt.ArrayLike,
    slo: Slo,
    *,
    ttft_ms: npt.ArrayLike | None = None,
    tpot_ms: npt.ArrayLike | None = None,
) -> npt.NDArray[np.bool_]:
    """Which requests met every per-request limit of ``slo``. Errors miss; so does a request
    lacking a figure a limit needs (NaN), since a missing measurement is never an advantage."""
    met = np.asarray(ok, dtype=bool).copy()
    response_limit, ttft_limit, tpot_limit = slo.request_limits_ms()
    for values, limit in (
        (response_ms, response_limit),
        (ttft_ms, ttft_limit),
        (tpot_ms, tpot_limit),
    ):
        if limit is None:
            continue
        if values is None:
            met[:] = False
            continue
        figures = np.asarray(values, dtype=np.float64)
        met &= figures <= limit  # NaN compares False: a missing figure misses.
    return met


def goodput(records: Iterable[RequestRecord], slo: Slo, *, window_s: float | None = None) -> float:
    """Requests that met every per-request limit, per second of the measured window.

    Pass the measured window's requests (warm-up and cool-down left out). ``window_s`` defaults
    to the span from the first intended send to the last answer, as throughput uses. Errors
    count as misses.
    """
    items = list(records)
    if not items:
        return 0.0
    if window_s is None:
        start = min(item.intended_at for item in items)
        end = max(item.done_at for item in items)
        window_s = (end - start) / NS_PER_S
    if window_s <= 0:
        return 0.0
    ok = np.fromiter((item.ok for item in items), dtype=bool, count=len(items))
    response = np.fromiter(
        ((item.done_at - item.intended_at) / NS_PER_MS for item in items),
        dtype=np.float64,
        count=len(items),
    )
    _, ttft_limit, tpot_limit = slo.request_limits_ms()
    ttft = _optional_ms(items, "ttft_ns") if ttft_limit is not None else None
    tpot = _optional_ms(items, "tpot_ns") if tpot_limit is not None else None
    met = slo_met_mask(ok, response, slo, ttft_ms=ttft, tpot_ms=tpot)
    return int(met.sum()) / window_s


def goodput_of_columns(batches: Iterable[Columns], slo: Slo, *, window_s: float) -> float:
    """:func:`goodput` of a recorder's measured rows, a batch of columns at a time: memory is
    one batch, whatever the number of requests (a list of every request took 784 MiB to
    summarise 1.95M)."""
    if window_s <= 0:
        return 0.0
    _, ttft_limit, tpot_limit = slo.request_limits_ms()
    met = 0
    for columns in batches:
        met += int(
            slo_met_mask(
                columns.ok,
                columns.response_ns / NS_PER_MS,
                slo,
                ttft_ms=columns.ttft_ns / NS_PER_MS if ttft_limit is not None else None,
                tpot_ms=columns.tpot_ns / NS_PER_MS if tpot_limit is not None else None,
            ).sum()
        )
    return met / window_s


def _optional_ms(items: Sequence[RequestRecord], name: str) -> npt.NDArray[np.float64]:
    def value(item: RequestRecord) -> float:
        ns = getattr(item, name, None)
        return math.nan if ns is None else ns / NS_PER_MS

    return np.fromiter((value(item) for item in items), dtype=np.float64, count=len(items))


# --- sweep -------------------------------------------------------------------------------------


def geometric_points(
    mode: LoadMode, start: float, stop: float, factor: float = 2.0
) -> list[LoadPoint]:
    """``start, start·factor, …`` up to ``stop`` (included, as the last point); concurrency
    values are rounded to whole numbers, duplicates dropped."""
    if not (0 < start <= stop) or not math.isfinite(stop):
        raise ValueError(f"need 0 < start <= stop, got start={start!r}, stop={stop!r}")
    if not factor > 1:
        raise ValueError(f"factor must be above 1, got {factor!r}")
    values: list[float] = []
    value = start
    while value < stop * (1 - 1e-12):
        values.append(value)
        value *= factor
    values.append(stop)
    if mode == "concurrency":
        values = [float(max(1, round(v))) for v in values]
    unique = sorted(set(values))
    return [LoadPoint(mode, v) for v in unique]


@dataclass(frozen=True, slots=True)
class SaturationRule:
    """When a sweep stops early.

    * ``errors``: a point's error rate is above ``max_error_rate``;
    * ``client_bound``: a point was marked client-bound (more load would measure the client);
    * ``saturation``: throughput grew by less than ``min_throughput_gain`` (a share) over the
      previous point while P95 (P99 when P95 is missing) grew by more than
      ``min_latency_growth``: the target is past its knee and more load only queues.

    Checked in that order; the first that applies names the stop.
    """

    max_error_rate: float = 0.05
    min_throughput_gain: float = 0.05
    min_latency_growth: float = 0.5
    stop_when_client_bound: bool = True


@dataclass(frozen=True, slots=True)
class SweepRun:
    """The points measured, in order, which rule stopped the sweep (None: it ran every
    point) and why, in words."""

    results: tuple[PointResult, ...]
    stopped_by: SweepStop | None
    reason: str

    @property
    def peak(self) -> PointResult | None:
        """The point with the highest throughput."""
        return max(self.results, key=lambda r: r.throughput_rps, default=None)


def _latency(result: PointResult) -> float | None:
    value = result.p95_ms if result.p95_ms is not None else result.p99_ms
    return None if value is None or math.isnan(value) else value


def _growth(new: float, old: float) -> float:
    if old > 0:
        return (new - old) / old
    return math.inf if new > 0 else 0.0


def _stop_reason(
    result: PointResult, previous: PointResult | None, rule: SaturationRule
) -> tuple[SweepStop, str] | None:
    if result.error_rate > rule.max_error_rate:
        return "errors", (
            f"error rate {result.error_rate:.2%} at {result.point} passed the "
            f"{rule.max_error_rate:.2%} limit"
        )
    if rule.stop_when_client_bound and result.client_bound:
        return "client_bound", (
            f"the load generator could not keep up at {result.point}; higher points would "
            "measure the client, not the target"
        )
    if previous is None:
        return None
    gain = _growth(result.throughput_rps, previous.throughput_rps)
    latency, previous_latency = _latency(result), _latency(previous)
    if latency is None or previous_latency is None or gain >= rule.min_throughput_gain:
        return None
    growth = _growth(latency, previous_latency)
    if growth > rule.min_latency_growth:
        return "saturation", (
            f"from {previous.point} to {result.point} throughput changed by {gain:+.1%} "
            f"(less than {rule.min_throughput_gain:.0%}) while latency grew by {growth:+.0%} "
            f"(more than {rule.min_latency_growth:.0%})"
        )
    return None


async def sweep(
    measure: Measure, points: Sequence[LoadPoint], *, rule: SaturationRule | None = None
) -> SweepRun:
    """Measure ``points`` (one mode, strictly increasing) in order, stopping early by ``rule``.

    The point that triggers a stop is measured and included in the results.
    """
    rule = rule or SaturationRule()
    if not points:
        raise ValueError("a sweep needs at least one load point")
    if len({p.mode for p in points}) > 1:
        raise ValueError("a sweep's points must all have the same mode")
    if any(b.value <= a.value for a, b in itertools.pairwise(points)):
        raise ValueError("a sweep's points must be in strictly increasing order")
    results: list[PointResult] = []
    for point in points:
        result = await _measure(measure, point)
        previous = results[-1] if results else None
        results.append(result)
        stop = _stop_reason(result, previous, rule)
        if stop is not None:
            return SweepRun(tuple(results), stop[0], stop[1])
    return SweepRun(tuple(results), None, f"measured every point, up to {points[-1]}")


async def _measure(measure: Measure, point: LoadPoint) -> PointResult:
    result = await measure(point)
    if result.point != point:
        raise ValueError(f"measure was asked for {point} but answered for {result.point}")
    return result


# --- search ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchRun:
    """The outcome of :func:`search_max_rate`.

    ``best`` is the highest rate that met the SLO (None when none did); ``first_failing`` the
    lowest rate that did not (None when none failed); ``tried`` every measurement in order,
    re-measurements included.
    """

    best: PointResult | None
    first_failing: PointResult | None
    tried: tuple[PointResult, ...]
    stopped_by: SearchStop
    reason: str

    @property
    def max_rate_rps(self) -> float | None:
        return None if self.best is None else self.best.point.value


class _Budget:
    def __init__(self, measure: Measure, max_steps: int) -> None:
        self.measure = measure
        self.left = max_steps
        self.tried: list[PointResult] = []

    async def run(self, rate: float) -> PointResult:
        self.left -= 1
        result = await _measure(self.measure, LoadPoint("rate", rate))
        self.tried.append(result)
        return result


async def _judge(
    budget: _Budget, rate: float, slo: Slo, noise_margin: float
) -> tuple[bool, PointResult]:
    """Measure ``rate``; re-measure once when a figure is near a limit and budget is left."""
    first = await budget.run(rate)
    if first.client_bound:
        return False, first
    if not slo.near_limits(first, noise_margin) or budget.left <= 0:
        return slo.met_by(first), first
    second = await budget.run(rate)
    if second.client_bound:
        return False, second
    for result in (first, second):
        if not slo.met_by(result):
            return False, result
    return True, second


async def search_max_rate(
    measure: Measure,
    slo: Slo,
    *,
    low: float,
    high: float,
    tolerance: float = 0.05,
    max_steps: int = 20,
    growth: float = 2.0,
    noise_margin: float = 0.05,
) -> SearchRun:
    """The highest arrival rate in ``[low, high]`` whose figures meet ``slo``.

    Starts at ``low`` and multiplies the rate by ``growth`` (capped at ``high``) until a point
    fails, then bisects between the best passing and the lowest failing rate until their gap is
    at most ``tolerance`` × the passing rate. ``max_steps`` bounds the calls to ``measure``,
    re-measurements included. A client-bound point ends the search: its figures describe the
    load generator, so the best rate so far is only a lower bound. Assumes that a target that
    fails at some rate also fails at every higher one.
    """
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
        raise ValueError(f"need 0 < low <= high, got low={low!r}, high={high!r}")
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be above 0 (a share of the rate), got {tolerance!r}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps!r}")
    if not growth > 1:
        raise ValueError(f"growth must be above 1, got {growth!r}")
    if not noise_margin >= 0:
        raise ValueError(f"noise_margin must be at least 0, got {noise_margin!r}")
    if slo.is_empty:
        raise ValueError("the SLO sets no limit, so every rate would pass; set one")
    budget = _Budget(measure, max_steps)
    best: PointResult | None = None
    failing: PointResult | None = None

    def done(stop: SearchStop, reason: str) -> SearchRun:
        return SearchRun(best, failing, tuple(budget.tried), stop, reason)

    def client_bound(result: PointResult) -> SearchRun:
        floor = "" if best is None else f"; {best.point} is a lower bound of the capacity"
        return done(
            "client_bound", f"the load generator could not keep up at {result.point}{floor}"
        )

    rate = low
    while True:
        passed, result = await _judge(budget, rate, slo, noise_margin)
        if result.client_bound:
            return client_bound(result)
        if not passed:
            failing = result
            break
        best = result
        if rate >= high:
            return done("high_passes", f"even {result.point} (the upper end) meets the SLO")
        if budget.left <= 0:
            return done("max_steps", f"no failing rate found within {max_steps} measurements")
        rate = min(rate * growth, high)
    if best is None:
        broken = "; ".join(slo.violations(failing)) or "it failed twice near a limit"
        return done("low_fails", f"even {failing.point} (the lower end) misses the SLO: {broken}")
    while failing.point.value - best.point.value > tolerance * best.point.value:
        if budget.left <= 0:
            return done(
                "max_steps",
                f"stopped after {max_steps} measurements between {best.point} and {failing.point}",
            )
        rate = 0.5 * (best.point.value + failing.point.value)
        passed, result = await _judge(budget, rate, slo, noise_margin)
        if result.client_bound:
            return client_bound(result)
        if passed:
            best = result
        else:
            failing = result
    return done(
        "converged",
        f"{best.point} meets the SLO and {failing.point} does not (within {tolerance:.0%})",
    )
