"""Sample-ratio mismatch: the check to run before reading any A/B result.

If an experiment planned a 50/50 split and the logs hold 50,900 units in one arm and 49,100 in
the other, something between assignment and logging drops units unevenly (a redirect that loses
slow clients, a bot filter, a crash in one arm). The units that remain are then no longer
comparable, and every difference computed from them may be an artefact. Pearson's chi-square
goodness of fit of the counts against the planned shares detects this; the usual threshold is
p < 0.001 (Kohavi, Tang and Xu, *Trustworthy Online Controlled Experiments*, 2020, ch. 21), strict
because the check runs on every experiment and a false alarm stops a sound one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from scipy import stats

from modelmeter._exceptions import SpecError
from modelmeter.abtest.model import SrmCheck

__all__ = ["SRM_THRESHOLD", "planned_shares", "sample_ratio_mismatch"]

SRM_THRESHOLD = 0.001

Split = Sequence[float] | Mapping[str, float]


def planned_shares(variants: Sequence[str], split: Split | None) -> list[float]:
    """The planned share of each variant, summing to 1; equal when ``split`` is None.

    ``split`` is either weights in the order of ``variants`` (``[50, 50]``, ``[1, 1, 2]``) or
    weights by name (``{"A": 90, "B": 10}``) naming every variant.
    """
    if split is None:
        return [1.0 / len(variants)] * len(variants)
    if isinstance(split, Mapping):
        unknown = sorted(set(split) - set(variants))
        missing = [v for v in variants if v not in split]
        if unknown or missing:
            problem = (
                f"names variants not in the data: {', '.join(unknown)}"
                if unknown
                else f"has no share for {', '.join(missing)}"
            )
            raise SpecError(
                f"the split {problem}; variants in the data: {', '.join(variants)}", field="split"
            )
        weights = [float(split[v]) for v in variants]
    else:
        weights = [float(w) for w in split]
        if len(weights) != len(variants):
            raise SpecError(
                f"the split has {len(weights)} weights but the data has {len(variants)} "
                f"variants ({', '.join(variants)}, sorted by name); give one weight "
                "per variant, or name them: A=50,B=50",
                field="split",
            )
    for name, weight in zip(variants, weights, strict=True):
        if not (math.isfinite(weight) and weight > 0):
            raise SpecError(
                f"the share of '{name}' must be a positive number, got {weight}", field="split"
            )
    total = sum(weights)
    return [w / total for w in weights]


def sample_ratio_mismatch(
    variants: Sequence[str],
    counts: Sequence[int],
    split: Split | None = None,
    *,
    threshold: float = SRM_THRESHOLD,
) -> SrmCheck:
    """Chi-square goodness of fit of ``counts`` against the planned ``split``.

    χ² = Σ (observed − expected)² / expected with variants − 1 degrees of freedom.
    """
    if len(variants) != len(counts):
        raise ValueError("one count per variant")
    if len(variants) < 2:
        raise SpecError(
            f"an A/B test needs at least 2 variants; the data has {len(variants)} "
            f"({', '.join(variants) or 'none'})",
            field="variant",
        )
    if not 0.0 < threshold < 1.0:
        raise SpecError(f"must be between 0 and 1, got {threshold}", field="srm_threshold")
    shares = planned_shares(variants, split)
    total = sum(counts)
    expected = [total * share for share in shares]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True)) if total else 0.0
    df = len(variants) - 1
    p_value = float(stats.chi2.sf(chi2, df)) if total else 1.0
    return SrmCheck(
        variants=list(variants),
        observed=[int(c) for c in counts],
        expected=expected,
        planned_share=shares,
        chi2=float(chi2),
        df=df,
        p_value=p_value,
        threshold=threshold,
        mismatch=p_value < threshold,
    )
