"""Sample sizes against statsmodels.stats.power and Cohen's (1988) tables."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from modelmeter._exceptions import SpecError
from modelmeter.abtest import (
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power", "ratio"),
    [
        (0.10, 0.01, 0.05, 0.8, 1.0),
        (0.30, -0.05, 0.01, 0.9, 1.0),
        (0.02, 0.005, 0.05, 0.8, 3.0),
        (0.5, 0.1, 0.1, 0.95, 0.5),
    ],
)
def test_proportions_match_normal_ind_power(
    baseline: float, mde: float, alpha: float, power: float, ratio: float
) -> None:
    size = sample_size_proportions(baseline, mde, alpha=alpha, power=power, ratio=ratio)
    effect = proportion_effectsize(baseline + mde, baseline)
    expected = NormalIndPower().solve_power(
        effect_size=effect, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    assert size.effect_size == pytest.approx(effect, rel=1e-12)
    assert size.n_control_exact == pytest.approx(expected, rel=1e-6)
    assert size.n_control == math.ceil(expected)
    assert size.n_treatment == math.ceil(expected * ratio)
    assert size.total == size.n_control + size.n_treatment
    assert power_proportions(baseline, mde, size.n_control, alpha=alpha, ratio=ratio) >= power


@pytest.mark.parametrize(
    ("mde", "sd", "alpha", "power", "ratio"),
    [(5.0, 10.0, 0.05, 0.8, 1.0), (1.0, 4.0, 0.01, 0.9, 2.0), (30.0, 20.0, 0.05, 0.8, 1.0)],
)
def test_means_match_t_test_ind_power(
    mde: float, sd: float, alpha: float, power: float, ratio: float
) -> None:
    size = sample_size_means(mde, sd, alpha=alpha, power=power, ratio=ratio)
    expected = TTestIndPower().solve_power(
        effect_size=mde / sd, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    assert size.n_control_exact == pytest.approx(expected, rel=1e-6)
    assert size.n_control == math.ceil(expected)
    achieved = TTestIndPower().power(mde / sd, size.n_control, alpha, ratio=ratio)
    assert power_means(mde, sd, size.n_control, alpha=alpha, ratio=ratio) == pytest.approx(achieved)


def test_cohen_tables() -> None:
    # Cohen (1988): two-sample t-test, α = .05 two-sided, power .80: d = .5 needs 64 per group,
    # d = .8 needs 26 (table 2.4.1); arcsine test of proportions, h = .2, needs 392 (table 6.4.1).
    assert sample_size_means(0.5, 1.0).n_control == 64
    assert sample_size_means(0.8, 1.0).n_control == 26
    # h = 0.2 exactly: p₁ = 0.5, p₂ = sin²(asin(√0.5) + 0.1).
    p2 = math.sin(math.asin(math.sqrt(0.5)) + 0.1) ** 2
    size = sample_size_proportions(0.5, p2 - 0.5)
    assert size.effect_size == pytest.approx(0.2)
    assert size.n_control == 393  # 392.44 by the formula; Cohen's table rounds to 392


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: sample_size_proportions(1.2, 0.01), "baseline"),
        (lambda: sample_size_proportions(0.95, 0.1), "mde"),
        (lambda: sample_size_proportions(0.1, 0.0), "mde"),
        (lambda: sample_size_proportions(0.1, 0.01, power=0.01), "power"),
        (lambda: sample_size_proportions(0.1, 0.01, alpha=0.0), "alpha"),
        (lambda: sample_size_means(1.0, -2.0), "sd"),
        (lambda: sample_size_means(1.0, 2.0, ratio=0.0), "ratio"),
    ],
)
def test_bad_inputs_name_the_field(call: object, field: str) -> None:
    assert callable(call)
    with pytest.raises(SpecError) as caught:
        call()
    assert caught.value.field == field
