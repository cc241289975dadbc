"""Phase summaries: exact percentiles, the measured window and the client-bound flags."""

from __future__ import annotations

import numpy as np
import pytest

from modelmeter._exceptions import ErrorKind
from modelmeter.load.host import CpuTimes, HostReading, cpu_times, host_reading
from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import LoadPlan, arrival_offsets_ns
from modelmeter.load.stats import histogram_ms, summarize_ms, summarize_phase

MS = 1_000_000


def test_percentiles_are_exact_in_ms() -> None:
    values = np.arange(1, 101, dtype=np.int64) * MS  # 1..100 ms
    summary = summarize_ms(values)
    assert summary is not None
    assert summary.p50 == pytest.approx(np.percentile(np.arange(1, 101), 50))
    assert summary.p99 == pytest.approx(99.01)
    assert summary.max == 100 and summary.count == 100 and summary.method == "exact"
    assert summarize_ms(np.array([], dtype=np.int64)) is None


def test_histogram_counts_everything_once() -> None:
    values = np.array([1, 2, 2, 5, 50, 500], dtype=np.int64) * MS
    buckets = histogram_ms(values)
    assert sum(count for _, count in buckets) == len(values)
    assert buckets == sorted(buckets)
    assert buckets[-1][0] >= 500


def _outcome(
    intended: int, sent: int, done: int, *, warmup: bool = False, ok: bool = True
) -> Outcome:
    return Outcome(
        "s",
        "t",
        intended * MS,
        sent * MS,
        done * MS,
        prediction="x" if ok else None,
        error=None if ok else ErrorKind.TIMEOUT,
        warmup=warmup,
    )


def test_window_throughput_and_errors() -> None:
    outcomes = [
        _outcome(0, 0, 10, warmup=True),
        _outcome(100, 100, 110),
        _outcome(200, 200, 210),
        _outcome(300, 300, 310, ok=False),
        _outcome(400, 400, 1100),
    ]
    plan = LoadPlan(mode="constant", rate_rps=10, duration_s=1, warmup_s=0.1)
    phase = summarize_phase(outcomes, plan)
    # Window: first measured intended time (100 ms) to the last answer (1,100 ms) = 1 s.
    assert phase.load.duration_s == pytest.approx(1.0)
    assert phase.throughput_rps == pytest.approx(3.0)
    assert phase.load.requests == 4 and phase.load.completed == 3
    assert phase.load.errors == {"timeout": 1} and phase.load.error_rate == 0.25
    assert phase.response_time_ms is not None and phase.response_time_ms.max == 700


def test_client_bound_by_lag_or_by_cpu() -> None:
    plan = LoadPlan(mode="constant", rate_rps=10)
    on_time = [_outcome(i * 100, i * 100, i * 100 + 10) for i in range(10)]
    assert not summarize_phase(on_time, plan).load.client_bound
    late = [_outcome(i * 100, i * 100 + 5, i * 100 + 15) for i in range(10)]
    lagging = summarize_phase(late, plan).load
    assert (
        lagging.client_bound
        and "Schedule lag P99 5.00 ms passed the 2.00 ms" in lagging.client_bound_reason
    )
    busy = summarize_phase(on_time, plan, client_cpu_percent=85.0).load
    assert busy.client_bound and "85% of a CPU core" in busy.client_bound_reason
    assert busy.client_cpu_percent == 85.0
    assert busy.verdict == "client-bound" and busy.diagnosis.startswith("Client-bound: ")


def test_late_sends_with_an_idle_generator_are_the_target_saturating() -> None:
    # 200 req/s offered for 1 s; the target answered 82, each send late because every
    # connection was busy; the generator used 6% of a core: the target set the pace.
    plan = LoadPlan(mode="constant", rate_rps=200, duration_s=1)
    outcomes = [_outcome(i * 5, i * 5 + 40, i * 5 + 50) for i in range(82)]
    outcomes += [_outcome(410 + i, 410 + i, 1000, ok=False) for i in range(118)]
    load = summarize_phase(outcomes, plan, client_cpu_percent=6.0).load
    assert not load.client_bound and load.offered_rps == 200
    assert load.verdict == "target saturated"
    assert load.diagnosis == (
        "Target saturated at 82.0 of 200.0 req/s offered, with the load generator at 6% of a "
        "core: the target, not the client, set the pace."
    )


def test_other_work_on_the_host_is_named_before_anything_else() -> None:
    plan = LoadPlan(mode="constant", rate_rps=10)
    on_time = [_outcome(i * 100, i * 100, i * 100 + 10) for i in range(10)]
    quiet = HostReading(busy_before_percent=3.0, steal_percent=0.5, load_average=0.4, cores=2)
    assert summarize_phase(on_time, plan, host=quiet).load.verdict == "ok"
    busy = HostReading(busy_before_percent=60.0, steal_percent=12.0, load_average=3.2, cores=2)
    load = summarize_phase(on_time, plan, client_cpu_percent=90.0, host=busy).load
    assert load.verdict == "host busy" and load.client_bound
    assert load.diagnosis == (
        "Host busy: other processes kept 60% of the 2 cores busy just before the phase and the "
        "hypervisor took 12% of the CPU time (steal) (load average 3.2), so latency and "
        "throughput are slower than on a quiet host."
    )
    assert load.host_busy_before_percent == 60.0 and load.host_steal_percent == 12.0


def test_cpu_times_read_proc_stat_and_shares_come_from_the_difference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8\n")
    before = cpu_times(stat)
    assert before == CpuTimes(busy=150, idle=850, steal=0)
    stat.write_text("cpu  160 0 70 860 60 0 0 50 0 0\n")
    after = cpu_times(stat)
    assert after == CpuTimes(busy=230, idle=920, steal=50)
    reading = host_reading(None, before, after)
    assert reading.steal_percent == pytest.approx(100 * 50 / 200)
    assert cpu_times(tmp_path / "missing") is None
    stat.write_text("intr 1 2 3\n")
    assert cpu_times(stat) is None


@pytest.mark.parametrize("mode", ["constant", "poisson"])
def test_arrivals_have_the_asked_rate(mode: str) -> None:
    plan = LoadPlan(mode=mode, rate_rps=500, duration_s=20, warmup_s=0, seed=3)  # type: ignore[arg-type]
    offsets = arrival_offsets_ns(plan)
    assert offsets[0] == 0 and np.all(np.diff(offsets) >= 0)
    assert offsets[-1] < 20 * 1_000_000_000
    # 10,000 expected arrivals; a Poisson count has sd 100, so 5 sd is a safe bound.
    assert abs(len(offsets) - 10_000) <= 500
    gaps = np.diff(offsets) / 1e9
    if mode == "constant":
        assert np.allclose(gaps, 1 / 500, atol=1e-8)
    else:
        # Exponential gaps: the coefficient of variation is 1 (0.97..1.03 for 10k draws).
        assert 0.95 < gaps.std() / gaps.mean() < 1.05
    capped = arrival_offsets_ns(LoadPlan(mode=mode, rate_rps=500, max_requests=7))  # type: ignore[arg-type]
    assert len(capped) == 7
