"""A distribution-free confidence interval for a quantile, such as P95 latency.

Latency distributions are skewed, heavy-tailed and often multi-modal, so no formula that assumes
a shape can be trusted for their tail. Order statistics need no shape at all: if ξ is the true
q-quantile of a continuous distribution, the number B of the n observations at or below ξ is
Binomial(n, q), and for the sorted sample ``x(1) ≤ … ≤ x(n)``::

    P(x(j) ≤ ξ < x(k)) = P(j ≤ B < k) = F(k − 1) − F(j − 1),    F the Binomial(n, q) CDF

so ``[x(j), x(k)]`` is a confidence interval with exactly that coverage, whatever the
distribution. With ties in the data (latencies rounded to a clock tick) the coverage can only be
higher.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import Field
from scipy.stats import binom

from modelmeter.stats._base import StatsModel, as_scores, check_level

__all__ = ["ORDER_STATISTICS", "QuantileInterval", "quantile_interval"]

ORDER_STATISTICS = "order-statistics"

# Coverage is compared with the level with this slack so that a binomial CDF computed one ulp
# short of an exact target does not push the interval out by a rank.
_TOLERANCE = 1e-12


class QuantileInterval(StatsModel):
    """A confidence interval for a quantile from two order statistics of the sample."""

    q: float = Field(description="The quantile, e.g. 0.95 for P95.", gt=0.0, lt=1.0)
    n: int = Field(description="Number of observations.", ge=1)
    level: float = Field(description="Confidence level asked for, e.g. 0.95.", gt=0.0, lt=1.0)
    low: float = Field(description="Lower limit: the lower_rank-th smallest observation.")
    high: float = Field(description="Upper limit: the upper_rank-th smallest observation.")
    lower_rank: int = Field(description="1-based rank j of the lower limit in the sorted sample.")
    upper_rank: int = Field(description="1-based rank k of the upper limit in the sorted sample.")
    coverage: float = Field(
        description="Exact coverage P(j ≤ B < k), B ~ Binomial(n, q), for continuous data.",
        ge=0.0,
        le=1.0,
    )
    reaches_level: bool = Field(
        description="False when n is too small for any two order statistics to reach the level: "
        "the interval is then the whole sample range and coverage says what it achieves."
    )
    method: str = Field(default=ORDER_STATISTICS, description="How the interval was computed.")


def quantile_interval(values: npt.ArrayLike, q: float, level: float = 0.95) -> QuantileInterval:
    """The narrowest-in-ranks pair of order statistics that covers the ``q``-quantile.

    Among rank pairs ``j < k`` with coverage ``F(k − 1) − F(j − 1) ≥ level`` it takes the one
    with the fewest ranks between them (``k − j`` smallest); among those, the one whose two
    tails ``P(B < j)`` and ``P(B ≥ k)`` are most nearly equal, then the lowest ``j``. The
    choice depends only on ``n``, ``q`` and ``level``, never on the data.

    When no pair reaches ``level`` (for P95 at 95% that means fewer than 59 observations), the
    interval is the sample range ``[x(1), x(n)]`` with ``reaches_level=False`` and its actual
    coverage ``1 − qⁿ − (1 − q)ⁿ``; with a single observation it is that value, coverage 0.
    """
    check_level(level)
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 < q < 1.0:
        raise ValueError(f"q must be a number strictly between 0 and 1, got {q!r}")
    data = np.sort(as_scores(values, "values"))
    n = int(data.shape[0])
    if n == 0:
        raise ValueError("values is empty: a quantile interval needs at least one observation")
    # cdf[m] = P(B ≤ m) for m = 0..n; coverage of ranks (j, k) is cdf[k-1] - cdf[j-1].
    cdf = binom.cdf(np.arange(n + 1), n, q)
    lower = np.arange(1, n, dtype=np.intp)  # candidate j = 1..n-1
    targets = cdf[lower - 1] + level - _TOLERANCE
    # Smallest m with cdf[m] ≥ target, so k = m + 1 is the nearest upper rank that reaches it.
    upper = np.searchsorted(cdf, targets, side="left") + 1
    feasible = upper <= n
    if n < 2 or not feasible.any():
        coverage = float(cdf[n - 1] - cdf[0]) if n >= 2 else 0.0
        return QuantileInterval(
            q=q,
            n=n,
            level=level,
            low=float(data[0]),
            high=float(data[-1]),
            lower_rank=1,
            upper_rank=n,
            coverage=min(1.0, max(0.0, coverage)),
            reaches_level=False,
        )
    lower, upper = lower[feasible], upper[feasible]
    span = upper - lower
    below = cdf[lower - 1]
    above = 1.0 - cdf[upper - 1]
    imbalance = np.abs(below - above)
    # np.lexsort sorts by the last key first: span, then imbalance, then j.
    best = int(np.lexsort((lower, imbalance, span))[0])
    j, k = int(lower[best]), int(upper[best])
    return QuantileInterval(
        q=q,
        n=n,
        level=level,
        low=float(data[j - 1]),
        high=float(data[k - 1]),
        lower_rank=j,
        upper_rank=k,
        coverage=min(1.0, float(cdf[k - 1] - cdf[j - 1])),
        reaches_level=True,
    )
