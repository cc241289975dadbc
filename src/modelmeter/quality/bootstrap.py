"""Confidence intervals: a vectorised bootstrap for classification metrics; Wilson for proportions.

The classification bootstrap never loops over resamples in Python. Each sample is encoded once as
(true class, predicted class); a block of resamples is an integer index matrix of shape
``(resamples, n)``, and the per-resample confusion counts (true positives, support, predicted
count per class) come from three ``np.bincount`` calls over that block with a per-row offset.
Every metric is then a few array operations on those ``(resamples, classes)`` count matrices.

Resamples are drawn in blocks of bounded size so that memory stays bounded for large datasets;
the block size depends only on ``n``, so a seed always gives the same intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from modelmeter.results import Interval
from modelmeter.stats._base import check_level
from modelmeter.stats.intervals import percentile_interval

__all__ = [
    "ClassificationCounts",
    "bootstrap_classification",
    "classification_scores",
    "confusion_counts",
]

# Upper bound on the elements of one block of resampled indices (8 bytes each: ~32 MiB).
_MAX_BLOCK_ELEMENTS = 4_000_000

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ClassificationCounts:
    """Per-class counts for one or many (re)samples; arrays have shape ``(rows, classes)``.

    ``n`` is the number of samples behind each row (the same for every row).
    """

    true_positives: IntArray
    support: IntArray
    predicted: IntArray
    n: int


def confusion_counts(
    y_true: IntArray, y_pred: IntArray, n_classes: int, rows: IntArray | None = None
) -> ClassificationCounts:
    """Count true positives, support and predictions per class.

    ``y_true`` holds class codes in ``[0, n_classes)``; ``y_pred`` holds codes in
    ``[0, n_classes]`` where ``n_classes`` means "no prediction" (a failed request): it is a miss
    for the true class and counts as a prediction of no class. ``rows`` is an optional
    ``(resamples, n)`` index matrix; without it the counts are for the data as given (one row).
    """
    if rows is None:
        rows = np.arange(y_true.shape[0], dtype=np.intp)[np.newaxis, :]
    n_rows, n = rows.shape
    true_codes = y_true[rows]
    pred_codes = y_pred[rows]
    row_offsets = (np.arange(n_rows, dtype=np.intp) * n_classes)[:, np.newaxis]
    flat_true = (true_codes + row_offsets).ravel()
    size = n_rows * n_classes
    support = np.bincount(flat_true, minlength=size).reshape(n_rows, n_classes)
    hits = (true_codes == pred_codes).ravel()
    true_positives = np.bincount(flat_true[hits], minlength=size).reshape(n_rows, n_classes)
    # One extra column per row for "no prediction", dropped after counting.
    width = n_classes + 1
    pred_offsets = (np.arange(n_rows, dtype=np.intp) * width)[:, np.newaxis]
    predicted = np.bincount((pred_codes + pred_offsets).ravel(), minlength=n_rows * width)
    predicted = predicted.reshape(n_rows, width)[:, :n_classes]
    return ClassificationCounts(
        true_positives=true_positives.astype(np.intp, copy=False),
        support=support.astype(np.intp, copy=False),
        predicted=np.ascontiguousarray(predicted, dtype=np.intp),
        n=n,
    )


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(np.broadcast(numerator, denominator).shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def classification_scores(counts: ClassificationCounts) -> dict[str, FloatArray]:
    """Per-class and averaged metrics for every row of ``counts``.

    Follows scikit-learn's definitions with ``zero_division=0``: a class never predicted has
    precision 0, a class absent from the truth has recall 0, and F1 = 2·TP / (support +
    predicted). Macro averages run over the classes present (in truth or prediction) in that row,
    as scikit-learn does when it infers the labels from the data; weighted averages weight by
    support. Keys ``precision``, ``recall``, ``f1`` have shape ``(rows, classes)``; the others
    have shape ``(rows,)``.
    """
    tp = counts.true_positives.astype(np.float64)
    support = counts.support.astype(np.float64)
    predicted = counts.predicted.astype(np.float64)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, support)
    f1 = _ratio(2.0 * tp, support + predicted)
    present = ((support + predicted) > 0).sum(axis=1).astype(np.float64)
    total_support = support.sum(axis=1)

    def macro(values: FloatArray) -> FloatArray:
        return _ratio(values.sum(axis=1), present)

    def weighted(values: FloatArray) -> FloatArray:
        return _ratio((values * support).sum(axis=1), total_support)

    n = float(counts.n)
    accuracy = tp.sum(axis=1) / n if n > 0 else np.zeros(tp.shape[0])
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": accuracy,
        "precision_macro": macro(precision),
        "recall_macro": macro(recall),
        "f1_macro": macro(f1),
        "precision_weighted": weighted(precision),
        "recall_weighted": weighted(recall),
        "f1_weighted": weighted(f1),
    }


def bootstrap_classification(
    y_true: IntArray,
    y_pred: IntArray,
    n_classes: int,
    *,
    metrics: tuple[str, ...] = ("accuracy", "f1_macro", "f1_weighted"),
    n_bootstrap: int = 1000,
    rng: np.random.Generator,
    level: float = 0.95,
) -> dict[str, Interval]:
    """Percentile intervals for averaged classification metrics by resampling items.

    ``y_true``/``y_pred`` are encoded as for :func:`confusion_counts`. Each resample draws ``n``
    items with replacement and recomputes the metrics exactly as on the full data.
    """
    check_level(level)
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be at least 1, got {n_bootstrap}")
    n = int(y_true.shape[0])
    if n == 0:
        raise ValueError("cannot bootstrap an empty sample")
    block = max(1, min(n_bootstrap, _MAX_BLOCK_ELEMENTS // n))
    collected: dict[str, list[FloatArray]] = {name: [] for name in metrics}
    done = 0
    while done < n_bootstrap:
        size = min(block, n_bootstrap - done)
        rows = rng.integers(0, n, size=(size, n), dtype=np.intp)
        scores = classification_scores(confusion_counts(y_true, y_pred, n_classes, rows))
        for name in metrics:
            collected[name].append(scores[name])
        done += size
    return {
        name: percentile_interval(np.concatenate(parts), level) for name, parts in collected.items()
    }
