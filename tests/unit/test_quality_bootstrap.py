"""The vectorised bootstrap and the Wilson interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import f1_score

import modelmeter.quality.bootstrap as bootstrap_module
from modelmeter.quality import evaluate_classification
from modelmeter.quality.bootstrap import (
    bootstrap_classification,
    classification_scores,
    confusion_counts,
)
from modelmeter.stats import percentile_interval, wilson_interval


def _noisy_labels(
    n: int, accuracy: float, n_classes: int, seed: int
) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    y_true = [f"c{i}" for i in rng.integers(0, n_classes, n)]
    y_pred = [t if rng.random() < accuracy else f"c{rng.integers(0, n_classes)}" for t in y_true]
    return y_true, y_pred


def test_per_resample_counts_match_a_plain_loop() -> None:
    rng = np.random.default_rng(0)
    n, k = 60, 4
    y_true = rng.integers(0, k, n).astype(np.intp)
    y_pred = rng.integers(0, k + 1, n).astype(np.intp)  # k = no prediction
    rows = rng.integers(0, n, size=(25, n)).astype(np.intp)
    counts = confusion_counts(y_true, y_pred, k, rows)
    for r, row in enumerate(rows):
        t, p = y_true[row], y_pred[row]
        for c in range(k):
            assert counts.support[r, c] == np.sum(t == c)
            assert counts.predicted[r, c] == np.sum(p == c)
            assert counts.true_positives[r, c] == np.sum((t == c) & (p == c))


def test_per_resample_f1_matches_sklearn_on_each_resample() -> None:
    rng = np.random.default_rng(1)
    n, k = 80, 5
    y_true = rng.integers(0, k, n).astype(np.intp)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n)).astype(np.intp)
    rows = rng.integers(0, n, size=(20, n)).astype(np.intp)
    scores = classification_scores(confusion_counts(y_true, y_pred, k, rows))
    for r, row in enumerate(rows):
        for average in ("macro", "weighted"):
            expected = f1_score(y_true[row], y_pred[row], average=average, zero_division=0)
            assert scores[f"f1_{average}"][r] == pytest.approx(expected, abs=1e-12)


def test_intervals_contain_the_point_estimate_on_typical_data() -> None:
    for seed in range(5):
        y_true, y_pred = _noisy_labels(500, 0.8, 6, seed)
        result = evaluate_classification(y_true, y_pred, n_bootstrap=500, seed=seed)
        for name in ("accuracy", "f1_macro", "f1_weighted"):
            interval = result.intervals[name]
            assert interval.low < getattr(result, name) < interval.high


def test_intervals_narrow_as_n_grows() -> None:
    widths = []
    for n in (100, 1000, 10_000):
        y_true, y_pred = _noisy_labels(n, 0.8, 5, seed=n)
        result = evaluate_classification(y_true, y_pred, n_bootstrap=400, seed=0)
        widths.append(result.intervals["accuracy"].high - result.intervals["accuracy"].low)
    assert widths[0] > widths[1] > widths[2]


def test_accuracy_interval_width_agrees_with_the_normal_approximation() -> None:
    y_true, y_pred = _noisy_labels(2000, 0.8, 4, seed=11)
    result = evaluate_classification(y_true, y_pred, n_bootstrap=2000, seed=3)
    p = result.accuracy
    expected = 2 * 1.959964 * math.sqrt(p * (1 - p) / 2000)
    interval = result.intervals["accuracy"]
    assert interval.high - interval.low == pytest.approx(expected, rel=0.12)


def test_same_seed_same_intervals_other_seed_other_intervals() -> None:
    y_true, y_pred = _noisy_labels(300, 0.7, 3, seed=4)
    first = evaluate_classification(y_true, y_pred, n_bootstrap=200, seed=1)
    again = evaluate_classification(y_true, y_pred, n_bootstrap=200, seed=1)
    other = evaluate_classification(y_true, y_pred, n_bootstrap=200, seed=2)
    assert first.intervals == again.intervals
    assert first.intervals != other.intervals


def test_blocks_of_resamples_give_the_same_result_as_one_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 50).astype(np.intp)
    y_pred = rng.integers(0, 4, 50).astype(np.intp)

    def run() -> dict[str, object]:
        return dict(
            bootstrap_classification(
                y_true, y_pred, 3, n_bootstrap=101, rng=np.random.default_rng(7)
            )
        )

    whole = run()
    monkeypatch.setattr(bootstrap_module, "_MAX_BLOCK_ELEMENTS", 50 * 7)  # blocks of 7 rows
    assert run() == whole


def test_percentile_interval_uses_the_central_share() -> None:
    samples = np.arange(1001, dtype=float)  # 0 .. 1000
    interval = percentile_interval(samples, 0.9)
    assert interval.low == pytest.approx(50.0)
    assert interval.high == pytest.approx(950.0)
    assert interval.level == 0.9
    assert interval.method == "bootstrap-percentile"


@pytest.mark.parametrize(("successes", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (37, 120)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_scipy(successes: int, n: int, confidence: float) -> None:
    expected = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    interval = wilson_interval(successes, n, confidence)
    assert interval.low == pytest.approx(expected.low, abs=1e-12)
    assert interval.high == pytest.approx(expected.high, abs=1e-12)
    assert interval.method == "wilson"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wilson_interval(1, 0), "n > 0"),
        (lambda: wilson_interval(5, 4), "successes"),
        (lambda: wilson_interval(1, 4, level=0.0), "level"),
        (lambda: percentile_interval([], 0.95), "at least one"),
    ],
)
def test_interval_helpers_refuse_bad_input(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
