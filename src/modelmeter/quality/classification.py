"""Classification quality: accuracy, precision/recall/F1 (macro, weighted, per class), confusion.

Definitions match scikit-learn's ``precision_recall_fscore_support`` with its default
zero-division behaviour (an undefined ratio counts as 0) and labels inferred from the data.

A failed request has no prediction (``None``). It counts as a wrong answer: a false negative for
its true class and a prediction of no class. It is not a label, so it adds no column to the
confusion matrix (its row total is therefore lower than the class support) and no class to the
macro average. ``n_failed`` says how many there were.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from modelmeter.quality.bootstrap import (
    FloatArray,
    IntArray,
    bootstrap_classification,
    classification_scores,
    confusion_counts,
)
from modelmeter.results import ClassMetrics, QualityResult, SliceQuality

__all__ = ["INTERVAL_METRICS", "evaluate_classification"]

INTERVAL_METRICS = ("accuracy", "f1_macro", "f1_weighted")


def _encode(
    y_true: Sequence[str], y_pred: Sequence[str | None]
) -> tuple[list[str], IntArray, IntArray]:
    labels = sorted(set(y_true) | {label for label in y_pred if label is not None})
    code = {label: i for i, label in enumerate(labels)}
    no_label = len(labels)
    true_codes = np.fromiter((code[label] for label in y_true), dtype=np.intp, count=len(y_true))
    pred_codes = np.fromiter(
        (no_label if label is None else code[label] for label in y_pred),
        dtype=np.intp,
        count=len(y_pred),
    )
    return labels, true_codes, pred_codes


def _confusion_matrix(true_codes: IntArray, pred_codes: IntArray, n_labels: int) -> list[list[int]]:
    answered = pred_codes < n_labels
    flat = true_codes[answered] * n_labels + pred_codes[answered]
    matrix = np.bincount(flat, minlength=n_labels * n_labels).reshape(n_labels, n_labels)
    return [[int(cell) for cell in row] for row in matrix]


def _slice_seed(seed: int, key: str, value: str) -> np.random.Generator:
    # crc32, not hash(): str hashes change between processes and the intervals must not.
    entropy = [seed, zlib.crc32(key.encode()), zlib.crc32(value.encode())]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def _slice_quality(
    y_true: Sequence[str],
    y_pred: Sequence[str | None],
    indices: list[int],
    *,
    n_bootstrap: int,
    rng: np.random.Generator,
    level: float,
) -> SliceQuality:
    # Re-encode on the subset so that macro averages run over the labels present in the slice,
    # as they would if the slice were evaluated on its own.
    labels, true_codes, pred_codes = _encode(
        [y_true[i] for i in indices], [y_pred[i] for i in indices]
    )
    n_classes = len(labels)
    scores = classification_scores(confusion_counts(true_codes, pred_codes, n_classes))
    interval = None
    if n_bootstrap > 0:
        interval = bootstrap_classification(
            true_codes,
            pred_codes,
            n_classes,
            metrics=("f1_macro",),
            n_bootstrap=n_bootstrap,
            rng=rng,
            level=level,
        )["f1_macro"]
    return SliceQuality(
        n=len(indices),
        accuracy=float(scores["accuracy"][0]),
        f1_macro=float(scores["f1_macro"][0]),
        f1_macro_ci=interval,
    )


def evaluate_classification(
    y_true: Sequence[str],
    y_pred: Sequence[str | None],
    slices: Sequence[Mapping[str, str]] | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> QualityResult:
    """Score predictions against true labels, with bootstrap intervals and per-slice results.

    ``y_pred[i]`` is ``None`` when the request for item ``i`` failed (see the module docstring).
    ``slices[i]`` maps slice names to this item's value (e.g. ``{"language": "fr"}``); an item
    without a given slice name is left out of that slice's groups only. Intervals are percentile
    bootstrap intervals at ``level`` for accuracy, macro F1 and weighted F1 (and macro F1 per
    slice value), from ``n_bootstrap`` resamples seeded by ``seed``; ``n_bootstrap=0`` computes
    no intervals.
    """
    n = len(y_true)
    if len(y_pred) != n:
        raise ValueError(f"y_true has {n} items but y_pred has {len(y_pred)}")
    if n == 0:
        raise ValueError("cannot evaluate classification quality on zero items")
    if slices is not None and len(slices) != n:
        raise ValueError(f"y_true has {n} items but slices has {len(slices)}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be 0 (no intervals) or more, got {n_bootstrap}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (exclusive), got {level}")
    if any(not isinstance(label, str) for label in y_true):
        raise ValueError("every true label must be a string; None is only allowed in y_pred")

    labels, true_codes, pred_codes = _encode(y_true, y_pred)
    n_labels = len(labels)
    scores = classification_scores(confusion_counts(true_codes, pred_codes, n_labels))

    def scalar(name: str) -> float:
        values: FloatArray = scores[name]
        return float(values[0])

    per_class = {
        label: ClassMetrics(
            precision=float(scores["precision"][0, i]),
            recall=float(scores["recall"][0, i]),
            f1=float(scores["f1"][0, i]),
            support=int((true_codes == i).sum()),
        )
        for i, label in enumerate(labels)
    }
    intervals = {}
    if n_bootstrap > 0:
        intervals = bootstrap_classification(
            true_codes,
            pred_codes,
            n_labels,
            metrics=INTERVAL_METRICS,
            n_bootstrap=n_bootstrap,
            rng=np.random.default_rng(seed),
            level=level,
        )

    by_slice: dict[str, dict[str, SliceQuality]] = {}
    if slices is not None:
        groups: dict[str, dict[str, list[int]]] = {}
        for i, item_slices in enumerate(slices):
            for key, value in item_slices.items():
                groups.setdefault(key, {}).setdefault(value, []).append(i)
        for key in sorted(groups):
            by_slice[key] = {
                value: _slice_quality(
                    y_true,
                    y_pred,
                    groups[key][value],
                    n_bootstrap=n_bootstrap,
                    rng=_slice_seed(seed, key, value),
                    level=level,
                )
                for value in sorted(groups[key])
            }

    return QualityResult(
        n=n,
        n_failed=sum(1 for label in y_pred if label is None),
        accuracy=scalar("accuracy"),
        precision_macro=scalar("precision_macro"),
        recall_macro=scalar("recall_macro"),
        f1_macro=scalar("f1_macro"),
        precision_weighted=scalar("precision_weighted"),
        recall_weighted=scalar("recall_weighted"),
        f1_weighted=scalar("f1_weighted"),
        intervals=intervals,
        per_class=per_class,
        confusion_labels=labels,
        confusion_matrix=_confusion_matrix(true_codes, pred_codes, n_labels),
        by_slice=by_slice,
    )
