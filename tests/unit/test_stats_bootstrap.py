"""The paired bootstrap, against scipy, a t-test and bootstrap distributions enumerated by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from modelmeter.stats import PairedScoreTest, paired_bootstrap


def _exact_bootstrap(differences: list[float]) -> tuple[np.ndarray, float]:
    """Every one of the n^n equally likely resamples of the mean difference, and the exact
    two-sided p-value 2·min(P(Δ* ≤ 0), P(Δ* ≥ 0)) without the add-one term."""
    n = len(differences)
    means = np.array(
        [np.mean([differences[i] for i in rows]) for rows in itertools.product(range(n), repeat=n)]
    )
    p = min(1.0, 2.0 * min(np.mean(means <= 0.0), np.mean(means >= 0.0)))
    return means, p


def test_two_items_by_hand() -> None:
    # Differences (0, 1): a resample's mean difference is 0 with probability 1/4, 1/2 with 1/2
    # and 1 with 1/4. So P(Δ* ≤ 0) = 1/4, P(Δ* ≥ 0) = 1 and p = 2 · 1/4 = 0.5; the central 95%
    # runs from 0 to 1.
    result = paired_bootstrap([1.0, 1.0], [1.0, 0.0], n_resamples=40_000, seed=3)
    assert result.difference == 0.5
    assert (result.a_value, result.b_value) == (1.0, 0.5)
    assert result.p_value == pytest.approx(0.5, abs=0.01)
    assert (result.interval_low, result.interval_high) == (0.0, 1.0)


def test_matches_the_enumerated_bootstrap_distribution() -> None:
    a = [0.9, 0.2, 0.7, 0.4, 1.0]
    b = [0.6, 0.5, 0.3, 0.4, 0.2]
    differences = [x - y for x, y in zip(a, b, strict=True)]
    means, exact_p = _exact_bootstrap(differences)
    result = paired_bootstrap(a, b, n_resamples=100_000, seed=9)
    assert result.difference == pytest.approx(float(np.mean(differences)))
    # Monte Carlo error of a probability near 0.1 with 1e5 resamples is about 0.001.
    assert result.p_value == pytest.approx(exact_p, abs=0.006)
    # The exact distribution is discrete, so each limit must be a 2.5% (97.5%) quantile of it,
    # within the Monte Carlo error: about as much mass below it as the level leaves out.
    eps = 1e-9
    assert np.mean(means <= result.interval_low + eps) >= 0.025 - 0.003
    assert np.mean(means < result.interval_low - eps) <= 0.025 + 0.003
    assert np.mean(means >= result.interval_high - eps) >= 0.025 - 0.003
    assert np.mean(means > result.interval_high + eps) <= 0.025 + 0.003


def test_interval_is_scipys_paired_percentile_bootstrap() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(0.6, 0.2, 60)
    b = a - rng.normal(0.03, 0.1, 60)
    for statistic, function in (("mean", np.mean), ("median", np.median)):
        result = paired_bootstrap(a, b, n_resamples=20_000, seed=11, statistic=statistic)
        expected = stats.bootstrap(
            (a, b),
            lambda x, y, axis, f=function: f(x, axis=axis) - f(y, axis=axis),
            paired=True,
            vectorized=True,
            n_resamples=20_000,
            method="percentile",
            rng=np.random.default_rng(12),
        )
        # A different seed: the two agree to within the Monte Carlo error of the 2.5% and
        # 97.5% percentiles, a small share of the bootstrap standard error.
        tolerance = 0.1 * expected.standard_error
        assert result.interval_low == pytest.approx(expected.confidence_interval.low, abs=tolerance)
        assert result.interval_high == pytest.approx(
            expected.confidence_interval.high, abs=tolerance
        )


def test_same_generator_draws_give_scipys_interval_exactly() -> None:
    # scipy draws one (n_resamples, n) index matrix from the generator, as this does when the
    # resamples fit in one block; with the same seed the two intervals are then identical.
    rng = np.random.default_rng(6)
    a = rng.random(40)
    b = rng.random(40)
    result = paired_bootstrap(a, b, n_resamples=5_000, seed=21)
    expected = stats.bootstrap(
        (a, b),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=5_000,
        method="percentile",
        rng=np.random.default_rng(21),
    )
    assert result.interval_low == pytest.approx(expected.confidence_interval.low, rel=1e-9)
    assert result.interval_high == pytest.approx(expected.confidence_interval.high, rel=1e-9)


@pytest.mark.parametrize("data_seed", range(6))
def test_p_value_agrees_with_a_t_test_for_large_normal_samples(data_seed: int) -> None:
    differences = np.random.default_rng(data_seed).normal(0.12, 1.0, 400)
    result = paired_bootstrap(differences, np.zeros(400), n_resamples=20_000, seed=1)
    expected = stats.ttest_1samp(differences, 0.0).pvalue
    assert result.p_value == pytest.approx(expected, abs=0.01)


def test_identical_scores_give_p_one_and_a_zero_interval() -> None:
    scores = [0.3, 0.8, 0.5, 1.0]
    result = paired_bootstrap(scores, scores, n_resamples=500, seed=0)
    assert result.p_value == 1.0
    assert (result.difference, result.interval_low, result.interval_high) == (0.0, 0.0, 0.0)


def test_a_model_better_on_every_item_gets_the_smallest_p_value() -> None:
    result = paired_bootstrap([1.0] * 30, [0.0] * 20 + [0.5] * 10, n_resamples=999, seed=4)
    assert result.p_value == pytest.approx(2 / 1000)
    assert result.interval_low > 0


def test_binary_scores_match_mcnemar_direction() -> None:
    rng = np.random.default_rng(8)
    difficulty = rng.random(300)
    a = (difficulty < 0.8).astype(float)
    b = (difficulty < 0.7).astype(float)
    result = paired_bootstrap(a, b, n_resamples=5000, seed=2)
    assert result.difference == pytest.approx(a.mean() - b.mean())
    assert result.interval_low > 0
    assert result.p_value < 0.01


def test_seeded_results_repeat_and_seeds_differ() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.random(50), rng.random(50)
    first = paired_bootstrap(a, b, n_resamples=2000, seed=7)
    assert paired_bootstrap(a, b, n_resamples=2000, seed=7) == first
    assert paired_bootstrap(a, b, n_resamples=2000, seed=8) != first


def test_resampling_in_several_blocks_stays_consistent() -> None:
    # 20,000 items x 1,000 resamples exceeds one block; the answer must still be a sound
    # bootstrap: centred on the observed difference with the normal-theory spread.
    rng = np.random.default_rng(3)
    a = rng.normal(0.0, 1.0, 20_000)
    b = np.zeros(20_000)
    result = paired_bootstrap(a, b, n_resamples=1000, seed=5)
    se = a.std() / np.sqrt(a.size)
    assert result.interval_low == pytest.approx(result.difference - 1.96 * se, abs=0.25 * se)
    assert result.interval_high == pytest.approx(result.difference + 1.96 * se, abs=0.25 * se)


def test_median_statistic_compares_medians() -> None:
    result = paired_bootstrap(
        [1, 2, 3, 4, 100], [0, 1, 2, 3, 4], n_resamples=200, seed=0, statistic="median"
    )
    assert (result.a_value, result.b_value, result.difference) == (3.0, 2.0, 1.0)
    assert result.statistic == "median"


def test_result_round_trips_through_json() -> None:
    result = paired_bootstrap([0.1, 0.9, 0.4], [0.2, 0.5, 0.4], n_resamples=100, seed=0)
    assert PairedScoreTest.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a_scores": [0.1, 0.2], "b_scores": [0.1]}, "the first model has 2 items"),
        ({"a_scores": [0.1, float("nan")], "b_scores": [0.1, 0.2]}, r"a_scores\[1\] is nan"),
        ({"a_scores": [0.1, 0.2], "b_scores": [0.1, "x"]}, "b_scores must be a flat sequence"),
        ({"n_resamples": 0}, "n_resamples must be a whole number"),
        ({"seed": -1}, "seed must be a whole number"),
        ({"statistic": "mode"}, "statistic must be 'mean' or 'median'"),
        ({"level": 1.0}, "level must be a number strictly between 0 and 1"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "a_scores": [0.1, 0.2],
        "b_scores": [0.3, 0.4],
        "n_resamples": 10,
        "seed": 0,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(**arguments)  # type: ignore[arg-type]
