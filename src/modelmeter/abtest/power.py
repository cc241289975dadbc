"""How many units an experiment needs before it starts: power and sample size.

Both use a two-sided test at level α, power 1 − β and an allocation ratio k (treatment units per
control unit, n_t = k·n_c), and both solve for n_c numerically, counting the (tiny) chance of a
significant result in the wrong direction exactly as ``statsmodels.stats.power`` does:

* **Proportions** (a conversion from ``baseline`` to ``baseline + mde``): the normal test on
  Cohen's h = 2·asin√p₂ − 2·asin√p₁ (the arcsine transform makes the variance of a rate
  independent of the rate), power = Φ(h√n_eff − z) + Φ(−h√n_eff − z) with
  n_eff = 1/(1/n_c + 1/n_t) and z = Φ⁻¹(1 − α/2). Cohen (1988), *Statistical Power Analysis for
  the Behavioral Sciences*, ch. 6.
* **Means** (a shift of ``mde`` in a metric of standard deviation ``sd``): the two-sample t-test
  with Cohen's d = mde/sd, power from the noncentral t with n_c + n_t − 2 degrees of freedom and
  noncentrality d√n_eff. Cohen (1988), ch. 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from scipy import optimize, stats

from modelmeter._exceptions import SpecError
from modelmeter.abtest.model import SampleSize

__all__ = [
    "power_means",
    "power_proportions",
    "proportion_effect_size",
    "sample_size_means",
    "sample_size_proportions",
]

_MAX_N = 1e12


def _check_common(alpha: float, power: float | None, ratio: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise SpecError(f"must be between 0 and 1 (exclusive), got {alpha}", field="alpha")
    if power is not None and not alpha < power < 1.0:
        raise SpecError(
            f"must be above alpha ({alpha}) and below 1, got {power}; 0.8 is usual", field="power"
        )
    if not (math.isfinite(ratio) and ratio > 0.0):
        raise SpecError(
            f"must be a positive number (treatment units per control unit), got {ratio}",
            field="ratio",
        )


def proportion_effect_size(baseline: float, mde: float) -> float:
    """Cohen's h between ``baseline`` and ``baseline + mde``."""
    if not 0.0 < baseline < 1.0:
        raise SpecError(
            f"must be a rate between 0 and 1 (exclusive), got {baseline}",
            field="baseline",
        )
    target = baseline + mde
    if mde == 0.0 or not 0.0 < target < 1.0:
        raise SpecError(
            f"must be a non-zero absolute change that keeps the rate inside (0, 1); "
            f"{baseline} + {mde} = {target:g}",
            field="mde",
        )
    return 2.0 * math.asin(math.sqrt(target)) - 2.0 * math.asin(math.sqrt(baseline))


def _normal_power(effect: float, n_control: float, alpha: float, ratio: float) -> float:
    shift = abs(effect) * math.sqrt(1.0 / (1.0 / n_control + 1.0 / (ratio * n_control)))
    z = float(stats.norm.isf(alpha / 2.0))
    return float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))


def _t_power(effect: float, n_control: float, alpha: float, ratio: float) -> float:
    n_treatment = ratio * n_control
    df = n_control + n_treatment - 2.0
    shift = abs(effect) * math.sqrt(1.0 / (1.0 / n_control + 1.0 / n_treatment))
    crit = float(stats.t.isf(alpha / 2.0, df))
    # P(T < −crit) written as P(T' > crit) with T' of noncentrality −shift: scipy's nct.cdf
    # returns NaN far in that tail, where the value is simply ~0.
    wrong_way = float(stats.nct.sf(crit, df, -shift))
    return float(stats.nct.sf(crit, df, shift)) + (0.0 if math.isnan(wrong_way) else wrong_way)


def power_proportions(
    baseline: float, mde: float, n_control: float, *, alpha: float = 0.05, ratio: float = 1.0
) -> float:
    """Power to detect ``baseline`` → ``baseline + mde`` with ``n_control`` control units."""
    _check_common(alpha, None, ratio)
    if not n_control > 0:
        raise SpecError(f"must be positive, got {n_control}", field="n_control")
    return _normal_power(proportion_effect_size(baseline, mde), n_control, alpha, ratio)


def _check_means(mde: float, sd: float) -> float:
    if not (math.isfinite(sd) and sd > 0.0):
        raise SpecError(f"must be a positive standard deviation, got {sd}", field="sd")
    if not (math.isfinite(mde) and mde != 0.0):
        raise SpecError(f"must be a non-zero difference of means, got {mde}", field="mde")
    return mde / sd


def power_means(
    mde: float, sd: float, n_control: float, *, alpha: float = 0.05, ratio: float = 1.0
) -> float:
    """Power of the two-sample t-test to detect a shift ``mde`` when the metric's sd is ``sd``."""
    _check_common(alpha, None, ratio)
    effect = _check_means(mde, sd)
    if not n_control > 1:
        raise SpecError(f"must be above 1, got {n_control}", field="n_control")
    return _t_power(effect, n_control, alpha, ratio)


def _solve(f: Callable[[float], float], target: float, low: float) -> float:
    """The n at which power ``f(n)`` reaches ``target`` (power grows with n)."""
    high = max(low * 2.0, 16.0)
    while f(high) < target:
        high *= 4.0
        if high > _MAX_N:
            raise SpecError(
                "the effect is too small to detect with any practical sample", field="mde"
            )
    return float(optimize.brentq(lambda n: f(n) - target, low, high, xtol=1e-10, rtol=1e-12))


def _size(
    kind: str, effect: float, n_exact: float, alpha: float, power: float, ratio: float, method: str
) -> SampleSize:
    # A hair of tolerance so that an exact 64.0000000001 is not rounded up to 65.
    n_control = math.ceil(n_exact - 1e-7)
    n_treatment = math.ceil(ratio * n_exact - 1e-7)
    return SampleSize(
        kind="proportion" if kind == "proportion" else "mean",
        effect_size=effect,
        alpha=alpha,
        power=power,
        ratio=ratio,
        n_control_exact=n_exact,
        n_control=n_control,
        n_treatment=n_treatment,
        total=n_control + n_treatment,
        method=method,
    )


def sample_size_proportions(
    baseline: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Units per arm to detect a change of ``mde`` (absolute, e.g. 0.01) from ``baseline``."""
    _check_common(alpha, power, ratio)
    effect = proportion_effect_size(baseline, mde)
    n = _solve(lambda n: _normal_power(effect, n, alpha, ratio), power, 1e-6)
    return _size("proportion", effect, n, alpha, power, ratio, "normal approximation, Cohen's h")


def sample_size_means(
    mde: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Units per arm for the t-test to detect a shift ``mde`` in a metric whose sd is ``sd``."""
    _check_common(alpha, power, ratio)
    effect = _check_means(mde, sd)
    # The t-test needs df = n_c(1 + ratio) − 2 > 0.
    low = 1.0 + 1.0 / (1.0 + ratio) + 1e-9
    n = _solve(lambda n: _t_power(effect, n, alpha, ratio), power, low)
    return _size("mean", effect, n, alpha, power, ratio, "noncentral t, Cohen's d")
