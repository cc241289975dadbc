"""Fixed-sample comparisons of a treatment with the control.

* **Means** (latency, revenue, any number): Welch's t interval and test. It does not assume equal
  variances, which two variants of a product rarely have, and costs nothing when they are equal.
* **Proportions** (a 0/1 metric): the difference of rates with Newcombe's hybrid score interval
  (Newcombe 1998, method 10), built from the two Wilson score intervals. Unlike the Wald interval
  p₁ − p₂ ± z·se it keeps its coverage for small counts and rates near 0 or 1, and never leaves
  [−1, 1]. The p-value is the pooled two-proportion z-test (the score test, equal to Pearson's
  chi-square without continuity correction). The two come from different constructions, so at the
  very edge of significance the interval may touch 0 while p is just under α, or the reverse.
* **Several treatments**: their p-values against the control are Holm-adjusted (Holm 1979), which
  controls the family-wise error rate and is never less powerful than Bonferroni.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from modelmeter.stats.intervals import wilson_interval

__all__ = ["NEWCOMBE_METHOD", "WELCH_METHOD", "Difference", "proportion_test", "welch_test"]

WELCH_METHOD = "welch-t"
NEWCOMBE_METHOD = "newcombe-wilson interval, pooled z-test"


@dataclass(frozen=True, slots=True)
class Difference:
    """treatment − control, with its standard error, interval and two-sided p-value."""

    diff: float
    standard_error: float
    low: float
    high: float
    p_value: float
    method: str
    df: float | None = None


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")


def welch_test(
    control: npt.ArrayLike, treatment: npt.ArrayLike, *, alpha: float = 0.05
) -> Difference:
    """Welch's t: diff ± t(1 − α/2; ν)·se, se² = s₁²/n₁ + s₂²/n₂, ν by Welch–Satterthwaite."""
    _check_alpha(alpha)
    c = np.asarray(control, dtype=np.float64)
    t = np.asarray(treatment, dtype=np.float64)
    if len(c) < 2 or len(t) < 2:
        raise ValueError("Welch's test needs at least 2 values per group")
    vc = float(np.var(c, ddof=1)) / len(c)
    vt = float(np.var(t, ddof=1)) / len(t)
    diff = float(np.mean(t) - np.mean(c))
    se = math.sqrt(vc + vt)
    if se == 0.0:
        # Both groups constant: the difference is known exactly.
        return Difference(diff, 0.0, diff, diff, 1.0 if diff == 0.0 else 0.0, WELCH_METHOD, None)
    df = (vc + vt) ** 2 / (vc**2 / (len(c) - 1) + vt**2 / (len(t) - 1))
    statistic = diff / se
    p_value = float(2.0 * stats.t.sf(abs(statistic), df))
    half = float(stats.t.ppf(1.0 - alpha / 2.0, df)) * se
    return Difference(diff, se, diff - half, diff + half, p_value, WELCH_METHOD, df)


def proportion_test(
    control_successes: int,
    control_n: int,
    treatment_successes: int,
    treatment_n: int,
    *,
    alpha: float = 0.05,
) -> Difference:
    """p_t − p_c with Newcombe's hybrid score interval and the pooled z-test p-value.

    With Wilson intervals (l_t, u_t) and (l_c, u_c) at level 1 − α and d = p_t − p_c:
    low = d − √((p_t − l_t)² + (u_c − p_c)²), high = d + √((u_t − p_t)² + (p_c − l_c)²).
    """
    _check_alpha(alpha)
    level = 1.0 - alpha
    pc = control_successes / control_n
    pt = treatment_successes / treatment_n
    wc = wilson_interval(control_successes, control_n, level)
    wt = wilson_interval(treatment_successes, treatment_n, level)
    diff = pt - pc
    low = diff - math.sqrt((pt - wt.low) ** 2 + (wc.high - pc) ** 2)
    high = diff + math.sqrt((wt.high - pt) ** 2 + (pc - wc.low) ** 2)
    pooled = (control_successes + treatment_successes) / (control_n + treatment_n)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / control_n + 1.0 / treatment_n))
    p_value = 1.0 if se0 == 0.0 else float(2.0 * stats.norm.sf(abs(diff) / se0))
    se = math.sqrt(pt * (1.0 - pt) / treatment_n + pc * (1.0 - pc) / control_n)
    return Difference(diff, se, low, high, p_value, NEWCOMBE_METHOD)
