"""Always-valid inference (mSPRT): the closed form, and its guarantee checked by simulation.

The simulations are the point: looked at 20 times, the always-valid interval excludes the true
difference in at most α of the experiments, while a fixed-sample test looked at the same 20 times
"finds" a difference that is not there far more often than α.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from scipy import integrate, stats

from modelmeter.abtest import (
    MIN_UNITS,
    Observations,
    analyse,
    default_mixing_sd,
    from_rows,
    msprt,
    sequential_test,
)

ALPHA = 0.05
EXPERIMENTS = 500
UNITS = 2_000
LOOKS = 20
# Monte Carlo slack: 3 standard errors of a rate of α over 500 experiments.
SLACK = 3.0 * math.sqrt(ALPHA * (1.0 - ALPHA) / EXPERIMENTS)

Generator = Callable[[np.random.Generator, npt.NDArray[np.intp]], npt.NDArray[np.float64]]


def _mixture_ratio(diff: float, variance: float, tau: float, null: float) -> float:
    """Λ by numerical integration of the likelihood ratio over θ ~ N(null, τ²)."""

    def integrand(theta: float) -> float:
        return float(
            stats.norm.pdf(diff, theta, math.sqrt(variance)) * stats.norm.pdf(theta, null, tau)
        )

    numerator, _ = integrate.quad(integrand, null - 12 * tau, null + 12 * tau, points=[diff])
    return numerator / float(stats.norm.pdf(diff, null, math.sqrt(variance)))


@pytest.mark.parametrize(
    ("diff", "variance", "tau"), [(0.3, 0.01, 0.2), (0.05, 0.004, 0.1), (-1.2, 0.5, 2.0)]
)
def test_closed_form_equals_the_integrated_mixture(
    diff: float, variance: float, tau: float
) -> None:
    path = msprt([diff], [variance], alpha=ALPHA, mixing_sd=tau)
    expected = _mixture_ratio(diff, variance, tau, 0.0)
    assert path.p_value[0] == pytest.approx(min(1.0, 1.0 / expected), rel=1e-7)


def test_the_sequence_ends_where_the_ratio_reaches_one_over_alpha() -> None:
    path = msprt([0.3], [0.01], alpha=ALPHA, mixing_sd=0.2)
    low, high = float(path.low[0]), float(path.high[0])
    assert low < 0.3 < high
    for edge in (low, high):
        assert _mixture_ratio(0.3, 0.01, 0.2, edge) == pytest.approx(1.0 / ALPHA, rel=1e-6)
        at_edge = msprt([0.3], [0.01], alpha=ALPHA, mixing_sd=0.2, null=edge)
        assert at_edge.p_value[0] == pytest.approx(ALPHA, rel=1e-6)


def test_running_p_and_sequence_only_tighten_and_skip_empty_looks() -> None:
    diff = [np.nan, 0.5, 0.1, 0.4, 0.35]
    variance = [np.nan, 0.2, 0.05, 0.02, 0.01]
    path = msprt(diff, variance, alpha=ALPHA, mixing_sd=0.3)
    assert path.p_value[0] == 1.0 and math.isinf(path.low[0]) and math.isinf(path.high[0])
    assert np.all(np.diff(path.p_value) <= 0.0)
    assert np.all(np.diff(path.low[1:]) >= 0.0) and np.all(np.diff(path.high[1:]) <= 0.0)


def test_default_mixing_sd_makes_the_sequence_tightest_at_that_variance() -> None:
    variance = 0.04
    tau = default_mixing_sd(variance, ALPHA)

    def width(t: float) -> float:
        path = msprt([0.0], [variance], alpha=ALPHA, mixing_sd=t)
        return float(path.high[0] - path.low[0])

    assert width(tau) < width(tau * 1.3) and width(tau) < width(tau / 1.3)
    ratio = tau**2 / variance
    assert ratio == pytest.approx(2 * math.log(1 / ALPHA) + math.log1p(ratio), rel=1e-9)


def _simulate(generate: Generator, truth: float, seed: int) -> tuple[float, float, float]:
    """Shares of experiments where the valid test rejected, the naive one did, the CS missed."""
    rng = np.random.default_rng(seed)
    valid = naive = missed = 0
    for _ in range(EXPERIMENTS):
        groups = rng.integers(0, 2, UNITS).astype(np.intp)
        data = Observations(
            variants=("A", "B"),
            groups=groups,
            metric=generate(rng, groups),
            metric_name="y",
            source="simulation",
        )
        result = sequential_test(data, "A", "B", looks=LOOKS, alpha=ALPHA)
        valid += result.stopped_at is not None
        naive += result.naive_first_significant is not None
        last = result.looks[-1]  # the running intersection: it missed if any look did
        assert last.low is not None and last.high is not None
        missed += not last.low <= truth <= last.high
    return valid / EXPERIMENTS, naive / EXPERIMENTS, missed / EXPERIMENTS


def _normal(rng: np.random.Generator, groups: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    return rng.normal(0.0, 1.0, len(groups))


def _conversions(rng: np.random.Generator, groups: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    return (rng.random(len(groups)) < 0.1).astype(np.float64)


@pytest.mark.parametrize("generate", [_normal, _conversions], ids=["normal", "conversion"])
def test_under_the_null_peeking_20_times_stays_within_alpha_but_naive_does_not(
    generate: Generator,
) -> None:
    valid, naive, missed = _simulate(generate, 0.0, seed=20260301)
    assert valid <= ALPHA + SLACK
    assert missed <= ALPHA + SLACK
    # The fixed-sample test, peeked at after every batch, errs about a quarter of the time.
    assert naive > 0.15
    assert naive > ALPHA + 5 * SLACK


def test_the_sequence_covers_a_nonzero_difference_of_skewed_latencies() -> None:
    def latencies(
        rng: np.random.Generator, groups: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.float64]:
        return rng.exponential(np.where(groups == 1, 2.5, 2.0))

    valid, _, missed = _simulate(latencies, 0.5, seed=7)
    assert missed <= ALPHA + SLACK
    assert valid > 0.9  # a real difference of 0.5 is found, at some look


def test_looks_follow_the_order_column_not_the_row_order() -> None:
    rng = np.random.default_rng(5)
    n = 400
    rows = [
        {"v": "AB"[i % 2], "y": float(rng.normal(0.3 * (i % 2), 1.0)), "t": float(i)}
        for i in range(n)
    ]
    shuffled = [rows[i] for i in rng.permutation(n)]
    in_order = sequential_test(from_rows(rows, variant="v", metric="y"), "A", "B", looks=8)
    by_column = sequential_test(
        from_rows(shuffled, variant="v", metric="y", order_by="t"), "A", "B", looks=8
    )
    assert by_column == in_order
    by_rows = sequential_test(from_rows(shuffled, variant="v", metric="y"), "A", "B", looks=8)
    assert by_rows != in_order


def test_look_counts_and_the_naive_p_at_the_last_look() -> None:
    rng = np.random.default_rng(9)
    control = rng.normal(10.0, 2.0, 300)
    treatment = rng.normal(10.4, 2.0, 300)
    rows = [{"v": "A", "y": float(x)} for x in control] + [
        {"v": "B", "y": float(x)} for x in treatment
    ]
    order = rng.permutation(len(rows))
    data = from_rows([rows[i] for i in order], variant="v", metric="y")
    result = analyse(data, sequential=True, looks=6)
    assert result.sequential is not None
    (sequence,) = result.sequential
    assert [look.look for look in sequence.looks] == [1, 2, 3, 4, 5, 6]
    assert [look.n_control + look.n_treatment for look in sequence.looks] == [
        100,
        200,
        300,
        400,
        500,
        600,
    ]
    last = sequence.looks[-1]
    assert last.p_naive == pytest.approx(
        stats.ttest_ind(treatment, control, equal_var=False).pvalue, rel=1e-9
    )
    assert last.diff == pytest.approx(treatment.mean() - control.mean(), rel=1e-9)
    assert "row order" in " ".join(result.notes)


def test_looks_before_each_arm_has_min_units_are_not_used() -> None:
    # Units alternate A, B; 60 units in 30 looks of 2: an arm reaches 10 units at look 10.
    rng = np.random.default_rng(2)
    rows = [{"v": "AB"[i % 2], "y": float(rng.normal(5.0 * (i % 2), 1.0))} for i in range(60)]
    result = sequential_test(from_rows(rows, variant="v", metric="y"), "A", "B", looks=30)
    early = [look for look in result.looks if min(look.n_control, look.n_treatment) < MIN_UNITS]
    assert [look.look for look in early] == list(range(1, 10))
    assert all(look.diff is None and look.low is None for look in early)
    assert all(look.p_always_valid == 1.0 and look.p_naive is None for look in early)
    # The difference of 5 standard deviations is obvious at once, but not used before look 10.
    assert result.stopped_at == 10
