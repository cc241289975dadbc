"""Always-valid inference: look at an experiment after every batch without inflating errors.

A fixed-sample test promises α only if it is looked at once. Checked after each of 20 batches and
stopped at the first p < 0.05, it declares a difference that does not exist about a quarter of
the time (Armitage, McPherson and Rowe 1969). The mixture sequential probability ratio test
(mSPRT; Robbins 1970; Johari, Pekelis and Walsh, *Always valid inference*, arXiv:1512.04922)
keeps α however often and whenever the data are looked at.

With θ̂ₙ the difference of means (treatment − control) after n units and Vₙ its variance
(s_t²/n_t + s_c²/n_c), mixing the likelihood ratio of "difference θ" against "difference θ₀" over
θ ~ N(θ₀, τ²) gives

    Λₙ(θ₀) = √(Vₙ / (Vₙ + τ²)) · exp( τ² (θ̂ₙ − θ₀)² / (2 Vₙ (Vₙ + τ²)) )

which under θ₀ is a non-negative martingale with mean 1; by Ville's inequality it ever reaches
1/α with probability at most α. Hence:

* the always-valid p-value pₙ = min(1, min over k ≤ n of 1/Λₖ(0));
* the confidence sequence CSₙ = ∩ over k ≤ n of {θ₀ : Λₖ(θ₀) < 1/α}, whose k-th set is
  θ̂ₖ ± √( Vₖ(Vₖ + τ²)/τ² · (2 log(1/α) + log((Vₖ + τ²)/Vₖ)) ) — the normal-mixture boundary of
  Howard, Ramdas, McAuliffe and Sekhon (2021), *Time-uniform, nonparametric, nonasymptotic
  confidence sequences*. With probability ≥ 1 − α it contains the true difference at every look.

The variances are estimated from the data (plug-in), so the guarantee is asymptotic, like the
t-test's. Looks before each arm has ``MIN_UNITS`` units are skipped; from there on the
simulations in the tests keep the error rate within α (normal, 0/1 and skewed metrics). τ sets
where the sequence is tightest; by default it is tuned for the last look (τ² = r·V_N, r solving
r = 2 log(1/α) + log(1 + r)), the sample size a retrospective analysis of a finished log has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from modelmeter.abtest.data import Observations
from modelmeter.abtest.model import SequentialLook, SequentialResult

__all__ = ["MIN_UNITS", "MsprtPath", "default_mixing_sd", "msprt", "sequential_test"]

MIN_UNITS = 10
"""Units each arm needs before a look counts: the plug-in variance of fewer is too noisy."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class MsprtPath:
    """Per look (last axis): the always-valid p-value and the running confidence sequence."""

    p_value: FloatArray
    low: FloatArray
    high: FloatArray


def _check(alpha: float, mixing_sd: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")
    if not (math.isfinite(mixing_sd) and mixing_sd > 0.0):
        raise ValueError(f"the mixing standard deviation must be positive, got {mixing_sd}")


def msprt(
    diff: npt.ArrayLike,
    variance: npt.ArrayLike,
    *,
    alpha: float,
    mixing_sd: float,
    null: float = 0.0,
) -> MsprtPath:
    """Always-valid p-values (against ``null``) and confidence sequences over looks.

    ``diff`` and ``variance`` hold θ̂ and V per look along the last axis (any leading axes are
    independent experiments). A look whose ``diff`` or ``variance`` is NaN, or whose variance is
    not positive, carries no information: the p-value and the sequence stay as they were.
    """
    _check(alpha, mixing_sd)
    d = np.asarray(diff, dtype=np.float64)
    v = np.asarray(variance, dtype=np.float64)
    tau2 = mixing_sd**2
    usable = np.isfinite(d) & np.isfinite(v) & (v > 0.0)
    v_safe = np.where(usable, v, 1.0)
    d_safe = np.where(usable, d, null)
    log_lambda = 0.5 * np.log(v_safe / (v_safe + tau2)) + tau2 * (d_safe - null) ** 2 / (
        2.0 * v_safe * (v_safe + tau2)
    )
    log_lambda = np.where(usable, log_lambda, -np.inf)
    p_value = np.minimum(1.0, np.exp(-np.maximum.accumulate(log_lambda, axis=-1)))
    half = np.sqrt(
        v_safe
        * (v_safe + tau2)
        / tau2
        * (2.0 * math.log(1.0 / alpha) + np.log((v_safe + tau2) / v_safe))
    )
    low = np.maximum.accumulate(np.where(usable, d_safe - half, -np.inf), axis=-1)
    high = np.minimum.accumulate(np.where(usable, d_safe + half, np.inf), axis=-1)
    return MsprtPath(p_value=p_value, low=low, high=high)


def _optimal_ratio(alpha: float) -> float:
    """r minimising the boundary's width at one chosen look: r = 2 log(1/α) + log(1 + r)."""
    c = 2.0 * math.log(1.0 / alpha)
    return float(optimize.brentq(lambda r: r - c - math.log1p(r), 1e-9, 10.0 * c + 10.0))


def default_mixing_sd(final_variance: float, alpha: float) -> float:
    """τ making the confidence sequence tightest where the variance of θ̂ is ``final_variance``."""
    if not (math.isfinite(final_variance) and final_variance > 0.0):
        raise ValueError(f"the final variance must be positive, got {final_variance}")
    return math.sqrt(_optimal_ratio(alpha) * final_variance)


def _cumulative(
    values: FloatArray, in_group: npt.NDArray[np.bool_], ends: npt.NDArray[np.intp]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Count, mean and sample variance of one group's values among the first ``ends`` rows."""
    shift = float(values[in_group].mean()) if in_group.any() else 0.0
    x = np.where(in_group, values - shift, 0.0)
    n = np.cumsum(in_group)[ends - 1].astype(np.float64)
    s1 = np.cumsum(x)[ends - 1]
    s2 = np.cumsum(x * x)[ends - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.maximum(s2 - n * mean * mean, 0.0) / (n - 1.0)
    mean = np.where(n >= 2, mean + shift, np.nan)
    var = np.where(n >= 2, var, np.nan)
    return n, mean, var


def sequential_test(
    data: Observations,
    control: str,
    treatment: str,
    *,
    looks: int = 20,
    alpha: float = 0.05,
    mixing_sd: float | None = None,
    min_units: int = MIN_UNITS,
) -> SequentialResult:
    """mSPRT of treatment vs control, looked at after each of ``looks`` equal batches of units.

    Units are taken in ``data.order`` (row order when absent); the batches split the units of
    the two variants into ``looks`` nearly equal parts. Looks before both arms have
    ``min_units`` units are shown but not used.
    """
    if looks < 1:
        raise ValueError(f"looks must be at least 1, got {looks}")
    if min_units < 2:
        raise ValueError(f"min_units must be at least 2, got {min_units}")
    index = np.arange(len(data.metric))
    if data.order is not None:
        index = index[np.argsort(data.order, kind="stable")]
    c_id, t_id = data.variants.index(control), data.variants.index(treatment)
    groups = data.groups[index]
    keep = (groups == c_id) | (groups == t_id)
    values = data.metric[index][keep]
    is_treatment = groups[keep] == t_id
    total = len(values)
    looks = min(looks, total)
    ends = np.ceil(np.arange(1, looks + 1) * total / looks).astype(np.intp)
    n_c, mean_c, var_c = _cumulative(values, ~is_treatment, ends)
    n_t, mean_t, var_t = _cumulative(values, is_treatment, ends)
    vc, vt = var_c / n_c, var_t / n_t
    diff = mean_t - mean_c
    variance = vc + vt
    # Before each arm has a few units the plug-in variance is too noisy to lean on.
    early = (n_c < min_units) | (n_t < min_units)
    diff = np.where(early, np.nan, diff)
    variance = np.where(early, np.nan, variance)
    if mixing_sd is None:
        final = float(variance[-1])
        if not (math.isfinite(final) and final > 0.0):
            raise ValueError(
                "the metric has no spread in these two variants at the last look, so there "
                "is nothing to test"
            )
        mixing_sd = default_mixing_sd(final, alpha)
    path = msprt(diff, variance, alpha=alpha, mixing_sd=mixing_sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = variance**2 / (vc**2 / (n_c - 1.0) + vt**2 / (n_t - 1.0))
        naive = 2.0 * stats.t.sf(np.abs(diff) / np.sqrt(variance), df)
    rows: list[SequentialLook] = []
    stopped_at: int | None = None
    naive_first: int | None = None
    for k in range(looks):
        usable = bool(np.isfinite(diff[k]) and variance[k] > 0.0)
        p_naive = float(naive[k]) if usable else None
        p_valid = float(path.p_value[k])
        if stopped_at is None and p_valid <= alpha:
            stopped_at = k + 1
        if naive_first is None and p_naive is not None and p_naive < alpha:
            naive_first = k + 1
        low, high = float(path.low[k]), float(path.high[k])
        rows.append(
            SequentialLook(
                look=k + 1,
                n_control=int(n_c[k]),
                n_treatment=int(n_t[k]),
                diff=float(diff[k]) if np.isfinite(diff[k]) else None,
                low=low if math.isfinite(low) else None,
                high=high if math.isfinite(high) else None,
                p_always_valid=p_valid,
                p_naive=p_naive,
            )
        )
    return SequentialResult(
        treatment=treatment,
        control=control,
        mixing_sd=mixing_sd,
        alpha=alpha,
        looks=rows,
        stopped_at=stopped_at,
        naive_first_significant=naive_first,
    )
