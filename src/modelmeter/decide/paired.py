"""Paired comparisons between the models of one run, and the tie groups they imply.

Every model was graded on the same items, so two models are compared item by item: McNemar's
exact test on right/wrong (Newcombe's interval for the difference in accuracy), or a paired
bootstrap of the mean when answers have graded scores (token F1, judge, pass rate). The
p-values of all pairs are Holm-adjusted together; models whose difference is not significant
after that adjustment form a tie group, and the ranking treats them as equal on quality.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelmeter.results import ModelResult, PairComparison

__all__ = ["compare_models"]

_BOOTSTRAP_RESAMPLES = 2000


def compare_models(
    models: Sequence[ModelResult], *, seed: int = 0
) -> tuple[list[PairComparison], list[list[str]]]:
    """Pairwise comparisons on the items all graded models share, and the tie groups."""
    graded = [m for m in models if m.items is not None and m.items.ids]
    if len(graded) < 2:
        return [], []
    first = graded[0].items
    assert first is not None
    shared = set(first.ids)
    for model in graded[1:]:
        assert model.items is not None
        shared &= set(model.items.ids)
    order = [item for item in first.ids if item in shared]
    if not order:
        return [], []
    from modelmeter.stats import pairwise_comparisons  # scipy: slow import

    scored = any(m.items is not None and m.items.score is not None for m in graded)
    rows: list[list[float] | list[bool]] = []
    for model in graded:
        items = model.items
        assert items is not None
        position = {item: index for index, item in enumerate(items.ids)}
        if scored:
            values = items.score if items.score is not None else [float(c) for c in items.correct]
            rows.append([float(values[position[item]]) for item in order])
        else:
            rows.append([bool(items.correct[position[item]]) for item in order])
    result = pairwise_comparisons(
        [m.name for m in graded],
        rows,
        method="bootstrap" if scored else "mcnemar",
        n_resamples=_BOOTSTRAP_RESAMPLES,
        seed=seed,
    )
    comparisons = list(result.comparisons)
    return comparisons, result.tie_groups()
