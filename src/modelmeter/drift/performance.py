"""Quality without labels: confidence-based performance estimation (CBPE) for a classifier
whose probabilities are calibrated, and the quality of labelled windows with their interval.

CBPE reads the expected confusion matrix off the probabilities: a message predicted as class
*k* with calibrated probability 0.9 is a true positive of *k* nine times in ten and a false
positive one time in ten, and adds its probability of every other class to that class's false
negatives. The F1 of each class is computed from those expected counts, and averaged (macro).

It holds when, and only when:

1. the probabilities are calibrated on the current data. They are calibrated here on a labelled
   reference (per class, one against the rest, by isotonic regression), so this needs the
   model to be as well calibrated on the current inputs as on the reference ones: *covariate
   shift* (the inputs' mix changes, e.g. more Spanish or more typos) is what it is made for;
2. there is no *concept shift*: P(label | input) is the same as in the reference. Labels that
   change meaning, or a new way of being wrong the model is confident about, do not show in
   the probabilities, and the estimate will not move. Rolling quality on the labels that do
   arrive (late) is the check on that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression

__all__ = [
    "Calibration",
    "QualityEstimate",
    "estimate_f1",
    "expected_calibration_error",
    "f1_interval",
    "fit_calibration",
    "macro_f1",
    "probability_rows",
]

FloatArray = np.ndarray
_MIN_REFERENCE = 100  # labelled rows below which an isotonic map is mostly noise


@dataclass(frozen=True)
class Calibration:
    """Per class, the isotonic map from the model's probability to the observed frequency."""

    classes: tuple[str, ...]
    knots: tuple[tuple[FloatArray, FloatArray], ...]  # (probabilities, calibrated) per class
    n_reference: int

    def apply(self, probabilities: FloatArray) -> FloatArray:
        """Calibrated probabilities, renormalised to sum to one per row."""
        columns = [np.interp(probabilities[:, k], x, y) for k, (x, y) in enumerate(self.knots)]
        calibrated = np.column_stack(columns)
        totals = calibrated.sum(axis=1, keepdims=True)
        uniform = np.full_like(calibrated, 1.0 / calibrated.shape[1])
        return np.where(totals > 0, calibrated / np.where(totals > 0, totals, 1.0), uniform)


@dataclass(frozen=True)
class QualityEstimate:
    f1_macro: float
    per_class: dict[str, float]
    n: int


def _check(probabilities: FloatArray, classes: Sequence[str]) -> FloatArray:
    array = np.asarray(probabilities, dtype=float)
    if array.ndim != 2 or array.shape[1] != len(classes) or len(classes) < 2:
        raise ValueError(
            f"probabilities must be rows of {len(classes)} class probabilities (two classes at "
            f"least), got an array of shape {array.shape}"
        )
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise ValueError("probabilities must be finite numbers between 0 and 1")
    return array


def fit_calibration(
    probabilities: FloatArray, labels: Sequence[str], classes: Sequence[str]
) -> Calibration:
    """Isotonic maps fitted on a labelled reference; ValueError for fewer than 100 rows, a
    label outside ``classes``, or probabilities of the wrong shape."""
    array = _check(probabilities, classes)
    if len(labels) != len(array):
        raise ValueError(f"{len(labels)} labels for {len(array)} rows of probabilities")
    if len(array) < _MIN_REFERENCE:
        raise ValueError(
            f"{len(array)} labelled reference rows; calibrating needs {_MIN_REFERENCE} at least"
        )
    index = {name: k for k, name in enumerate(classes)}
    unknown = sorted({label for label in labels if label not in index})
    if unknown:
        raise ValueError(f"labels not among the model's classes: {', '.join(unknown[:5])}")
    codes = np.array([index[label] for label in labels])
    knots = []
    for k in range(len(classes)):
        order = np.argsort(array[:, k], kind="stable")
        x = array[order, k]
        fitted = isotonic_regression((codes[order] == k).astype(float)).x
        knots.append((x, np.asarray(fitted, dtype=float)))
    return Calibration(tuple(classes), tuple(knots), len(array))


def estimate_f1(probabilities: FloatArray, calibration: Calibration) -> QualityEstimate:
    """CBPE's macro F1 of the predictions (the most probable class) on unlabelled rows."""
    array = _check(probabilities, calibration.classes)
    predicted = array.argmax(axis=1)
    calibrated = calibration.apply(array)
    per_class = {}
    for k, name in enumerate(calibration.classes):
        chosen = predicted == k
        tp = calibrated[chosen, k].sum()
        fp = (1.0 - calibrated[chosen, k]).sum()
        fn = calibrated[~chosen, k].sum()
        per_class[name] = float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn > 0 else 0.0
    return QualityEstimate(float(np.mean(list(per_class.values()))), per_class, len(array))


def macro_f1(
    labels: Sequence[str] | np.ndarray,
    predictions: Sequence[str] | np.ndarray,
    classes: Sequence[str],
) -> float:
    """The realised macro F1 over ``classes`` (a class never predicted nor present counts 0,
    as in the estimate)."""
    truth, guess = np.asarray(labels), np.asarray(predictions)
    scores = []
    for name in classes:
        tp = np.sum((guess == name) & (truth == name))
        fp = np.sum((guess == name) & (truth != name))
        fn = np.sum((guess != name) & (truth == name))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores))


def expected_calibration_error(
    probabilities: FloatArray, labels: Sequence[str], classes: Sequence[str], bins: int = 10
) -> float:
    """ECE of the top-class confidence: the mean gap between confidence and accuracy over
    equal-width bins, weighted by their rows."""
    array = _check(probabilities, classes)
    confidence = array.max(axis=1)
    right = np.asarray(classes)[array.argmax(axis=1)] == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    where = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = where == b
        if members.any():
            gap += members.mean() * abs(confidence[members].mean() - right[members].mean())
    return float(gap)


def f1_interval(
    labels: Sequence[str],
    predictions: Sequence[str],
    classes: Sequence[str],
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the realised macro F1 (rows resampled)."""
    truth, guess = np.asarray(labels), np.asarray(predictions)
    rng = np.random.default_rng(seed)
    scores = [
        macro_f1(truth[rows], guess[rows], classes)
        for rows in (rng.integers(0, len(truth), len(truth)) for _ in range(resamples))
    ]
    tail = (1 - confidence) / 2
    low, high = np.quantile(scores, [tail, 1 - tail])
    return float(low), float(high)


def probability_rows(
    values: Sequence[object], classes: Sequence[str] | None = None
) -> tuple[FloatArray, list[str]]:
    """Rows of ``{class: probability}`` (dicts, or their JSON text) as an array, its columns
    ``classes`` (default: every class named, sorted); a class a row leaves out has 0. ValueError
    names the first row (from 1) that is not such a mapping."""
    import json

    rows: list[dict[str, float]] = []
    for number, value in enumerate(values, start=1):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if not isinstance(value, dict) or not value:
            raise ValueError(f"row {number}: not a mapping of class to probability: {value!r:.80}")
        try:
            rows.append({str(k): float(v) for k, v in value.items()})
        except (TypeError, ValueError):
            raise ValueError(f"row {number}: a probability that is not a number") from None
    names = list(classes) if classes is not None else sorted({k for row in rows for k in row})
    array = np.array([[row.get(name, 0.0) for name in names] for row in rows], dtype=float)
    return array, names
