"""The order-statistics interval for a quantile: hand cases, optimality and simulated coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from modelmeter.stats import QuantileInterval, quantile_interval


def test_median_of_ten_by_hand() -> None:
    # B ~ Bin(10, 1/2): P(B ≤ 1) = 11/1024, P(B ≤ 8) = 1013/1024, so [x(2), x(9)] covers the
    # median with probability 1002/1024 = 0.9785 ≥ 0.95; every narrower pair falls short
    # ([x(2), x(8)] and [x(3), x(9)] both give 957/1024 = 0.9346).
    values = [7.0, 3.0, 9.0, 1.0, 10.0, 4.0, 8.0, 2.0, 6.0, 5.0]
    result = quantile_interval(values, 0.5)
    assert (result.lower_rank, result.upper_rank) == (2, 9)
    assert (result.low, result.high) == (2.0, 9.0)
    assert result.coverage == pytest.approx(1002 / 1024)
    assert result.reaches_level


def test_too_few_values_for_the_level_are_flagged() -> None:
    # n = 5, median, 95%: even [x(1), x(5)] only covers with 1 - 2/32 = 0.9375.
    result = quantile_interval([5, 1, 4, 2, 3], 0.5, level=0.95)
    assert not result.reaches_level
    assert (result.low, result.high, result.lower_rank, result.upper_rank) == (1, 5, 1, 5)
    assert result.coverage == pytest.approx(30 / 32)
    # At 90% the same range is enough.
    assert quantile_interval([5, 1, 4, 2, 3], 0.5, level=0.90).reaches_level


def test_p95_needs_59_observations_at_95_percent() -> None:
    # The range [x(1), x(n)] covers P95 with 1 - 0.95^n - 0.05^n: 0.9490 at n = 58, 0.9515 at 59.
    short = quantile_interval(np.arange(58.0), 0.95)
    assert not short.reaches_level
    assert short.coverage == pytest.approx(1 - 0.95**58 - 0.05**58)
    enough = quantile_interval(np.arange(59.0), 0.95)
    assert enough.reaches_level
    assert enough.upper_rank == 59
    assert enough.coverage >= 0.95


def test_single_observation() -> None:
    result = quantile_interval([12.5], 0.9)
    assert (result.low, result.high, result.coverage, result.reaches_level) == (
        12.5,
        12.5,
        0.0,
        False,
    )


@pytest.mark.parametrize(
    ("n", "q", "level"),
    [(10, 0.5, 0.95), (25, 0.9, 0.9), (40, 0.75, 0.95), (33, 0.1, 0.8), (80, 0.95, 0.95)],
)
def test_ranks_are_the_narrowest_pair_that_reaches_the_level(
    n: int, q: float, level: float
) -> None:
    result = quantile_interval(np.arange(float(n)), q, level)

    def coverage(j: int, k: int) -> float:
        return sum(math.comb(n, m) * q**m * (1 - q) ** (n - m) for m in range(j, k))

    j, k = result.lower_rank, result.upper_rank
    assert coverage(j, k) == pytest.approx(result.coverage, abs=1e-12)
    assert coverage(j, k) >= level
    narrower = [(lo, lo + span) for span in range(1, k - j) for lo in range(1, n - span + 1)]
    assert all(coverage(lo, hi) < level for lo, hi in narrower)


@pytest.mark.parametrize("n", [59, 300, 1000])
def test_coverage_by_simulation(n: int) -> None:
    # 2,000 samples from Exp(1), whose true P95 is -ln(0.05); the share of intervals that contain
    # it must be close to the promised coverage (SE of a share near 0.95 over 2,000 is 0.005).
    rng = np.random.default_rng(20250101 + n)
    truth = -math.log(0.05)
    covered = 0
    repetitions = 2000
    promised = quantile_interval(rng.exponential(size=n), 0.95).coverage
    for _ in range(repetitions):
        result = quantile_interval(rng.exponential(size=n), 0.95)
        covered += result.low <= truth <= result.high
    share = covered / repetitions
    assert 0.93 <= share <= 0.97
    assert abs(share - promised) < 0.02


def test_coverage_equals_the_binomial_formula() -> None:
    result = quantile_interval(np.random.default_rng(0).random(500), 0.99)
    j, k = result.lower_rank, result.upper_rank
    assert result.coverage == pytest.approx(
        binom.cdf(k - 1, 500, 0.99) - binom.cdf(j - 1, 500, 0.99)
    )


def test_the_interval_brackets_the_sample_quantile() -> None:
    values = np.random.default_rng(4).lognormal(3.0, 1.0, 2000)
    result = quantile_interval(values, 0.95)
    assert result.low <= np.quantile(values, 0.95) <= result.high
    assert result.low == np.sort(values)[result.lower_rank - 1]


def test_result_round_trips_through_json() -> None:
    result = quantile_interval(np.arange(100.0), 0.9)
    assert QuantileInterval.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    ("values", "q", "level", "message"),
    [
        ([], 0.5, 0.95, "values is empty"),
        ([1.0, float("inf")], 0.5, 0.95, r"values\[1\] is inf"),
        ([1.0, 2.0], 1.0, 0.95, "q must be a number strictly between 0 and 1"),
        ([1.0, 2.0], 95, 0.95, "q must be"),
        ([1.0, 2.0], 0.5, 0.0, "level must be"),
    ],
)
def test_bad_arguments_name_the_problem(
    values: list[float], q: float, level: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        quantile_interval(values, q, level)
