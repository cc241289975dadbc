"""Holm's step-down correction: many pairwise tests without many false "winners".

Comparing k models pairwise runs k(k−1)/2 tests; at 5% each, some pair looks different by chance
alone. Holm (1979) controls the family-wise error rate (the chance of even one false claim) like
Bonferroni does, but is uniformly more powerful, and needs no assumption about how the tests
depend on each other, which matters here because every pair shares its items with others.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelmeter.stats._base import check_probability

__all__ = ["holm"]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given.

    With the m p-values sorted ascending, ``p(1) ≤ … ≤ p(m)``, the adjusted value of the i-th is
    ``max over j ≤ i of min(1, (m − j + 1) · p(j))``: multiplied by the number of hypotheses
    still standing, made monotone (a larger raw p never gets a smaller adjusted p) and capped at
    1. Rejecting where the adjusted p ≤ α is exactly Holm's step-down procedure at level α.
    Equal p-values keep their input order, so the result is deterministic.
    """
    values = [check_probability(p, f"p_values[{index}]") for index, p in enumerate(p_values)]
    m = len(values)
    order = sorted(range(m), key=lambda index: values[index])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted
