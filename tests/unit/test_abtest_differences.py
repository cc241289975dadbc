"""Fixed-sample A/B statistics against scipy, statsmodels and published worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from modelmeter._exceptions import SpecError
from modelmeter.abtest import (
    Observations,
    analyse,
    from_rows,
    proportion_test,
    sample_ratio_mismatch,
    welch_test,
)
from modelmeter.stats import holm as _holm

# Wikipedia, "Welch's t-test", example 1 (two samples of 15): t = 2.46, ν ≈ 25.0, p = 0.021.
A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]


def test_welch_matches_the_textbook_example_and_scipy() -> None:
    result = welch_test(A1, A2)
    assert result.diff / result.standard_error == pytest.approx(2.46, abs=0.005)
    assert result.df == pytest.approx(24.99, abs=0.01)
    assert result.p_value == pytest.approx(0.021, abs=0.0005)
    reference = stats.ttest_ind(A2, A1, equal_var=False)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    interval = reference.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high), rel=1e-10)


def test_welch_matches_statsmodels_on_unequal_groups() -> None:
    rng = np.random.default_rng(3)
    control = rng.normal(100.0, 10.0, 40)
    treatment = rng.normal(104.0, 25.0, 90)
    result = welch_test(control, treatment, alpha=0.1)
    compare = CompareMeans(DescrStatsW(treatment), DescrStatsW(control))
    low, high = compare.tconfint_diff(alpha=0.1, usevar="unequal")
    _, p_value, df = compare.ttest_ind(usevar="unequal")
    assert (result.low, result.high) == pytest.approx((low, high), rel=1e-10)
    assert result.p_value == pytest.approx(p_value, rel=1e-10)
    assert result.df == pytest.approx(df, rel=1e-10)


def test_welch_on_constant_groups_is_exact() -> None:
    same = welch_test([2.0, 2.0, 2.0], [2.0, 2.0])
    assert same.p_value == 1.0 and (same.low, same.high) == (0.0, 0.0)
    apart = welch_test([1.0, 1.0], [3.0, 3.0])
    assert apart.p_value == 0.0 and apart.diff == 2.0


def test_newcombe_interval_matches_newcombe_1998_and_statsmodels() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 − 48/80,
    # method 10 (hybrid score) gives 0.0524 to 0.3339.
    result = proportion_test(48, 80, 56, 70)
    assert result.diff == pytest.approx(0.2)
    assert result.low == pytest.approx(0.0524, abs=5e-5)
    assert result.high == pytest.approx(0.3339, abs=5e-5)
    low, high = confint_proportions_2indep(56, 70, 48, 80, method="newcomb", compare="diff")
    assert (result.low, result.high) == pytest.approx((low, high), rel=1e-9)


@pytest.mark.parametrize(
    ("control", "treatment"), [((120, 1000), (151, 1000)), ((0, 30), (4, 25)), ((9, 10), (10, 10))]
)
def test_proportions_match_statsmodels(
    control: tuple[int, int], treatment: tuple[int, int]
) -> None:
    result = proportion_test(*control, *treatment, alpha=0.1)
    low, high = confint_proportions_2indep(
        treatment[0], treatment[1], control[0], control[1], method="newcomb", alpha=0.1
    )
    assert (result.low, result.high) == pytest.approx((low, high), rel=1e-9, abs=1e-12)
    _, p_value = proportions_ztest(
        [treatment[0], control[0]], [treatment[1], control[1]], alternative="two-sided"
    )
    assert result.p_value == pytest.approx(p_value, rel=1e-9)


def test_holm_matches_statsmodels() -> None:
    p_values = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
    _, expected, _, _ = multipletests(p_values, method="holm")
    assert _holm(p_values) == pytest.approx(list(expected), rel=1e-12)
    # By hand for three: sorted 0.01, 0.02, 0.04 -> 0.03, 0.04, 0.04.
    assert _holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])


def test_srm_matches_scipy_and_the_kohavi_example() -> None:
    # Kohavi, Tang and Xu (2020), ch. 21: 821,588 vs 815,482 users on a 50/50 split,
    # ratio 0.5037, p ≈ 1.8e-6: a sample-ratio mismatch.
    check = sample_ratio_mismatch(["control", "treatment"], [821_588, 815_482])
    assert check.p_value == pytest.approx(1.8e-6, rel=0.02)
    assert check.mismatch
    reference = stats.chisquare([821_588, 815_482])
    assert check.chi2 == pytest.approx(reference.statistic, rel=1e-12)
    assert check.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_srm_with_an_unequal_split() -> None:
    counts = [8_950, 1_050]
    check = sample_ratio_mismatch(["A", "B"], counts, {"A": 90, "B": 10})
    reference = stats.chisquare(counts, f_exp=[9_000, 1_000])
    assert check.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert not check.mismatch and check.planned_share == [0.9, 0.1]
    assert sample_ratio_mismatch(["A", "B"], counts).mismatch  # against 50/50 it is wild


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ([50, 30, 20], "3 weights but the data has 2 variants"),
        ({"A": 50, "C": 50}, "names variants not in the data: C"),
        ({"A": 50}, "has no share for B"),
        ([50, 0], "share of 'B' must be a positive number"),
    ],
)
def test_bad_splits_are_named(split: list[float] | dict[str, float], message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        sample_ratio_mismatch(["A", "B"], [10, 10], split)
    assert caught.value.field == "split"


def _three_arms() -> Observations:
    rng = np.random.default_rng(11)
    rows: list[dict[str, object]] = []
    for name, rate, n in (("B", 0.13, 1500), ("A", 0.10, 1500), ("C", 0.105, 1500)):
        rows += [{"arm": name, "y": int(v)} for v in rng.random(n) < rate]
    return from_rows(rows, variant="arm", metric="y")


def test_analyse_three_variants_holm_adjusts_against_the_control() -> None:
    data = _three_arms()
    result = analyse(data)
    assert result.control == "A" and result.metric_kind == "proportion"
    assert [v.name for v in result.variants] == ["A", "B", "C"]
    assert [c.treatment for c in result.comparisons] == ["B", "C"]
    raw = [c.p_value for c in result.comparisons]
    _, expected, _, _ = multipletests(raw, method="holm")
    assert [c.p_holm for c in result.comparisons] == pytest.approx(list(expected))
    for comparison in result.comparisons:
        assert comparison.significant == (
            comparison.p_holm is not None and comparison.p_holm < 0.05
        )
    by_name = {v.name: v for v in result.variants}
    b = result.comparisons[0]
    assert b.diff == pytest.approx(by_name["B"].mean - by_name["A"].mean)
    assert b.relative_diff == pytest.approx(b.diff / by_name["A"].mean)
    assert not result.srm.mismatch


def test_analyse_names_the_control_and_refuses_an_unknown_one() -> None:
    data = _three_arms()
    result = analyse(data, control="C")
    assert [c.treatment for c in result.comparisons] == ["A", "B"]
    with pytest.raises(SpecError, match="no variant 'D' in the data; variants: A, B, C"):
        analyse(data, control="D")


def test_two_variants_have_no_holm_and_a_mean_metric_uses_welch() -> None:
    rows = [{"v": "A", "ms": x} for x in (10.0, 12.0, 11.0, 13.0)]
    rows += [{"v": "B", "ms": x} for x in (14.0, 15.0, 13.5, 16.0)]
    result = analyse(from_rows(rows, variant="v", metric="ms"))
    (only,) = result.comparisons
    assert only.p_holm is None and only.method == "welch-t" and result.metric_kind == "mean"
    assert only.p_value == pytest.approx(
        stats.ttest_ind([14.0, 15.0, 13.5, 16.0], [10.0, 12.0, 11.0, 13.0], equal_var=False).pvalue
    )


def test_a_forced_proportion_needs_a_binary_metric() -> None:
    rows = [{"v": v, "y": y} for v, y in (("A", 0), ("A", 2), ("B", 1), ("B", 0))]
    with pytest.raises(SpecError, match=r"a proportion needs a 0/1 metric.*value 2"):
        analyse(from_rows(rows, variant="v", metric="y"), metric_kind="proportion")
    assert analyse(from_rows(rows, variant="v", metric="y")).metric_kind == "mean"


def test_an_srm_is_flagged_in_the_result() -> None:
    rows = [{"v": "A", "y": i % 2} for i in range(700)] + [
        {"v": "B", "y": i % 2} for i in range(500)
    ]
    result = analyse(from_rows(rows, variant="v", metric="y"))
    assert result.srm.mismatch and result.srm.observed == [700, 500]
    assert result.notes[0].startswith("sample-ratio mismatch")
    assert "do not trust these results" in result.notes[0]
    planned = analyse(from_rows(rows, variant="v", metric="y"), split=[7, 5])
    assert not planned.srm.mismatch
