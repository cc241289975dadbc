"""Sweeps and SLA search over synthetic targets whose capacity is known exactly."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmeter._exceptions import ErrorKind
from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.sweep import (
    LoadPoint,
    PointResult,
    SaturationRule,
    Slo,
    geometric_points,
    goodput,
    plan_for_point,
    search_max_rate,
    slo_met_mask,
    sweep,
)
from modelmeter.spec.objectives import Sla

# An overloaded queue grows without bound; a measured window shows about this much of it.
OVERLOADED_MS = 60_000.0
LN20, LN100 = math.log(20), math.log(100)


@dataclass
class MM1:
    """An M/M/1 queue of capacity ``mu`` req/s: response time is exponential with rate μ − λ,
    so P95 = ln 20 / (μ − λ) and the highest rate with P95 ≤ L is μ − ln 20 / L."""

    mu: float
    error_rate: float = 0.0
    client_bound_above: float = math.inf
    calls: list[LoadPoint] = field(default_factory=list)

    def capacity_for_p95(self, limit_ms: float) -> float:
        return self.mu - LN20 / (limit_ms / 1000)

    async def __call__(self, point: LoadPoint) -> PointResult:
        self.calls.append(point)
        rate = point.value
        spare = self.mu - rate
        if spare > 0:
            p95 = min(LN20 / spare * 1000, OVERLOADED_MS)
            p99 = min(LN100 / spare * 1000, OVERLOADED_MS)
        else:
            # Past capacity the queue grows for the whole window, faster the more overloaded.
            p95 = p99 = OVERLOADED_MS * (rate / self.mu) ** 2
        return PointResult(
            point=point,
            throughput_rps=min(rate, self.mu),
            goodput_rps=min(rate, self.mu),
            p95_ms=p95,
            p99_ms=p99,
            error_rate=self.error_rate,
            client_bound=rate > self.client_bound_above,
        )


@dataclass
class ClosedLoop:
    """``c`` requests in flight against a server of ``mu`` req/s and service time ``s0``:
    throughput min(c / s0, μ), latency c / throughput (Little's law)."""

    mu: float
    s0_ms: float = 10.0
    errors_from: float = math.inf
    client_bound_from: float = math.inf

    async def __call__(self, point: LoadPoint) -> PointResult:
        c = point.value
        throughput = min(c / (self.s0_ms / 1000), self.mu)
        latency = c / throughput * 1000
        return PointResult(
            point=point,
            throughput_rps=throughput,
            goodput_rps=throughput,
            p95_ms=latency * 1.2,
            p99_ms=latency * 1.5,
            error_rate=0.2 if c >= self.errors_from else 0.0,
            client_bound=c >= self.client_bound_from,
        )


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# --- search -----------------------------------------------------------------------------------


def test_search_finds_the_mm1_capacity_within_tolerance() -> None:
    target = MM1(mu=1_000)
    slo = Slo(p95_ms=50)
    truth = target.capacity_for_p95(50)  # 940.1 req/s
    found = run(search_max_rate(target, slo, low=10, high=100_000, tolerance=0.01, max_steps=40))
    assert found.stopped_by == "converged"
    assert found.best is not None and found.first_failing is not None
    assert found.best.point.value <= truth < found.first_failing.point.value
    assert found.first_failing.point.value - found.best.point.value <= 0.01 * found.best.point.value
    assert found.max_rate_rps == pytest.approx(truth, rel=0.01)
    assert slo.met_by(found.best) and not slo.met_by(found.first_failing)
    assert list(found.tried) == [r for r in found.tried]  # every measurement kept, in order
    assert len(found.tried) == len(target.calls)


def test_search_uses_p99_and_error_limits() -> None:
    slo = Slo(p99_ms=100)
    truth = 500 - LN100 / 0.1
    found = run(
        search_max_rate(MM1(mu=500), slo, low=1, high=10_000, tolerance=0.005, max_steps=40)
    )
    assert found.max_rate_rps == pytest.approx(truth, rel=0.005)
    failing = run(
        search_max_rate(
            MM1(mu=500, error_rate=0.02), Slo(p95_ms=1_000, max_error_rate=0.01), low=1, high=10
        )
    )
    assert failing.stopped_by == "low_fails" and failing.best is None
    assert "error rate 2% > 1%" in failing.reason


def test_search_reports_when_the_range_is_wrong() -> None:
    high_passes = run(search_max_rate(MM1(mu=1_000), Slo(p95_ms=50), low=10, high=200))
    assert high_passes.stopped_by == "high_passes"
    assert high_passes.max_rate_rps == 200 and high_passes.first_failing is None
    low_fails = run(search_max_rate(MM1(mu=1_000), Slo(p95_ms=50), low=990, high=5_000))
    assert low_fails.stopped_by == "low_fails" and low_fails.best is None
    assert low_fails.first_failing is not None and low_fails.first_failing.point.value == 990
    assert "P95" in low_fails.reason


def test_search_respects_max_steps() -> None:
    target = MM1(mu=1_000)
    found = run(search_max_rate(target, Slo(p95_ms=50), low=1, high=1e6, max_steps=5))
    assert found.stopped_by == "max_steps" and len(target.calls) == 5
    assert found.best is not None and found.best.point.value == 16


def test_search_stops_when_the_client_is_bound() -> None:
    target = MM1(mu=10_000, client_bound_above=3_000)
    found = run(search_max_rate(target, Slo(p95_ms=50), low=100, high=1e6))
    assert found.stopped_by == "client_bound"
    assert found.max_rate_rps == 3_200 / 2  # 100 · 2⁴: the last rate before 3,200
    assert "lower bound" in found.reason


def test_a_point_near_a_limit_is_measured_twice() -> None:
    slo = Slo(p95_ms=50)
    target = MM1(mu=1_000)
    truth = target.capacity_for_p95(50)
    found = run(
        search_max_rate(
            target, slo, low=truth * 0.99, high=truth * 2, tolerance=0.0005, max_steps=60
        )
    )
    counts: dict[float, int] = {}
    for point in target.calls:
        counts[point.value] = counts.get(point.value, 0) + 1
    # P95 within 5% of 50 ms: 47.6..52.5 ms, i.e. rates within about ±0.3% of the capacity.
    near = {rate for rate in counts if abs(LN20 / (1_000 - rate) * 1000 - 50) <= 2.5}
    assert near and all(counts[rate] == 2 for rate in near)
    assert all(counts[rate] == 1 for rate in set(counts) - near)
    assert found.best is not None


def test_a_noisy_point_passes_only_when_both_runs_pass() -> None:
    """Alternate a pass and a fail near the limit: such a rate is judged failing."""
    calls = 0

    async def flaky(point: LoadPoint) -> PointResult:
        nonlocal calls
        calls += 1
        p95 = 49.0 if calls % 2 else 51.0
        return PointResult(point, point.value, point.value, p95, p95, 0.0)

    found = run(search_max_rate(flaky, Slo(p95_ms=50), low=100, high=1_000))
    assert found.stopped_by == "low_fails" and calls == 2


def test_search_rejects_bad_arguments() -> None:
    target = MM1(mu=10)
    with pytest.raises(ValueError, match="no limit"):
        run(search_max_rate(target, Slo(), low=1, high=2))
    with pytest.raises(ValueError, match="low <= high"):
        run(search_max_rate(target, Slo(p95_ms=1), low=3, high=2))
    with pytest.raises(ValueError, match="tolerance"):
        run(search_max_rate(target, Slo(p95_ms=1), low=1, high=2, tolerance=0))
    with pytest.raises(ValueError, match="max_steps"):
        run(search_max_rate(target, Slo(p95_ms=1), low=1, high=2, max_steps=0))
    with pytest.raises(ValueError, match="growth"):
        run(search_max_rate(target, Slo(p95_ms=1), low=1, high=2, growth=1))


def test_measure_must_answer_for_the_point_it_was_given() -> None:
    async def confused(point: LoadPoint) -> PointResult:
        return PointResult(LoadPoint("rate", point.value + 1), 1, 1, 1, 1, 0)

    with pytest.raises(ValueError, match="answered for"):
        run(search_max_rate(confused, Slo(p95_ms=10), low=1, high=10))


@settings(max_examples=150, deadline=None)
@given(
    mu=st.floats(5, 50_000),
    limit_ms=st.floats(1, 2_000),
    low=st.floats(0.1, 1_000),
    span=st.floats(1, 10_000),
    tolerance=st.floats(0.001, 0.3),
    max_steps=st.integers(1, 60),
    growth=st.floats(1.1, 10),
    noise_margin=st.floats(0, 0.2),
)
def test_search_invariants(
    mu: float,
    limit_ms: float,
    low: float,
    span: float,
    tolerance: float,
    max_steps: int,
    growth: float,
    noise_margin: float,
) -> None:
    target = MM1(mu=mu)
    slo = Slo(p95_ms=limit_ms)
    high = low * span
    found = run(
        search_max_rate(
            target,
            slo,
            low=low,
            high=high,
            tolerance=tolerance,
            max_steps=max_steps,
            growth=growth,
            noise_margin=noise_margin,
        )
    )
    truth = target.capacity_for_p95(limit_ms)
    edge = 1e-9  # the model's P95 and its closed-form capacity may differ in the last bits
    assert len(found.tried) == len(target.calls) <= max_steps
    assert all(low <= r.point.value <= high for r in found.tried)
    passing = [r.point.value for r in found.tried if slo.met_by(r)]
    failing = [r.point.value for r in found.tried if not slo.met_by(r)]
    assert max(passing, default=-math.inf) < min(failing, default=math.inf)
    if found.best is not None:
        assert slo.met_by(found.best) and found.best.point.value == max(passing)
        assert found.best.point.value <= truth * (1 + edge)
    if found.first_failing is not None:
        assert not slo.met_by(found.first_failing)
        assert found.first_failing.point.value == min(failing)
        assert found.first_failing.point.value > truth * (1 - edge)
    if found.stopped_by == "converged":
        assert found.best is not None and found.first_failing is not None
        gap = found.first_failing.point.value - found.best.point.value
        assert gap <= tolerance * found.best.point.value
    if truth < low * (1 - edge):
        assert found.stopped_by == "low_fails"
    elif truth > high * (1 + edge):
        assert found.stopped_by in ("high_passes", "max_steps")
        assert found.first_failing is None
    elif low * (1 + edge) < truth < high * (1 - edge):
        assert found.stopped_by in ("converged", "max_steps")


# --- sweep ------------------------------------------------------------------------------------


def test_sweep_stops_at_saturation() -> None:
    # Saturates at c = μ·s0 = 40: 64 gains nothing over 40… but the points double: 32 → 64
    # still gains 25%, 64 → 128 gains 0% while latency doubles.
    points = geometric_points("concurrency", 1, 1_024)
    result = run(sweep(ClosedLoop(mu=4_000), points))
    assert result.stopped_by == "saturation"
    assert [r.point.value for r in result.results] == [1, 2, 4, 8, 16, 32, 64, 128]
    assert "throughput changed by +0.0%" in result.reason
    assert result.peak is not None and result.peak.throughput_rps == 4_000


def test_sweep_stops_on_errors_and_client_bound() -> None:
    points = geometric_points("concurrency", 1, 64)
    errors = run(sweep(ClosedLoop(mu=1e9, errors_from=8), points))
    assert errors.stopped_by == "errors" and errors.results[-1].point.value == 8
    assert "20.00%" in errors.reason
    bound = run(sweep(ClosedLoop(mu=1e9, client_bound_from=16), points))
    assert bound.stopped_by == "client_bound" and len(bound.results) == 5
    relaxed = SaturationRule(max_error_rate=0.5, stop_when_client_bound=False)
    unbounded = run(
        sweep(ClosedLoop(mu=1e9, errors_from=8, client_bound_from=16), points, rule=relaxed)
    )
    assert unbounded.stopped_by is None and len(unbounded.results) == len(points)
    assert unbounded.reason == "measured every point, up to concurrency 64"


def test_sweep_over_rates_stops_past_the_capacity() -> None:
    points = geometric_points("rate", 100, 5_000, factor=1.5)
    result = run(sweep(MM1(mu=1_000), points))
    assert result.stopped_by == "saturation"
    values = [r.point.value for r in result.results]
    assert values[-1] > 1_000 and values[-2] < 1_500


def test_sweep_checks_its_points() -> None:
    target = ClosedLoop(mu=10)
    with pytest.raises(ValueError, match="at least one"):
        run(sweep(target, []))
    with pytest.raises(ValueError, match="increasing"):
        run(sweep(target, [LoadPoint("concurrency", 2), LoadPoint("concurrency", 2)]))
    with pytest.raises(ValueError, match="same mode"):
        run(sweep(target, [LoadPoint("concurrency", 2), LoadPoint("rate", 3)]))


@settings(max_examples=100, deadline=None)
@given(
    mu=st.floats(10, 100_000),
    s0_ms=st.floats(0.5, 500),
    errors_from=st.sampled_from([math.inf, 4.0, 100.0]),
    stop=st.integers(1, 2_048),
)
def test_sweep_invariants(mu: float, s0_ms: float, errors_from: float, stop: int) -> None:
    points = geometric_points("concurrency", 1, stop)
    target = ClosedLoop(mu=mu, s0_ms=s0_ms, errors_from=errors_from)
    result = run(sweep(target, points))
    measured = [r.point for r in result.results]
    assert measured == points[: len(measured)]
    assert (result.stopped_by is None) == result.reason.startswith("measured every point")
    if result.stopped_by is None:
        assert len(measured) == len(points)
    if result.stopped_by == "errors":
        assert measured[-1].value >= errors_from
    # Throughput never falls in this model, and the sweep never runs past a saturated pair.
    throughputs = [r.throughput_rps for r in result.results]
    assert throughputs == sorted(throughputs)
    knee = mu * s0_ms / 1000
    assert all(p.value <= 4 * max(knee, 1) for p in measured[:-1])


def test_geometric_points() -> None:
    assert [p.value for p in geometric_points("concurrency", 1, 10)] == [1, 2, 4, 8, 10]
    assert [p.value for p in geometric_points("concurrency", 1, 3, 1.2)] == [1, 2, 3]
    assert [p.value for p in geometric_points("rate", 50, 50)] == [50]
    rates = [p.value for p in geometric_points("rate", 0.5, 4)]
    assert rates == [0.5, 1, 2, 4]
    with pytest.raises(ValueError):
        geometric_points("rate", 0, 1)
    with pytest.raises(ValueError):
        geometric_points("rate", 1, 2, factor=1)


def test_load_point_validation_and_text() -> None:
    assert str(LoadPoint("concurrency", 8)) == "concurrency 8"
    assert str(LoadPoint("rate", 1_250)) == "1,250 req/s"
    with pytest.raises(ValueError):
        LoadPoint("rate", 0)
    with pytest.raises(ValueError):
        LoadPoint("concurrency", 2.5)


def test_plan_for_point() -> None:
    base = LoadPlan(mode="gamma", rate_rps=10, rate_end_rps=50, burstiness=0.5, seed=3)
    at_rate = plan_for_point(base, LoadPoint("rate", 200))
    assert at_rate.mode == "gamma" and at_rate.rate_rps == 200 and at_rate.rate_end_rps is None
    assert at_rate.burstiness == 0.5 and at_rate.seed == 3
    closed = plan_for_point(base, LoadPoint("concurrency", 16))
    assert closed.mode == "concurrency" and closed.concurrency == 16 and closed.rate_rps is None
    stepped = LoadPlan(mode="constant", steps=((11.0, 5.0),))
    assert plan_for_point(stepped, LoadPoint("rate", 7)).steps == ()


# --- SLO and goodput --------------------------------------------------------------------------


def test_slo_violations_and_missing_figures() -> None:
    slo = Slo(p95_ms=100, ttft_p99_ms=500, max_error_rate=0.01)
    good = PointResult(LoadPoint("rate", 1), 1, 1, 90, 120, 0.0, ttft_p99_ms=400)
    assert slo.violations(good) == [] and slo.met_by(good)
    bad = PointResult(LoadPoint("rate", 1), 1, 1, 142.3, None, 0.05)
    # Worded as a model's SLA violations are: one judgment for both.
    assert slo.violations(bad) == [
        "P95 142.3 ms > 100 ms",
        "TTFT P99 not measured (limit 500 ms)",
        "error rate 5% > 1%",
    ]
    assert slo.near_limits(good, 0.1) == ["P95 90 ms near 100 ms"]
    with pytest.raises(ValueError, match="p95_ms"):
        Slo(p95_ms=-1)
    with pytest.raises(ValueError, match="share"):
        Slo(max_error_rate=2)


def test_slo_from_a_spec_sla() -> None:
    slo = Slo.from_sla(Sla(p95_ms=100, p99_ms=250, max_error_rate=0.01, min_quality=0.8))
    assert slo == Slo(p95_ms=100, p99_ms=250, max_error_rate=0.01)
    assert slo.request_limits_ms() == (250, None, None)
    assert Slo(p95_ms=100, request_ms=80).request_limits_ms() == (80, None, None)
    assert Slo(ttft_p95_ms=300, itl_p99_ms=40).request_limits_ms() == (None, 300, 40)


def _outcome(intended_ms: int, done_ms: int, *, ok: bool = True) -> Outcome:
    ms = 1_000_000
    return Outcome(
        "s",
        "t",
        intended_at=intended_ms * ms,
        sent_at=intended_ms * ms,
        done_at=done_ms * ms,
        error=None if ok else ErrorKind.TIMEOUT,
    )


def test_goodput_counts_requests_meeting_every_limit() -> None:
    outcomes = [
        _outcome(0, 50),
        _outcome(100, 300),  # 200 ms: too slow
        _outcome(500, 560),
        _outcome(900, 950, ok=False),  # an error is a miss, however fast
        _outcome(1_000, 2_000),  # 1 s: too slow; ends the window at 2 s
    ]
    assert goodput(outcomes, Slo(p95_ms=100)) == pytest.approx(2 / 2.0)
    assert goodput(outcomes, Slo(p95_ms=100), window_s=4.0) == pytest.approx(0.5)
    assert goodput(outcomes, Slo(max_error_rate=0.1)) == pytest.approx(4 / 2.0)
    assert goodput([], Slo(p95_ms=1)) == 0.0


@dataclass
class Streamed:
    ok: bool
    intended_at: int
    done_at: int
    ttft_ns: int | None
    tpot_ns: float | None


def test_goodput_reads_ttft_and_tpot_and_a_missing_one_misses() -> None:
    ms = 1_000_000
    records = [
        Streamed(True, 0, 100 * ms, 20 * ms, 5 * ms),
        Streamed(True, 0, 100 * ms, 80 * ms, 5 * ms),  # TTFT too slow
        Streamed(True, 0, 100 * ms, 20 * ms, 15 * ms),  # TPOT too slow
        Streamed(True, 0, 100 * ms, None, 5 * ms),  # no TTFT: a miss
        Streamed(True, 0, 1_000 * ms, 20 * ms, None),  # no TPOT: a miss; window 1 s
    ]
    slo = Slo(ttft_p95_ms=50, itl_p95_ms=10)
    assert goodput(records, slo) == pytest.approx(1.0)
    assert goodput(records, Slo(ttft_p95_ms=50)) == pytest.approx(3.0)


def test_slo_met_mask_on_arrays() -> None:
    mask = slo_met_mask([True, True, False, True], [10.0, 200.0, 10.0, math.nan], Slo(p99_ms=100))
    assert mask.tolist() == [True, False, False, False]
    no_ttft = slo_met_mask([True], [10.0], Slo(p99_ms=100, ttft_p95_ms=5))
    assert no_ttft.tolist() == [False]
