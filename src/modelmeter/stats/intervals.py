"""Intervals for one estimate: the percentile interval of bootstrap samples, and Wilson's
interval for a proportion (accuracy, pass rate, success rate)."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from modelmeter.results import Interval
from modelmeter.stats._base import check_level

__all__ = ["BOOTSTRAP_METHOD", "WILSON_METHOD", "percentile_interval", "wilson_interval"]

BOOTSTRAP_METHOD = "bootstrap-percentile"
WILSON_METHOD = "wilson"


def percentile_interval(samples: npt.ArrayLike, level: float = 0.95) -> Interval:
    """The central ``level`` share of bootstrap ``samples`` (percentile method)."""
    check_level(level)
    values = np.asarray(samples, dtype=np.float64)
    if values.size == 0:
        raise ValueError("a percentile interval needs at least one bootstrap sample")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return Interval(low=float(low), high=float(high), level=level, method=BOOTSTRAP_METHOD)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> Interval:
    """Wilson score interval for a proportion ``successes / n``.

    Better than the normal approximation near 0 and 1 and for small ``n``; it never leaves
    [0, 1].
    """
    check_level(level)
    if n <= 0:
        raise ValueError(f"a proportion needs n > 0, got n={n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    return Interval(
        low=max(0.0, centre - half),
        high=min(1.0, centre + half),
        level=level,
        method=WILSON_METHOD,
    )
