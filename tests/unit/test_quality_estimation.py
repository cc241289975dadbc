"""Label-free quality estimation (CBPE) on synthetic classifiers whose calibration is known:
a calibrated one is estimated right, an overconfident one is right once calibrated on a
labelled reference, and the errors name what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from modelmeter.drift.performance import (
    estimate_f1,
    expected_calibration_error,
    fit_calibration,
    macro_f1,
)

CLASSES = ["billing", "delivery", "refund", "account"]


def _classifier(
    n: int, rng: np.random.Generator, sharpness: float = 3.0
) -> tuple[np.ndarray, list[str]]:
    """Calibrated by construction: each row's label is drawn from its own probabilities."""
    logits = rng.normal(0, sharpness, size=(n, len(CLASSES)))
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    labels = [CLASSES[rng.choice(len(CLASSES), p=row)] for row in probabilities]
    return probabilities, labels


def _overconfident(probabilities: np.ndarray) -> np.ndarray:
    sharpened = probabilities**3
    return sharpened / sharpened.sum(axis=1, keepdims=True)


def test_a_calibrated_model_is_estimated_within_a_point() -> None:
    rng = np.random.default_rng(1)
    reference, reference_labels = _classifier(5000, rng)
    calibration = fit_calibration(reference, reference_labels, CLASSES)
    for sharpness in (1.5, 3.0, 6.0):  # a covariate shift: inputs easier or harder
        current, labels = _classifier(20000, rng, sharpness)
        predicted = [CLASSES[k] for k in current.argmax(axis=1)]
        realised = macro_f1(labels, predicted, CLASSES)
        estimate = estimate_f1(current, calibration)
        assert abs(estimate.f1_macro - realised) < 0.01, (sharpness, estimate, realised)
        assert set(estimate.per_class) == set(CLASSES) and estimate.n == 20000


def test_an_overconfident_model_is_estimated_right_only_once_calibrated() -> None:
    rng = np.random.default_rng(2)
    truth, reference_labels = _classifier(5000, rng)
    current_truth, labels = _classifier(20000, rng)
    reference, current = _overconfident(truth), _overconfident(current_truth)
    realised = macro_f1(labels, [CLASSES[k] for k in current.argmax(axis=1)], CLASSES)
    calibration = fit_calibration(reference, reference_labels, CLASSES)
    assert abs(estimate_f1(current, calibration).f1_macro - realised) < 0.01
    # the same estimate on the raw probabilities (an identity calibration) is far off
    identity = fit_calibration(truth, reference_labels, CLASSES)
    naive = estimate_f1(current, identity).f1_macro  # reads overconfident numbers as calibrated
    assert naive - realised > 0.03
    before = expected_calibration_error(current, labels, CLASSES)
    after = expected_calibration_error(calibration.apply(current), labels, CLASSES)
    assert before > 0.05 > after


def test_errors_name_the_problem() -> None:
    rng = np.random.default_rng(3)
    probabilities, labels = _classifier(200, rng)
    with pytest.raises(ValueError, match="calibrating needs 100"):
        fit_calibration(probabilities[:50], labels[:50], CLASSES)
    with pytest.raises(ValueError, match="not among the model's classes: spam"):
        fit_calibration(probabilities, ["spam", *labels[1:]], CLASSES)
    with pytest.raises(ValueError, match="rows of 4 class probabilities"):
        fit_calibration(probabilities[:, :3], labels, CLASSES)
    with pytest.raises(ValueError, match="between 0 and 1"):
        fit_calibration(probabilities * 2, labels, CLASSES)
    with pytest.raises(ValueError, match="199 labels for 200 rows"):
        fit_calibration(probabilities, labels[1:], CLASSES)
