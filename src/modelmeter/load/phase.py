"""One target's load measurement: a single phase, a sweep of load levels, or an SLA search.

Whatever the shape, the result has one headline level (its outcomes and summary feed the
report's latency, throughput and cost) and, for a series, every level measured. The state is
filled in as levels finish, so an interrupted run still has everything measured before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelmeter.data.sample import Sample
from modelmeter.load.engine import OnOutcome, run_plan
from modelmeter.load.host import HostReading, busy_before, cpu_times, host_reading
from modelmeter.load.multiprocess import run_plan_in_processes
from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder import OutcomeRecorder
from modelmeter.load.schedule import LoadPlan, expected_arrivals
from modelmeter.load.stats import PhaseSummary, summarize_phase
from modelmeter.load.sweep import (
    LoadPoint,
    Measure,
    PointResult,
    SaturationRule,
    Slo,
    geometric_points,
    goodput_of_columns,
    plan_for_point,
    search_max_rate,
    sweep,
)
from modelmeter.results import SweepPoint, SweepResult
from modelmeter.spec.load import SearchSpec, SweepSpec
from modelmeter.targets.base import Target


@dataclass(frozen=True)
class SweepSettings:
    mode: str
    start: float
    stop: float
    factor: float
    rule: SaturationRule

    @classmethod
    def from_section(cls, sweep: SweepSpec) -> SweepSettings:
        """The settings a spec's ``load.sweep:`` section gives."""
        return cls(
            mode=sweep.mode,
            start=sweep.start,
            stop=sweep.stop,
            factor=sweep.factor,
            rule=SaturationRule(
                max_error_rate=sweep.max_error_rate,
                min_throughput_gain=sweep.min_throughput_gain,
                min_latency_growth=sweep.min_latency_growth,
            ),
        )


@dataclass(frozen=True)
class SearchSettings:
    low_rps: float
    high_rps: float
    tolerance: float
    max_steps: int
    growth: float
    noise_margin: float

    @classmethod
    def from_section(cls, search: SearchSpec) -> SearchSettings:
        """The settings a spec's ``load.search:`` section gives."""
        return cls(
            low_rps=search.low_rps,
            high_rps=search.high_rps,
            tolerance=search.tolerance,
            max_steps=search.max_steps,
            growth=search.growth,
            noise_margin=search.noise_margin,
        )


@dataclass
class _Level:
    result: PointResult
    plan: LoadPlan
    outcomes: OutcomeRecorder
    summary: PhaseSummary


@dataclass
class LoadMeasurement:
    """Filled in as the measurement goes; read it even after an interruption."""

    levels: list[_Level] = field(default_factory=list)
    current: OutcomeRecorder | None = None
    series: SweepResult | None = None
    headline: _Level | None = None

    @property
    def outcomes(self) -> OutcomeRecorder | list[Outcome]:
        """The headline level's outcomes (or, mid-measurement, the level in progress)."""
        if self.headline is not None:
            return self.headline.outcomes
        return self.current if self.current is not None else []


class LoadListener:
    """Progress hooks; the runner adapts its ProgressListener to these."""

    def begin(self, description: str, total: int | None) -> None:
        pass

    def end(self) -> None:
        pass

    def tick(self, outcome: Outcome) -> None:
        pass


async def _measure_level(
    target: Target,
    samples: Sequence[Sample],
    plan: LoadPlan,
    slo: Slo,
    client_ceiling_rps: float | None,
    listener: LoadListener,
    state: LoadMeasurement,
    label: str,
    processes: int = 1,
    target_spec: Any = None,
) -> _Level:
    # Columns spilled to disk in chunks: memory stays bounded however long the level runs.
    outcomes = OutcomeRecorder(keep_predictions=False)
    state.current = outcomes
    total = plan.max_requests if plan.mode == "concurrency" else expected_arrivals(plan)
    quiet = await busy_before()
    listener.begin(f"{target.name}: {label}", total)
    host_start = cpu_times()
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    tick: OnOutcome = listener.tick
    cpu_percent: float | None = None
    if processes > 1 and target_spec is not None:
        started: list[int] = []
        worker_cpu: list[float] = []
        await run_plan_in_processes(
            target_spec,
            samples,
            plan,
            processes=processes,
            sink=outcomes,
            on_outcome=tick,
            on_start=started.append,
            worker_cpu_s=worker_cpu,
        )
        wall = (time.monotonic_ns() - started[0]) / 1e9 if started else 0.0
        # Each worker is one event loop on one core: the busiest says if the client set the pace.
        if worker_cpu and wall > 0:
            cpu_percent = 100 * max(worker_cpu) / wall
    else:
        await run_plan(target, samples, plan, sink=outcomes, on_outcome=tick)
        wall = time.perf_counter() - wall_before
        if wall > 0:
            cpu_percent = 100 * (time.process_time() - cpu_before) / wall
    listener.end()
    host = host_reading(quiet, host_start, cpu_times())
    if target.kind == "python":
        # An in-process target runs the model on the generator's CPU: the share says nothing,
        # and the ceiling calibrated over HTTP does not apply to it.
        cpu_percent, client_ceiling_rps = None, None
    summary, result = summarize_level(outcomes, plan, slo, cpu_percent, client_ceiling_rps, host)
    level = _Level(result, plan, outcomes, summary)
    state.levels.append(level)
    return level


def summarize_level(
    outcomes: OutcomeRecorder,
    plan: LoadPlan,
    slo: Slo,
    cpu_percent: float | None = None,
    client_ceiling_rps: float | None = None,
    host: HostReading | None = None,
) -> tuple[PhaseSummary, PointResult]:
    """A level's summary and its figures as a load point, read from the recorder's columns a
    batch at a time: memory does not grow with the number of requests."""
    summary = summarize_phase(outcomes, plan, cpu_percent, client_ceiling_rps, host)
    response = summary.response_time_ms
    llm = summary.load.llm
    result = PointResult(
        point=LoadPoint("concurrency", plan.concurrency)
        if plan.mode == "concurrency"
        else LoadPoint("rate", plan.rate_rps or 1.0),
        throughput_rps=summary.throughput_rps or 0.0,
        goodput_rps=goodput_of_columns(
            outcomes.iter_columns(measured_only=True),
            slo,
            window_s=summary.measured.duration_s,
        ),
        p95_ms=response.p95 if response else None,
        p99_ms=response.p99 if response else None,
        error_rate=summary.load.error_rate,
        p50_ms=response.p50 if response else None,
        ttft_p95_ms=llm.ttft_ms.p95 if llm and llm.ttft_ms else None,
        ttft_p99_ms=llm.ttft_ms.p99 if llm and llm.ttft_ms else None,
        itl_p95_ms=llm.itl_ms.p95 if llm and llm.itl_ms else None,
        itl_p99_ms=llm.itl_ms.p99 if llm and llm.itl_ms else None,
        client_bound=summary.load.client_bound,
        requests=summary.measured.requests,
        completed=summary.measured.completed,
    )
    return summary, result


def _to_report(result: PointResult, slo: Slo) -> SweepPoint:
    return SweepPoint(
        mode=result.point.mode,
        value=result.point.value,
        throughput_rps=result.throughput_rps,
        goodput_rps=result.goodput_rps,
        p50_ms=result.p50_ms,
        p95_ms=result.p95_ms,
        p99_ms=result.p99_ms,
        error_rate=result.error_rate,
        ttft_p95_ms=result.ttft_p95_ms,
        itl_p95_ms=result.itl_p95_ms,
        client_bound=result.client_bound,
        slo_met=None if slo.is_empty else slo.met_by(result),
    )


def _level_of(state: LoadMeasurement, result: PointResult | None) -> _Level | None:
    return next((level for level in state.levels if level.result is result), None)


def scaled_ceiling(ceiling_rps: float, processes: int, cpu_count: int) -> float:
    """The calibrated ceiling for ``processes`` load-generator processes on this host.

    Calibration measures one process on one core; N pinned processes can reach N times that,
    but on no more cores than the host has beside the one calibration gave the server.
    """
    return ceiling_rps * min(processes, max(cpu_count - 1, 1))


async def measure_load(
    target: Target,
    samples: Sequence[Sample],
    plan: LoadPlan,
    *,
    slo: Slo,
    state: LoadMeasurement,
    sweep_settings: SweepSettings | None = None,
    search_settings: SearchSettings | None = None,
    client_ceiling_rps: float | None = None,
    listener: LoadListener | None = None,
    processes: int = 1,
    target_spec: Any = None,
) -> None:
    """Measure ``target`` under ``plan``, or a series of levels derived from it, into ``state``.

    With ``processes`` > 1, each level runs in that many load-generator processes, each building
    its own target from ``target_spec``; the outcomes are merged exactly.

    Headline level: the plan's own for a single phase; the highest rate within the SLO for a
    search; for a sweep, the level with the most throughput among those meeting the SLO (all
    levels when none does or no SLO is set).
    """
    hooks = listener or LoadListener()
    if client_ceiling_rps is not None:
        client_ceiling_rps = scaled_ceiling(client_ceiling_rps, processes, os.cpu_count() or 1)

    def runner(label: Callable[[LoadPoint], str]) -> Measure:
        async def measure(point: LoadPoint) -> PointResult:
            level = await _measure_level(
                target,
                samples,
                plan_for_point(plan, point),
                slo,
                client_ceiling_rps,
                hooks,
                state,
                label(point),
                processes,
                target_spec,
            )
            return level.result

        return measure

    if sweep_settings is None and search_settings is None:
        state.headline = await _measure_level(
            target,
            samples,
            plan,
            slo,
            client_ceiling_rps,
            hooks,
            state,
            f"load ({plan.mode})",
            processes,
            target_spec,
        )
        return

    if sweep_settings is not None:
        points = geometric_points(
            "rate" if sweep_settings.mode == "rate" else "concurrency",
            sweep_settings.start,
            sweep_settings.stop,
            sweep_settings.factor,
        )
        outcome = await sweep(
            runner(lambda p: f"sweep, {p}"),
            points,
            rule=sweep_settings.rule,
        )
        passing = [r for r in outcome.results if slo.is_empty or slo.met_by(r)]
        pool = passing or list(outcome.results)
        best = max(pool, key=lambda r: r.throughput_rps, default=None)
        state.series = SweepResult(
            kind="sweep",
            points=[_to_report(r, slo) for r in outcome.results],
            stopped_because=outcome.reason,
            best=_to_report(best, slo) if best is not None else None,
        )
        state.headline = _level_of(state, best)
        return

    assert search_settings is not None
    found = await search_max_rate(
        runner(lambda p: f"SLA search, {p}"),
        slo,
        low=search_settings.low_rps,
        high=search_settings.high_rps,
        tolerance=search_settings.tolerance,
        max_steps=search_settings.max_steps,
        growth=search_settings.growth,
        noise_margin=search_settings.noise_margin,
    )
    state.series = SweepResult(
        kind="sla_search",
        points=[_to_report(r, slo) for r in found.tried],
        stopped_because=found.reason,
        best=_to_report(found.best, slo) if found.best is not None else None,
    )
    # No level met the SLO: the headline is the lowest rate tried, and the SLA check says so.
    chosen = found.best or min(found.tried, key=lambda r: r.point.value, default=None)
    state.headline = _level_of(state, chosen)
