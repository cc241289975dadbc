"""Paired right/wrong outcomes of two models on the same items: McNemar's exact test and
Newcombe's interval for the difference in accuracy.

When two models answer the same questions their errors are correlated (hard items are hard for
both), so treating the two accuracies as independent proportions wastes that pairing: the test
would be too cautious and the interval too wide. Only the *discordant* items, where exactly one
model is right, carry evidence about which one is better; McNemar's test looks at those alone.

The 2×2 table of one comparison (A is the first model, B the second)::

                    B right        B wrong
    A right      both_correct      a_only
    A wrong         b_only         neither
"""

from __future__ import annotations

import math

import numpy.typing as npt
from pydantic import Field
from scipy.stats import binomtest

from modelmeter.stats._base import StatsModel, as_booleans, check_level, check_paired
from modelmeter.stats.intervals import wilson_interval

__all__ = [
    "MCNEMAR_EXACT",
    "NEWCOMBE_PAIRED",
    "PairedProportionTest",
    "mcnemar_exact",
    "newcombe_paired_interval",
]

MCNEMAR_EXACT = "mcnemar-exact"
NEWCOMBE_PAIRED = "newcombe-hybrid-score"


class PairedProportionTest(StatsModel):
    """McNemar's exact test and Newcombe's interval for two models' accuracy on the same items."""

    n: int = Field(description="Items both models were scored on.", ge=1)
    both_correct: int = Field(description="Items both models got right.", ge=0)
    a_only: int = Field(description="Items only the first model (A) got right.", ge=0)
    b_only: int = Field(description="Items only the second model (B) got right.", ge=0)
    neither: int = Field(description="Items both models got wrong.", ge=0)
    a_accuracy: float = Field(description="Share of items A got right.", ge=0.0, le=1.0)
    b_accuracy: float = Field(description="Share of items B got right.", ge=0.0, le=1.0)
    difference: float = Field(
        description="Accuracy of A minus accuracy of B, = (a_only − b_only) / n.", ge=-1.0, le=1.0
    )
    interval_low: float = Field(description="Lower limit of the interval for the difference.")
    interval_high: float = Field(description="Upper limit of the interval for the difference.")
    level: float = Field(description="Confidence level of the interval, e.g. 0.95.", gt=0, lt=1)
    interval_method: str = Field(
        default=NEWCOMBE_PAIRED,
        description="How the interval was computed: Newcombe (1998) method 10, hybrid score.",
    )
    p_value: float = Field(
        description="Two-sided exact McNemar p-value: binomial test of a_only out of the "
        "discordant items against 1/2; 1 when there are no discordant items.",
        ge=0.0,
        le=1.0,
    )
    method: str = Field(default=MCNEMAR_EXACT, description="The test: exact McNemar.")


def newcombe_paired_interval(
    both_correct: int, a_only: int, b_only: int, neither: int, level: float = 0.95
) -> tuple[float, float]:
    """Newcombe's (1998) method 10 interval for the difference of two paired proportions.

    The difference is ``(a_only − b_only) / n``, the first model's accuracy minus the second's.
    Each accuracy gets its Wilson score interval ``[l, u]``; the limits are then combined
    ("square and add") with the correlation φ between the two proportions::

        low  = d − sqrt((p1 − l1)² − 2 φ (p1 − l1)(u2 − p2) + (u2 − p2)²)
        high = d + sqrt((u1 − p1)² − 2 φ (u1 − p1)(p2 − l2) + (p2 − l2)²)

    where φ is the phi coefficient of the 2×2 table with Newcombe's correction: the numerator
    ``both_correct·neither − a_only·b_only`` is replaced by ``max(0, value − n/2)`` when it is
    positive, and φ is 0 when a margin is empty. This reproduces Newcombe's published limits.
    """
    check_level(level)
    counts = (both_correct, a_only, b_only, neither)
    for name, count in zip(("both_correct", "a_only", "b_only", "neither"), counts, strict=True):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{name} must be a whole number ≥ 0, got {count!r}")
    n = sum(counts)
    if n == 0:
        raise ValueError("the 2×2 table is empty: at least one item is needed")
    a_right = both_correct + a_only
    b_right = both_correct + b_only
    p1, p2 = a_right / n, b_right / n
    ci1 = wilson_interval(a_right, n, level)
    ci2 = wilson_interval(b_right, n, level)
    margins = a_right * (n - a_right) * b_right * (n - b_right)
    phi = 0.0
    if margins > 0:
        association = float(both_correct * neither - a_only * b_only)
        if association > 0:
            association = max(0.0, association - n / 2.0)
        phi = association / math.sqrt(margins)
    down1, up1 = p1 - ci1.low, ci1.high - p1
    down2, up2 = p2 - ci2.low, ci2.high - p2
    difference = p1 - p2
    low = difference - math.sqrt(max(0.0, down1**2 - 2.0 * phi * down1 * up2 + up2**2))
    high = difference + math.sqrt(max(0.0, up1**2 - 2.0 * phi * up1 * down2 + down2**2))
    return max(-1.0, low), min(1.0, high)


def mcnemar_exact(
    a_correct: npt.ArrayLike, b_correct: npt.ArrayLike, *, level: float = 0.95
) -> PairedProportionTest:
    """Compare two models' right/wrong outcomes on the same items, in the same order.

    ``a_correct[i]`` and ``b_correct[i]`` say whether model A and model B got item ``i`` right.
    The p-value is McNemar's exact test: under "equally accurate", each of the ``a_only + b_only``
    discordant items is equally likely to favour either model, so ``a_only`` is
    Binomial(a_only + b_only, 1/2); the p-value is the two-sided binomial test. The difference in
    accuracy (A − B) gets Newcombe's paired interval at ``level``.
    """
    check_level(level)
    a = as_booleans(a_correct, "a_correct")
    b = as_booleans(b_correct, "b_correct")
    n = check_paired(a, b)
    both_correct = int((a & b).sum())
    a_only = int((a & ~b).sum())
    b_only = int((~a & b).sum())
    neither = n - both_correct - a_only - b_only
    discordant = a_only + b_only
    p_value = 1.0 if discordant == 0 else float(binomtest(a_only, discordant, 0.5).pvalue)
    low, high = newcombe_paired_interval(both_correct, a_only, b_only, neither, level)
    return PairedProportionTest(
        n=n,
        both_correct=both_correct,
        a_only=a_only,
        b_only=b_only,
        neither=neither,
        a_accuracy=(both_correct + a_only) / n,
        b_accuracy=(both_correct + b_only) / n,
        difference=(a_only - b_only) / n,
        interval_low=low,
        interval_high=high,
        level=level,
        p_value=min(1.0, p_value),
    )
