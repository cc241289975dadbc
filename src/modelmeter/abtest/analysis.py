"""One call that analyses an experiment: SRM first, then the comparisons, CUPED and sequential.

The order matters. A sample-ratio mismatch means the variants' units are not comparable, so it is
computed first and travels with the result (the CLI prints it above everything else); the
comparisons are still computed, because seeing them helps find what broke, but they are marked
untrustworthy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from modelmeter._exceptions import DatasetError, SpecError
from modelmeter._version import __version__
from modelmeter.abtest.cuped import cuped_adjust
from modelmeter.abtest.data import Observations
from modelmeter.abtest.differences import Difference, proportion_test, welch_test
from modelmeter.abtest.model import (
    ABResult,
    Comparison,
    CupedResult,
    MetricKind,
    SequentialResult,
    VariantSummary,
)
from modelmeter.abtest.sequential import sequential_test
from modelmeter.abtest.srm import SRM_THRESHOLD, sample_ratio_mismatch
from modelmeter.results import Interval
from modelmeter.stats.multiple import holm

__all__ = ["analyse"]


def _metric_kind(data: Observations, asked: Literal["auto", "proportion", "mean"]) -> MetricKind:
    binary = bool(np.isin(data.metric, (0.0, 1.0)).all())
    if asked == "auto":
        return "proportion" if binary else "mean"
    if asked == "proportion" and not binary:
        bad = data.metric[~np.isin(data.metric, (0.0, 1.0))][0]
        raise SpecError(
            f"a proportion needs a 0/1 metric, but '{data.metric_name}' has the value {bad:g}",
            field="metric_kind",
        )
    return asked


def _comparison(
    treatment: str, control: str, result: Difference, control_mean: float, alpha: float
) -> Comparison:
    return Comparison(
        treatment=treatment,
        control=control,
        method=result.method,
        diff=result.diff,
        relative_diff=result.diff / control_mean if control_mean != 0.0 else None,
        standard_error=result.standard_error,
        interval=Interval(
            low=result.low, high=result.high, level=1.0 - alpha, method=result.method
        ),
        p_value=result.p_value,
        significant=result.p_value < alpha,
    )


def _holm_adjust(comparisons: list[Comparison], alpha: float) -> list[Comparison]:
    if len(comparisons) < 2:
        return comparisons
    adjusted = holm([c.p_value for c in comparisons])
    return [
        c.model_copy(update={"p_holm": p, "significant": p < alpha})
        for c, p in zip(comparisons, adjusted, strict=True)
    ]


def analyse(
    data: Observations,
    *,
    control: str | None = None,
    split: Sequence[float] | Mapping[str, float] | None = None,
    alpha: float = 0.05,
    metric_kind: Literal["auto", "proportion", "mean"] = "auto",
    sequential: bool = False,
    looks: int = 20,
    mixing_sd: float | None = None,
    srm_threshold: float = SRM_THRESHOLD,
) -> ABResult:
    """Analyse an experiment: every variant against ``control`` (default: the first name sorted).

    ``split`` is the planned traffic split for the sample-ratio check (default equal): weights
    in the order of the sorted variant names, or by name. A 0/1 metric is compared as
    proportions unless ``metric_kind`` says otherwise. With a covariate in ``data`` the result
    also holds CUPED-adjusted comparisons; with ``sequential`` the mSPRT over ``looks`` batches.
    """
    if not 0.0 < alpha < 1.0:
        raise SpecError(f"must be between 0 and 1 (exclusive), got {alpha}", field="alpha")
    if looks < 1:
        raise SpecError(f"must be at least 1, got {looks}", field="looks")
    names = data.variants
    srm = sample_ratio_mismatch(names, data.assigned or data.counts, split, threshold=srm_threshold)
    control = names[0] if control is None else control
    if control not in names:
        raise SpecError(
            f"no variant '{control}' in the data; variants: {', '.join(names)}", field="control"
        )
    ordered = [control, *(n for n in names if n != control)]
    values = {name: data.values(name) for name in ordered}
    for name, vals in values.items():
        if len(vals) < 2:
            raise DatasetError(
                f"variant '{name}' has {len(vals)} units with a '{data.metric_name}' value; "
                "each variant needs at least 2",
                path=data.path,
            )
    kind = _metric_kind(data, metric_kind)
    summaries = [
        VariantSummary(
            name=name, n=len(vals), mean=float(vals.mean()), sd=float(np.std(vals, ddof=1))
        )
        for name, vals in values.items()
    ]
    control_values = values[control]
    control_mean = float(control_values.mean())
    comparisons: list[Comparison] = []
    for treatment in ordered[1:]:
        t = values[treatment]
        if kind == "proportion":
            result = proportion_test(
                int(control_values.sum()),
                len(control_values),
                int(t.sum()),
                len(t),
                alpha=alpha,
            )
        else:
            result = welch_test(control_values, t, alpha=alpha)
        comparisons.append(_comparison(treatment, control, result, control_mean, alpha))
    comparisons = _holm_adjust(comparisons, alpha)

    notes = list(data.notes)
    cuped = None
    if data.covariate is not None:
        cuped = _cuped(data, ordered, alpha)
    sequences: list[SequentialResult] | None = None
    if sequential:
        sequences = []
        for treatment in ordered[1:]:
            try:
                sequences.append(
                    sequential_test(
                        data, control, treatment, looks=looks, alpha=alpha, mixing_sd=mixing_sd
                    )
                )
            except ValueError as exc:
                raise DatasetError(
                    f"cannot test {treatment} vs {control} sequentially: {exc}", path=data.path
                ) from None
        if data.order is None:
            notes.append("sequential looks follow the row order (no order column was given)")
        if len(ordered) > 2:
            notes.append(
                "always-valid p-values are per comparison; with several treatments, compare "
                "them with alpha divided by their number (Bonferroni) to keep the overall rate"
            )
    if kind == "proportion":
        notes.append(
            "rates compared with Newcombe's hybrid score interval and the pooled z-test; at the "
            "edge of significance the two can disagree"
        )
    if srm.mismatch:
        notes.insert(
            0,
            "sample-ratio mismatch: the variant counts do not fit the planned split "
            f"(p = {srm.p_value:.2g}); do not trust these results until the cause is found",
        )
    return ABResult(
        tool_version=__version__,
        source=data.source,
        metric=data.metric_name,
        metric_kind=kind,
        alpha=alpha,
        control=control,
        variants=summaries,
        srm=srm,
        comparisons=comparisons,
        cuped=cuped,
        sequential=sequences,
        notes=notes,
    )


def _cuped(data: Observations, ordered: list[str], alpha: float) -> CupedResult:
    assert data.covariate is not None
    covariate = data.covariate_name or "covariate"
    try:
        adjustment = cuped_adjust(data.metric, data.covariate)
    except ValueError:
        raise DatasetError(
            f"column '{covariate}' has the same value on every row; CUPED needs a pre-period "
            "value that varies between units",
            path=data.path,
        ) from None
    adjusted = adjustment.adjusted
    control = ordered[0]
    control_index = data.variants.index(control)
    control_adjusted = adjusted[data.groups == control_index]
    control_mean = float(data.values(control).mean())
    comparisons: list[Comparison] = []
    reduction: dict[str, float] = {}
    for treatment in ordered[1:]:
        t_adjusted = adjusted[data.groups == data.variants.index(treatment)]
        result = welch_test(control_adjusted, t_adjusted, alpha=alpha)
        comparisons.append(_comparison(treatment, control, result, control_mean, alpha))
        raw = welch_test(data.values(control), data.values(treatment), alpha=alpha)
        reduction[treatment] = (
            1.0 - (result.standard_error / raw.standard_error) ** 2
            if raw.standard_error > 0.0
            else 0.0
        )
    return CupedResult(
        covariate=covariate,
        theta=adjustment.theta,
        correlation=adjustment.correlation,
        variance_reduction=adjustment.variance_reduction,
        comparisons=_holm_adjust(comparisons, alpha),
        se_reduction=reduction,
    )
