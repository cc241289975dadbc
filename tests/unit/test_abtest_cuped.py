"""CUPED: a hand-computed example, and the variance reduction of about ρ² on simulated data."""

from __future__ import annotations

import numpy as np
import pytest

from modelmeter._exceptions import DatasetError
from modelmeter.abtest import analyse, cuped_adjust, from_rows, welch_test


def test_hand_example() -> None:
    # X = 1, 2, 3, 4 (mean 2.5), Y = 1, 3, 2, 6 (mean 3):
    # cov(Y, X) = (3 + 0 − 0.5 + 4.5)/3 = 7/3, var(X) = 5/3, θ = 7/5 = 1.4,
    # Y_cuped = Y − 1.4 (X − 2.5) = 3.1, 3.7, 1.3, 3.9.
    adjustment = cuped_adjust([1.0, 3.0, 2.0, 6.0], [1.0, 2.0, 3.0, 4.0])
    assert adjustment.theta == pytest.approx(1.4)
    assert list(adjustment.adjusted) == pytest.approx([3.1, 3.7, 1.3, 3.9])
    # var(Y) = (4 + 0 + 1 + 9)/3 = 14/3; Y_cuped has mean 3 again and
    # var(Y_cuped) = (0.01 + 0.49 + 2.89 + 0.81)/3 = 4.2/3, so the reduction is 1 − 4.2/14 = 0.7.
    assert adjustment.variance_reduction == pytest.approx(0.7)
    assert adjustment.correlation == pytest.approx((7 / 3) / np.sqrt(5 / 3 * 14 / 3))


def test_hand_example_through_analyse() -> None:
    # Variants A, B, A, B: adjusted A = 3.1, 1.3 (mean 2.2), B = 3.7, 3.9 (mean 3.8):
    # the difference 3.0 on the raw metric becomes 1.6 once the pre-period is accounted for.
    rows = [
        {"arm": arm, "y": y, "pre": x}
        for arm, y, x in (("A", 1, 1), ("B", 3, 2), ("A", 2, 3), ("B", 6, 4))
    ]
    result = analyse(from_rows(rows, variant="arm", metric="y", covariate="pre"))
    assert result.comparisons[0].diff == pytest.approx(3.0)
    assert result.cuped is not None
    (adjusted,) = result.cuped.comparisons
    assert adjusted.diff == pytest.approx(1.6)
    assert adjusted.p_value == pytest.approx(welch_test([3.1, 1.3], [3.7, 3.9]).p_value)
    assert result.cuped.theta == pytest.approx(1.4)


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_variance_drops_by_about_rho_squared_and_the_effect_survives(rho: float) -> None:
    rng = np.random.default_rng(int(rho * 100))
    n = 20_000
    arm = rng.integers(0, 2, n)
    pre = rng.normal(50.0, 10.0, n)
    noise = rng.normal(0.0, 10.0, n)
    y = 50.0 + rho * (pre - 50.0) + np.sqrt(1 - rho**2) * noise + 0.5 * arm
    rows = [
        {"arm": "AB"[a], "y": float(v), "pre": float(x)}
        for a, v, x in zip(arm, y, pre, strict=True)
    ]
    result = analyse(from_rows(rows, variant="arm", metric="y", covariate="pre"))
    assert result.cuped is not None
    assert result.cuped.correlation == pytest.approx(rho, abs=0.02)
    assert result.cuped.variance_reduction == pytest.approx(rho**2, abs=0.02)
    assert result.cuped.se_reduction["B"] == pytest.approx(rho**2, abs=0.03)
    raw, adjusted = result.comparisons[0], result.cuped.comparisons[0]
    assert adjusted.standard_error < raw.standard_error
    assert abs(adjusted.diff - 0.5) < 4.0 * adjusted.standard_error
    assert adjusted.standard_error == pytest.approx(
        raw.standard_error * np.sqrt(1 - rho**2), rel=0.05
    )


def test_a_constant_covariate_is_refused_by_name() -> None:
    rows = [{"arm": "AB"[i % 2], "y": i, "pre": 3} for i in range(6)]
    with pytest.raises(DatasetError, match="column 'pre' has the same value on every row"):
        analyse(from_rows(rows, variant="arm", metric="y", covariate="pre"))
