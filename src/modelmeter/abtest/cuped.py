"""CUPED: a pre-period covariate removes variance the treatment could not have caused.

Deng, Xu, Kohavi and Walker (2013), *Improving the sensitivity of online controlled experiments
by utilizing pre-experiment data*. With X a unit's value before the experiment (last month's
spend, last week's latency of the same client) and Y its value during it,

    θ = cov(Y, X) / var(X)           (pooled over all units, every variant)
    Y_cuped = Y − θ (X − mean X)

Because assignment is random, X is independent of the variant, so Y_cuped has the same expected
difference between variants as Y, with variance var(Y)(1 − ρ²) where ρ = corr(Y, X). The
difference is then tested on Y_cuped with the usual Welch interval: the same estimand with a
narrower interval, or equivalently the same power from fewer units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["CupedAdjustment", "cuped_adjust"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class CupedAdjustment:
    """θ, the correlation, the adjusted metric and how much of var(Y) it removed."""

    theta: float
    correlation: float
    adjusted: FloatArray
    variance_reduction: float


def cuped_adjust(metric: npt.ArrayLike, covariate: npt.ArrayLike) -> CupedAdjustment:
    """Y − θ(X − mean X) with θ = cov(Y, X)/var(X); raises ValueError when X is constant."""
    y = np.asarray(metric, dtype=np.float64)
    x = np.asarray(covariate, dtype=np.float64)
    if y.shape != x.shape or y.ndim != 1:
        raise ValueError("metric and covariate must be 1-D arrays of the same length")
    if len(y) < 2:
        raise ValueError("CUPED needs at least 2 units")
    var_x = float(np.var(x, ddof=1))
    if var_x == 0.0:
        raise ValueError("the covariate has the same value on every unit")
    cov_yx = float(np.sum((y - y.mean()) * (x - x.mean())) / (len(y) - 1))
    theta = cov_yx / var_x
    adjusted = y - theta * (x - x.mean())
    var_y = float(np.var(y, ddof=1))
    if var_y == 0.0:
        return CupedAdjustment(theta, 0.0, adjusted, 0.0)
    correlation = cov_yx / float(np.sqrt(var_x * var_y))
    reduction = 1.0 - float(np.var(adjusted, ddof=1)) / var_y
    return CupedAdjustment(theta, correlation, adjusted, reduction)
