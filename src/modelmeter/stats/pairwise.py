"""All pairwise comparisons of several models, Holm-corrected, and tie groups for a ranking.

A leaderboard that orders models by a point estimate claims more than the data can carry: two
models 0.4 points apart on 300 items are usually indistinguishable. Here every pair is tested on
the same items (McNemar's exact test for right/wrong outcomes, the paired bootstrap for graded
scores), the p-values are adjusted together with Holm's method, and models whose differences are
not significant are grouped as ties, so the report can say which differences are real.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from modelmeter.results import Interval, PairComparison
from modelmeter.stats._base import StatsModel, as_booleans, as_scores, check_level
from modelmeter.stats.bootstrap import PAIRED_BOOTSTRAP, paired_bootstrap
from modelmeter.stats.multiple import holm
from modelmeter.stats.paired import MCNEMAR_EXACT, mcnemar_exact

__all__ = [
    "HOLM",
    "ComparisonMethod",
    "Comparisons",
    "comparison_sentence",
    "format_p_value",
    "pairwise_comparisons",
    "tie_groups",
]

HOLM = "holm"

ComparisonMethod = Literal["mcnemar", "bootstrap"]

_METHOD_NAMES = {MCNEMAR_EXACT: "McNemar exact", PAIRED_BOOTSTRAP: "paired bootstrap"}
_ADJUSTMENT_NAMES = {HOLM: "Holm-adjusted"}


class Comparisons(StatsModel):
    """Every pair of a set of models compared on the same items, with adjusted p-values."""

    names: list[str] = Field(description="The models, in the order they were given.")
    scores: dict[str, float] = Field(
        description="Accuracy (McNemar) or mean score (bootstrap) of each model."
    )
    alpha: float = Field(description="Family-wise error rate the adjustment controls.", gt=0, lt=1)
    method: str = Field(description="The test: 'mcnemar-exact' or 'paired-bootstrap'.")
    adjustment: str = Field(default=HOLM, description="The multiple-testing adjustment: 'holm'.")
    n_resamples: int | None = Field(
        default=None, description="Bootstrap only: resamples per pair (None for McNemar)."
    )
    seed: int | None = Field(
        default=None,
        description="Bootstrap only: the seed; every pair resamples the same items with it.",
    )
    comparisons: list[PairComparison] = Field(
        description="One entry per pair (names[i], names[j]) with i < j, in that order."
    )

    def find(self, first: str, second: str) -> PairComparison:
        """The comparison of two models, in whichever order it was stored."""
        for comparison in self.comparisons:
            if {comparison.a, comparison.b} == {first, second} and first != second:
                return comparison
        raise KeyError(f"no comparison of {first!r} with {second!r}; models: {self.names}")

    def distinguishable(self, first: str, second: str) -> bool:
        """Whether two models differ significantly after the adjustment."""
        return self.find(first, second).distinguishable

    def tie_groups(self) -> list[list[str]]:
        """The models ranked by score and grouped into ties (see :func:`tie_groups`)."""
        return tie_groups(
            self.names, [self.scores[name] for name in self.names], self.distinguishable
        )

    def sentences(self) -> list[str]:
        """One plain-language sentence per pair (see :func:`comparison_sentence`)."""
        return [comparison_sentence(comparison) for comparison in self.comparisons]


def format_p_value(p_value: float, alpha: float = 0.05) -> str:
    """A p-value for people: two significant digits, ``< 0.001`` below that.

    More digits are shown when two would round across ``alpha`` (0.0504 is shown as 0.0504,
    not 0.05), so the printed value never contradicts the decision (adjusted p ≤ alpha) taken
    on the exact one.
    """
    if p_value < 0.001:
        return "< 0.001"
    digits = 2
    while digits < 6 and (float(f"{p_value:.{digits}g}") <= alpha) != (p_value <= alpha):
        digits += 1
    return f"{p_value:.{digits}g}"


def comparison_sentence(comparison: PairComparison) -> str:
    """A one-line verdict on a pair, for reports.

    "A and B are not distinguishable at 95% (McNemar exact, Holm-adjusted p = 0.41)" or
    "A scores higher than B at 95% (McNemar exact, Holm-adjusted p = 0.003)".
    """
    level = f"{round(comparison.interval.level * 100, 6):g}%"
    test = _METHOD_NAMES.get(comparison.method, comparison.method)
    adjustment = _ADJUSTMENT_NAMES.get(comparison.adjustment, comparison.adjustment)
    p_text = format_p_value(comparison.p_adjusted, 1.0 - comparison.interval.level)
    p_part = f"p {p_text}" if p_text.startswith("<") else f"p = {p_text}"
    detail = f"({test}, {adjustment} {p_part})"
    if not comparison.distinguishable:
        return f"{comparison.a} and {comparison.b} are not distinguishable at {level} {detail}"
    if comparison.difference >= 0:
        higher, lower = comparison.a, comparison.b
    else:
        higher, lower = comparison.b, comparison.a
    return f"{higher} scores higher than {lower} at {level} {detail}"


def _check_names(names: Sequence[str]) -> list[str]:
    listed = list(names)
    for index, name in enumerate(listed):
        if not isinstance(name, str) or not name:
            raise ValueError(f"names[{index}] must be a non-empty string, got {name!r}")
    seen: set[str] = set()
    for name in listed:
        if name in seen:
            raise ValueError(f"names must be unique, {name!r} appears more than once")
        seen.add(name)
    return listed


def tie_groups(
    names: Sequence[str],
    scores: Sequence[float] | npt.ArrayLike,
    pairwise_significant: Callable[[str, str], bool] | Sequence[Sequence[bool]] | npt.ArrayLike,
) -> list[list[str]]:
    """Rank models by score (highest first) and group those not significantly apart.

    The rule: walk down the ranking; the first model leads a group; each next model joins the
    current group when it is *not* significantly different from that group's leader, otherwise
    it leads a new group. Equal scores keep the order of ``names``, so the result is
    deterministic. Because "not significantly different" is not transitive, a model can be
    indistinguishable from a member of the group above it; the groups answer "who could be the
    best of this group", comparing with the leader only.

    ``pairwise_significant`` is either ``f(a, b) -> bool`` (e.g.
    ``Comparisons.distinguishable``) or a symmetric square matrix of booleans in the order of
    ``names``, where ``matrix[i][j]`` is True when names[i] and names[j] differ significantly.
    """
    listed = _check_names(names)
    values = as_scores(scores, "scores")
    if values.shape[0] != len(listed):
        raise ValueError(f"scores has {values.shape[0]} values for {len(listed)} names")
    index_of = {name: index for index, name in enumerate(listed)}
    if callable(pairwise_significant):
        significant: Callable[[str, str], bool] = pairwise_significant
    else:
        matrix = np.asarray(pairwise_significant)
        size = len(listed)
        if matrix.shape != (size, size):
            raise ValueError(
                f"the significance matrix must be {size}×{size} (one row and column per name), "
                f"got shape {matrix.shape}"
            )
        if matrix.dtype != np.bool_:
            matrix = np.stack([as_booleans(row, f"matrix[{i}]") for i, row in enumerate(matrix)])
        asymmetric = np.argwhere(matrix != matrix.T)
        if asymmetric.size:
            i, j = (int(x) for x in asymmetric[0])
            raise ValueError(
                f"the significance matrix must be symmetric: matrix[{i}][{j}] is "
                f"{bool(matrix[i, j])} but matrix[{j}][{i}] is {bool(matrix[j, i])}"
            )

        def significant(first: str, second: str) -> bool:
            return bool(matrix[index_of[first], index_of[second]])

    ranking = sorted(listed, key=lambda name: (-values[index_of[name]], index_of[name]))
    groups: list[list[str]] = []
    for name in ranking:
        if groups and not significant(groups[-1][0], name):
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


def pairwise_comparisons(
    names: Sequence[str],
    per_item: Sequence[npt.ArrayLike] | npt.ArrayLike,
    *,
    alpha: float = 0.05,
    method: ComparisonMethod = "mcnemar",
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Comparisons:
    """Compare every pair of models on the same items and adjust the p-values with Holm.

    ``per_item[i]`` holds model ``names[i]``'s outcome on each item, the items in the same order
    for every model: booleans for ``method="mcnemar"`` (McNemar's exact test, Newcombe's
    interval), numbers for ``method="bootstrap"`` (paired bootstrap of the mean, every pair with
    the same ``seed`` so that all pairs see the same resampled items). Each pair's interval is
    at level ``1 − alpha`` and is not adjusted; the decision ``distinguishable`` is taken on the
    Holm-adjusted p-value, which controls the chance of any false claim among all pairs at
    ``alpha``.
    """
    check_level(alpha, "alpha")
    listed = _check_names(names)
    if len(listed) < 2:
        raise ValueError(f"a comparison needs at least two models, got {len(listed)}")
    rows = list(per_item)  # type: ignore[arg-type]
    if len(rows) != len(listed):
        raise ValueError(f"per_item has {len(rows)} rows for {len(listed)} names")
    level = 1.0 - alpha
    scores: dict[str, float] = {}
    tested: list[PairComparison] = []
    if method == "mcnemar":
        outcomes = [as_booleans(row, f"per_item[{i}] ({listed[i]})") for i, row in enumerate(rows)]
        _check_same_items(listed, [row.shape[0] for row in outcomes])
        scores = {name: float(row.mean()) for name, row in zip(listed, outcomes, strict=True)}
        for i, j in itertools.combinations(range(len(listed)), 2):
            test = mcnemar_exact(outcomes[i], outcomes[j], level=level)
            comparison = PairComparison(
                a=listed[i],
                b=listed[j],
                items=test.n,
                a_value=test.a_accuracy,
                b_value=test.b_accuracy,
                difference=test.difference,
                interval=Interval(
                    low=test.interval_low, high=test.interval_high, level=level, method=test.method
                ),
                p_value=test.p_value,
                p_adjusted=test.p_value,
                distinguishable=False,
                method=test.method,
                a_only=test.a_only,
                b_only=test.b_only,
            )
            tested.append(comparison)
    elif method == "bootstrap":
        values = [as_scores(row, f"per_item[{i}] ({listed[i]})") for i, row in enumerate(rows)]
        _check_same_items(listed, [row.shape[0] for row in values])
        scores = {name: float(row.mean()) for name, row in zip(listed, values, strict=True)}
        for i, j in itertools.combinations(range(len(listed)), 2):
            result = paired_bootstrap(
                values[i], values[j], n_resamples=n_resamples, seed=seed, level=level
            )
            comparison = PairComparison(
                a=listed[i],
                b=listed[j],
                items=result.n,
                a_value=result.a_value,
                b_value=result.b_value,
                difference=result.difference,
                interval=Interval(
                    low=result.interval_low,
                    high=result.interval_high,
                    level=level,
                    method=result.method,
                ),
                p_value=result.p_value,
                p_adjusted=result.p_value,
                distinguishable=False,
                method=result.method,
            )
            tested.append(comparison)
    else:
        raise ValueError(f"method must be 'mcnemar' or 'bootstrap', got {method!r}")
    adjusted = holm([comparison.p_value for comparison in tested])
    comparisons = []
    for comparison, p in zip(tested, adjusted, strict=True):
        decided = comparison.model_copy(update={"p_adjusted": p, "distinguishable": p <= alpha})
        decided.sentence = comparison_sentence(decided)
        comparisons.append(decided)
    bootstrap = method == "bootstrap"
    return Comparisons(
        names=listed,
        scores=scores,
        alpha=alpha,
        method=comparisons[0].method,
        n_resamples=n_resamples if bootstrap else None,
        seed=seed if bootstrap else None,
        comparisons=comparisons,
    )


def _check_same_items(names: list[str], lengths: list[int]) -> None:
    for name, length in zip(names[1:], lengths[1:], strict=True):
        if length != lengths[0]:
            raise ValueError(
                "every model must be scored on the same items: "
                f"{names[0]!r} has {lengths[0]} items, {name!r} has {length}"
            )
    if lengths[0] == 0:
        raise ValueError("per_item is empty: at least one item is needed")
