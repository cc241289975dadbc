"""Arrival schedules: rates, gap shapes, ramps, steps, bounds, seeds, chunks and phases."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmeter.load.schedule import (
    NS_PER_S,
    LoadPlan,
    Phase,
    arrival_offsets_ns,
    expected_arrivals,
    iter_arrival_offsets,
    measured_window_ns,
    phase_of,
    phases_of,
)

RANDOM_KINDS = ("poisson", "gamma")


def _plan(**fields: object) -> LoadPlan:
    base: dict[str, object] = {"warmup_s": 0.0, "duration_s": 10.0, "seed": 7}
    base.update(fields)
    return LoadPlan(**base)  # type: ignore[arg-type]


def _check_shape(offsets: np.ndarray, plan: LoadPlan) -> None:
    assert offsets.dtype == np.int64
    assert np.all(np.diff(offsets) >= 0)
    if offsets.size:
        assert offsets[0] >= 0 and offsets[-1] < plan.horizon_ns
    if plan.max_requests is not None:
        assert offsets.size <= plan.max_requests


# --- flat rates -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "poisson", "gamma"])
def test_flat_rate_over_a_long_horizon(mode: str) -> None:
    plan = _plan(mode=mode, rate_rps=2_000, duration_s=100, burstiness=0.5)
    offsets = arrival_offsets_ns(plan)
    _check_shape(offsets, plan)
    assert offsets[0] == 0
    expected = 200_000
    if mode == "constant":
        assert offsets.size == expected
        assert np.all(np.abs(np.diff(offsets) - NS_PER_S // 2_000) <= 1)
    else:
        # A renewal count has variance n·CV²: CV² is 1 for Poisson, 1/k = 2 for gamma k = 0.5.
        cv2 = 1.0 if mode == "poisson" else 2.0
        assert abs(offsets.size - expected) <= 5 * math.sqrt(expected * cv2)
    assert expected_arrivals(plan) == expected


@pytest.mark.parametrize("shape", [0.25, 0.5, 1.0, 2.0, 8.0])
def test_gamma_gaps_have_cv_one_over_root_k(shape: float) -> None:
    plan = _plan(mode="gamma", rate_rps=1_000, duration_s=200, burstiness=shape, seed=11)
    gaps = np.diff(arrival_offsets_ns(plan)) / NS_PER_S
    # The standard error of the sample CV is about CV·½·√((2 + 6/k)/n): under 0.6% here.
    assert gaps.std() / gaps.mean() == pytest.approx(1 / math.sqrt(shape), rel=0.04)
    assert gaps.mean() == pytest.approx(1 / 1_000, rel=0.02)


def test_gamma_with_k_one_is_the_poisson_schedule() -> None:
    poisson = arrival_offsets_ns(_plan(mode="poisson", rate_rps=300))
    gamma = arrival_offsets_ns(_plan(mode="gamma", rate_rps=300, burstiness=1.0))
    np.testing.assert_array_equal(poisson, gamma)


def test_poisson_counts_per_window_are_poisson() -> None:
    plan = _plan(mode="poisson", rate_rps=500, duration_s=400)
    counts = np.bincount((arrival_offsets_ns(plan) // NS_PER_S).astype(np.int64), minlength=400)
    # Index of dispersion of a Poisson count is 1; 400 windows give it within ±0.2 or so.
    assert counts.mean() == pytest.approx(500, rel=0.02)
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.25)


# --- ramps and steps ------------------------------------------------------------------------


def _ramp_bin_expectation(start: float, end: float, total: float, edges: np.ndarray) -> np.ndarray:
    def cumulative(t: np.ndarray) -> np.ndarray:
        return np.asarray(start * t + (end - start) * t * t / (2 * total))

    return np.diff(cumulative(edges))


@pytest.mark.parametrize(("start", "end"), [(100.0, 3_000.0), (3_000.0, 100.0), (0.0, 2_000.0)])
def test_poisson_ramp_follows_the_linear_rate(start: float, end: float) -> None:
    plan = _plan(mode="poisson", rate_rps=start, rate_end_rps=end, duration_s=30, warmup_s=2)
    offsets = arrival_offsets_ns(plan)
    _check_shape(offsets, plan)
    edges = np.linspace(0, plan.total_s, 33)
    counts, _ = np.histogram(offsets / NS_PER_S, bins=edges)
    expected = _ramp_bin_expectation(start, end, plan.total_s, edges)
    # Each bin is a Poisson count: 5 sd (+1 for tiny bins) is a safe band...
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected) + 1)
    # ...and together they fit: the chi-square over 32 bins stays well below 32 + 5·8.
    chi2 = float(np.sum((counts - expected) ** 2 / np.maximum(expected, 1)))
    assert chi2 < 72
    assert abs(offsets.size - expected.sum()) <= 5 * math.sqrt(expected.sum())


def test_constant_ramp_spaces_arrivals_by_the_local_rate() -> None:
    plan = _plan(mode="constant", rate_rps=50, rate_end_rps=500, duration_s=20)
    offsets = arrival_offsets_ns(plan)
    t = offsets / NS_PER_S
    rate = 50 + (500 - 50) * t / 20
    gaps = np.diff(t)
    # Gap i is 1 / rate somewhere inside it: between the rates at its two ends.
    assert np.all(gaps * rate[1:] >= 1 - 1e-5)
    assert np.all(gaps * rate[:-1] <= 1 + 1e-5)
    assert offsets.size == math.ceil((50 + 500) / 2 * 20) == expected_arrivals(plan)


@pytest.mark.parametrize("mode", ["constant", "poisson", "gamma"])
def test_steps_counts_per_stage(mode: str) -> None:
    stages = ((5.0, 200.0), (10.0, 0.0), (5.0, 1_000.0), (20.0, 50.0))
    plan = _plan(mode=mode, steps=stages, warmup_s=5.0, duration_s=30.0, cooldown_s=5.0)
    offsets = arrival_offsets_ns(plan)
    _check_shape(offsets, plan)
    edges = np.cumsum([0.0] + [d for d, _ in stages]) * NS_PER_S
    counts, _ = np.histogram(offsets, bins=edges)
    for (duration, rate), count in zip(stages, counts, strict=True):
        expected = duration * rate
        if mode == "constant":
            assert abs(count - expected) <= 1
        else:
            assert abs(count - expected) <= 5 * math.sqrt(expected * 4) + 1
    assert counts[1] == 0  # a stage at rate 0 is a pause


def test_a_zero_rate_start_delays_the_first_arrival() -> None:
    plan = _plan(mode="poisson", steps=((3.0, 0.0), (7.0, 100.0)))
    assert arrival_offsets_ns(plan)[0] == 3 * NS_PER_S


def test_profile_rate_at_matches_the_plan() -> None:
    plan = _plan(mode="poisson", steps=((2.0, 10.0), (8.0, 30.0)))
    rates = plan.profile().rate_at(np.array([0.0, 1.9, 2.0, 9.9]))
    np.testing.assert_allclose(rates, [10, 10, 30, 30])
    ramp = _plan(mode="poisson", rate_rps=0.0, rate_end_rps=100.0)
    np.testing.assert_allclose(ramp.profile().rate_at(np.array([0.0, 5.0])), [0, 50])


# --- bounds, seeds, chunks ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "poisson", "gamma"])
def test_bounded_by_max_requests_and_horizon(mode: str) -> None:
    capped = arrival_offsets_ns(_plan(mode=mode, rate_rps=500, max_requests=7))
    assert capped.size == 7
    assert arrival_offsets_ns(_plan(mode=mode, rate_rps=500, max_requests=200_000)).size < 6_000
    plan = _plan(mode=mode, rate_rps=1_000, duration_s=3, warmup_s=1, cooldown_s=1)
    offsets = arrival_offsets_ns(plan)
    assert plan.total_s == 5 and offsets[-1] < 5 * NS_PER_S and offsets[-1] > 4.9 * NS_PER_S


def test_zero_rate_gives_an_empty_schedule() -> None:
    assert arrival_offsets_ns(_plan(mode="poisson", rate_rps=0.0)).size == 0
    assert list(iter_arrival_offsets(_plan(mode="constant", rate_rps=0.0))) == []


@pytest.mark.parametrize("mode", RANDOM_KINDS)
def test_same_seed_same_schedule(mode: str) -> None:
    first = arrival_offsets_ns(_plan(mode=mode, rate_rps=800, burstiness=0.3, seed=5))
    again = arrival_offsets_ns(_plan(mode=mode, rate_rps=800, burstiness=0.3, seed=5))
    other = arrival_offsets_ns(_plan(mode=mode, rate_rps=800, burstiness=0.3, seed=6))
    np.testing.assert_array_equal(first, again)
    assert first.size != other.size or not np.array_equal(first, other)


PLANS = [
    _plan(mode="constant", rate_rps=30_000, duration_s=5),
    _plan(mode="poisson", rate_rps=30_000, duration_s=5),
    _plan(mode="gamma", rate_rps=30_000, duration_s=5, burstiness=0.4),
    _plan(mode="poisson", rate_rps=1_000, rate_end_rps=50_000, duration_s=4),
    _plan(mode="gamma", steps=((2.0, 40_000.0), (3.0, 0.0), (5.0, 9_000.0)), burstiness=3.0),
    _plan(mode="poisson", rate_rps=30_000, duration_s=5, max_requests=100_001),
]


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: f"{p.mode}-{p.rate_end_rps or p.steps}")
@pytest.mark.parametrize("chunk", [1, 999, 65_536, 100_000, 10**7])
def test_chunked_iterator_equals_the_array(plan: LoadPlan, chunk: int) -> None:
    if chunk == 1:
        plan = LoadPlan(**{**_fields(plan), "max_requests": 5_000})  # type: ignore[arg-type]
    whole = arrival_offsets_ns(plan)
    chunks = list(iter_arrival_offsets(plan, chunk=chunk))
    assert all(c.size == chunk for c in chunks[:-1]) and 0 < chunks[-1].size <= chunk
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def _fields(plan: LoadPlan) -> dict[str, object]:
    names = LoadPlan.__dataclass_fields__
    return {name: getattr(plan, name) for name, item in names.items() if item.init}


def test_iterator_memory_stays_bounded() -> None:
    plan = _plan(mode="gamma", rate_rps=20_000, duration_s=100, burstiness=0.5)
    tracemalloc.start()
    try:
        count = sum(chunk.size for chunk in iter_arrival_offsets(plan))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == pytest.approx(2_000_000, rel=0.01)
    assert peak < 8 * 1024 * 1024  # 2M offsets would be 16 MB as one array


def test_iterator_rejects_a_bad_chunk() -> None:
    with pytest.raises(ValueError, match="chunk"):
        next(iter_arrival_offsets(_plan(mode="poisson", rate_rps=1), chunk=0))


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["constant", "poisson", "gamma"]),
    rate=st.floats(0.0, 5_000.0),
    rate_end=st.none() | st.floats(0.0, 5_000.0),
    duration=st.floats(0.01, 3.0),
    warmup=st.floats(0.0, 1.0),
    max_requests=st.none() | st.integers(1, 3_000),
    burstiness=st.floats(0.1, 10.0),
    seed=st.integers(0, 2**32),
    chunk=st.integers(1, 5_000),
)
def test_any_plan_gives_a_bounded_sorted_schedule(
    mode: str,
    rate: float,
    rate_end: float | None,
    duration: float,
    warmup: float,
    max_requests: int | None,
    burstiness: float,
    seed: int,
    chunk: int,
) -> None:
    plan = LoadPlan(
        mode=mode,  # type: ignore[arg-type]
        rate_rps=rate,
        rate_end_rps=rate_end,
        duration_s=duration,
        warmup_s=warmup,
        max_requests=max_requests,
        burstiness=burstiness,
        seed=seed,
    )
    offsets = arrival_offsets_ns(plan)
    _check_shape(offsets, plan)
    if offsets.size and rate > 0:
        assert offsets[0] == 0
    chunks = list(iter_arrival_offsets(plan, chunk=chunk))
    joined = np.concatenate(chunks) if chunks else np.empty(0, np.int64)
    np.testing.assert_array_equal(joined, offsets)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mode": "gamma", "rate_rps": 1, "burstiness": 0}, "burstiness"),
        ({"mode": "poisson", "rate_rps": 1, "burstiness": math.nan}, "burstiness"),
        ({"mode": "poisson", "rate_rps": 1, "cooldown_s": -1}, "cooldown_s"),
        ({"mode": "poisson", "rate_end_rps": 5}, "needs rate_rps"),
        ({"mode": "poisson", "rate_rps": 1, "rate_end_rps": -5}, "rate_end_rps"),
        ({"mode": "poisson", "steps": ((5, 1),)}, "must match"),
        ({"mode": "poisson", "steps": ((10, -1),)}, r"steps\[0\].rate_rps"),
        ({"mode": "poisson", "steps": ((0, 1), (10, 1))}, r"steps\[0\].duration_s"),
        ({"mode": "poisson", "rate_rps": 1, "steps": ((10, 1),)}, "not both"),
        ({"mode": "poisson", "steps": ((10, 1, 2),)}, "pair"),
        ({"mode": "concurrency", "steps": ((10, 1),)}, "open-loop"),
        ({"mode": "trace"}, "needs trace"),
        ({"mode": "poisson", "rate_rps": 1, "trace_speedup": 0}, "trace_speedup"),
    ],
)
def test_invalid_plans_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _plan(**fields)


def test_closed_loop_and_rateless_plans_have_no_offsets() -> None:
    with pytest.raises(ValueError, match="open-loop"):
        arrival_offsets_ns(LoadPlan(mode="concurrency"))
    with pytest.raises(ValueError, match="open-loop"):
        arrival_offsets_ns(LoadPlan(mode="poisson"))
    with pytest.raises(ValueError, match="open-loop"):
        next(iter_arrival_offsets(LoadPlan(mode="concurrency")))


def test_steps_fill_the_phase_and_list_input_is_accepted() -> None:
    stages = [(1.0, 10.0), (2.5, 4.0)]
    plan = LoadPlan(mode="constant", steps=stages, warmup_s=0.5, duration_s=3)  # type: ignore[arg-type]
    assert plan.stages[1].rate_rps == 4.0 and plan.total_s == 3.5
    assert hash(plan) == hash(
        LoadPlan(mode="constant", steps=((1.0, 10.0), (2.5, 4.0)), warmup_s=0.5, duration_s=3)
    )


# --- phases ---------------------------------------------------------------------------------


def test_phases_split_warmup_measured_cooldown() -> None:
    plan = _plan(mode="constant", rate_rps=10, warmup_s=1, duration_s=2, cooldown_s=0.5)
    assert measured_window_ns(plan) == (NS_PER_S, 3 * NS_PER_S)
    offsets = arrival_offsets_ns(plan)
    phases = phases_of(offsets, plan)
    assert offsets.size == 35
    assert (phases == Phase.WARMUP).sum() == 10
    assert (phases == Phase.MEASURED).sum() == 20
    assert (phases == Phase.COOLDOWN).sum() == 5
    edges = [0, NS_PER_S - 1, NS_PER_S, 3 * NS_PER_S - 1, 3 * NS_PER_S, 10 * NS_PER_S]
    assert [phase_of(t, plan) for t in edges] == [
        Phase.WARMUP,
        Phase.WARMUP,
        Phase.MEASURED,
        Phase.MEASURED,
        Phase.COOLDOWN,
        Phase.COOLDOWN,
    ]


def test_without_cooldown_everything_after_warmup_is_measured() -> None:
    plan = _plan(mode="poisson", rate_rps=100, warmup_s=1)
    phases = phases_of(arrival_offsets_ns(plan), plan)
    assert set(np.unique(phases).tolist()) == {Phase.WARMUP, Phase.MEASURED}


@given(
    offset=st.integers(-(10**9), 20 * NS_PER_S),
    warmup=st.floats(0, 5),
    duration=st.floats(0.001, 10),
    cooldown=st.floats(0, 5),
)
def test_scalar_and_vector_phases_agree(
    offset: int, warmup: float, duration: float, cooldown: float
) -> None:
    plan = LoadPlan(
        mode="poisson", rate_rps=1, warmup_s=warmup, duration_s=duration, cooldown_s=cooldown
    )
    assert phases_of(np.array([offset]), plan)[0] == phase_of(offset, plan)
