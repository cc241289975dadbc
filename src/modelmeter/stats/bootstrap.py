"""The paired bootstrap: is one model's mean graded score really higher than another's?

For graded scores (token F1, judge grades, pass rates of code problems) there is no exact test
like McNemar's, so the difference is resampled: draw ``n`` items with replacement, *the same
items for both models* (that is what makes it paired: per-item difficulty cancels out), and
recompute the difference of the statistic. The spread of those differences gives a percentile
interval and a p-value.

Resamples are an integer index matrix drawn in blocks of bounded size, never a Python loop over
resamples; a seed always gives the same answer because the block size depends only on ``n``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from modelmeter.stats._base import FloatArray, StatsModel, as_scores, check_level, check_paired

__all__ = [
    "BOOTSTRAP_PERCENTILE",
    "PAIRED_BOOTSTRAP",
    "PairedScoreTest",
    "Statistic",
    "paired_bootstrap",
]

PAIRED_BOOTSTRAP = "paired-bootstrap"
BOOTSTRAP_PERCENTILE = "bootstrap-percentile"

Statistic = Literal["mean", "median"]

# Upper bound on the elements of one block of resampled indices (8 bytes each: ~32 MiB).
_MAX_BLOCK_ELEMENTS = 4_000_000


class PairedScoreTest(StatsModel):
    """A paired bootstrap comparison of two models' scores on the same items."""

    n: int = Field(description="Items both models were scored on.", ge=1)
    statistic: Statistic = Field(description="The statistic compared: mean or median score.")
    a_value: float = Field(description="The statistic of the first model's (A) scores.")
    b_value: float = Field(description="The statistic of the second model's (B) scores.")
    difference: float = Field(description="a_value − b_value on the data as observed.")
    interval_low: float = Field(description="Lower limit of the percentile interval.")
    interval_high: float = Field(description="Upper limit of the percentile interval.")
    level: float = Field(description="Confidence level of the interval, e.g. 0.95.", gt=0, lt=1)
    interval_method: str = Field(
        default=BOOTSTRAP_PERCENTILE,
        description="How the interval was computed: percentiles of the resampled differences.",
    )
    p_value: float = Field(
        description="Two-sided bootstrap p-value: 2·min(1 + #(Δ* ≤ 0), 1 + #(Δ* ≥ 0)) / "
        "(n_resamples + 1), capped at 1, where Δ* are the resampled differences.",
        gt=0.0,
        le=1.0,
    )
    n_resamples: int = Field(description="How many bootstrap resamples were drawn.", ge=1)
    seed: int = Field(description="Seed of the random generator; the same seed, the same result.")
    method: str = Field(default=PAIRED_BOOTSTRAP, description="The test: paired bootstrap.")


def _resampled_differences(
    a: FloatArray, b: FloatArray, statistic: Statistic, n_resamples: int, seed: int
) -> FloatArray:
    n = a.shape[0]
    rng = np.random.default_rng(seed)
    block = max(1, min(n_resamples, _MAX_BLOCK_ELEMENTS // n))
    parts: list[FloatArray] = []
    differences = a - b
    done = 0
    while done < n_resamples:
        size = min(block, n_resamples - done)
        rows = rng.integers(0, n, size=(size, n), dtype=np.intp)
        if statistic == "mean":
            # The mean of the differences is the difference of the means.
            parts.append(differences[rows].mean(axis=1))
        else:
            parts.append(np.median(a[rows], axis=1) - np.median(b[rows], axis=1))
        done += size
    return np.concatenate(parts)


def paired_bootstrap(
    a_scores: npt.ArrayLike,
    b_scores: npt.ArrayLike,
    *,
    n_resamples: int,
    seed: int,
    statistic: Statistic = "mean",
    level: float = 0.95,
) -> PairedScoreTest:
    """Compare two models' per-item scores on the same items, in the same order.

    Each resample draws ``n`` item indices with replacement and applies them to both models;
    Δ* is the difference of ``statistic`` (A − B) on that resample. The interval is the central
    ``level`` share of the Δ* (percentile method, linear interpolation between order statistics).

    The p-value inverts that interval: it is the smallest ``1 − level`` at which the percentile
    interval would just reach 0, i.e. ``2·min(P*(Δ* ≤ 0), P*(Δ* ≥ 0))``, with one added to each
    count and to ``n_resamples``, the usual rule for Monte Carlo p-values (Davison & Hinkley
    1997, ch. 4), so that it is never 0 and stays valid for a finite number of resamples.
    Differences of exactly 0 count on both sides, which keeps the test conservative for coarse
    scores (0/1 pass rates).
    """
    check_level(level)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a whole number ≥ 1, got {n_resamples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0, got {seed!r}")
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    a = as_scores(a_scores, "a_scores")
    b = as_scores(b_scores, "b_scores")
    n = check_paired(a, b)
    if statistic == "mean":
        a_value, b_value = float(a.mean()), float(b.mean())
    else:
        a_value, b_value = float(np.median(a)), float(np.median(b))
    deltas = _resampled_differences(a, b, statistic, n_resamples, seed)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(deltas, [tail, 1.0 - tail])
    at_or_below = int(np.count_nonzero(deltas <= 0.0))
    at_or_above = int(np.count_nonzero(deltas >= 0.0))
    p_value = min(1.0, 2.0 * (1 + min(at_or_below, at_or_above)) / (n_resamples + 1))
    return PairedScoreTest(
        n=n,
        statistic=statistic,
        a_value=a_value,
        b_value=b_value,
        difference=a_value - b_value,
        interval_low=float(low),
        interval_high=float(high),
        level=level,
        p_value=p_value,
        n_resamples=n_resamples,
        seed=seed,
    )
