"""Classification metrics against scikit-learn, the independent reference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from modelmeter.quality import evaluate_classification
from modelmeter.results import QualityResult

FAILED = "<no prediction>"  # what a failed request becomes for scikit-learn


def _reference(y_true: list[str], y_pred: list[str | None]) -> dict[str, object]:
    """scikit-learn's figures, with failed predictions as a sentinel that is not a label."""
    labels = sorted(set(y_true) | {p for p in y_pred if p is not None})
    pred = [FAILED if p is None else p for p in y_pred]
    out: dict[str, object] = {"labels": labels, "accuracy": accuracy_score(y_true, pred)}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, pred, labels=labels, average=average, zero_division=0
        )
        out[f"precision_{average}"] = p
        out[f"recall_{average}"] = r
        out[f"f1_{average}"] = f
        out[f"f1_score_{average}"] = f1_score(
            y_true, pred, labels=labels, average=average, zero_division=0
        )
    out["per_class"] = precision_recall_fscore_support(
        y_true, pred, labels=labels, average=None, zero_division=0
    )
    with warnings.catch_warnings():
        # scikit-learn warns that a 1x1 matrix may hide labels; ours are passed explicitly.
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        out["confusion"] = confusion_matrix(y_true, pred, labels=labels)
    return out


def _assert_matches_sklearn(result: QualityResult, y_true: list[str], y_pred: list[str | None]):
    ref = _reference(y_true, y_pred)
    assert result.n == len(y_true)
    assert result.n_failed == sum(p is None for p in y_pred)
    assert result.confusion_labels == ref["labels"]
    assert result.accuracy == pytest.approx(ref["accuracy"], abs=1e-12)
    for average in ("macro", "weighted"):
        for metric in ("precision", "recall", "f1"):
            name = f"{metric}_{average}"
            assert getattr(result, name) == pytest.approx(ref[name], abs=1e-12), name
        assert getattr(result, f"f1_{average}") == pytest.approx(
            ref[f"f1_score_{average}"], abs=1e-12
        )
    precision, recall, f1, support = ref["per_class"]  # type: ignore[misc]
    for i, label in enumerate(ref["labels"]):  # type: ignore[arg-type]
        cls = result.per_class[label]
        assert cls.precision == pytest.approx(precision[i], abs=1e-12)
        assert cls.recall == pytest.approx(recall[i], abs=1e-12)
        assert cls.f1 == pytest.approx(f1[i], abs=1e-12)
        assert cls.support == support[i]
    assert result.confusion_matrix == ref["confusion"].tolist()  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(8))
def test_random_data_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 12))
    labels = [f"class-{i}" for i in range(n_classes)]
    n = int(rng.integers(20, 400))
    y_true = [labels[i] for i in rng.integers(0, n_classes, n)]
    y_pred: list[str | None] = []
    for truth in y_true:
        draw = rng.random()
        if draw < 0.05:
            y_pred.append(None)
        elif draw < 0.7:
            y_pred.append(truth)
        else:
            y_pred.append(labels[int(rng.integers(0, n_classes))])
    result = evaluate_classification(y_true, y_pred, n_bootstrap=0)
    _assert_matches_sklearn(result, y_true, y_pred)


LABELS = st.sampled_from(["a", "b", "c", "d", "e"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(LABELS, st.one_of(st.none(), LABELS, st.just("unseen"))), min_size=1))
def test_property_matches_sklearn(pairs: list[tuple[str, str | None]]) -> None:
    y_true = [t for t, _ in pairs]
    y_pred = [p for _, p in pairs]
    result = evaluate_classification(y_true, y_pred, n_bootstrap=0)
    _assert_matches_sklearn(result, y_true, y_pred)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        pytest.param(["a", "b", "c", "a"], ["a", "a", "a", "a"], id="classes-missing-in-pred"),
        pytest.param(["a", "b", "a", "b"], ["b", "a", "b", "a"], id="all-wrong"),
        pytest.param(["a", "a", "a"], ["a", "a", "a"], id="single-class-right"),
        pytest.param(["a", "a", "a"], ["b", "b", "b"], id="single-true-class-wrong"),
        pytest.param(["a", "b", "c"], [None, None, None], id="all-failed"),
        pytest.param(["a", "b", "b", "c"], ["a", None, "b", "x"], id="failed-and-unknown-label"),
        pytest.param(["a"], ["a"], id="one-item"),
    ],
)
def test_edge_cases_match_sklearn(y_true: list[str], y_pred: list[str | None]) -> None:
    result = evaluate_classification(y_true, y_pred, n_bootstrap=50)
    _assert_matches_sklearn(result, y_true, y_pred)


def test_failed_prediction_is_a_miss_not_a_column() -> None:
    result = evaluate_classification(["a", "a", "b"], ["a", None, "b"], n_bootstrap=0)
    assert result.confusion_labels == ["a", "b"]
    assert result.confusion_matrix == [[1, 0], [0, 1]]  # the failed row is nowhere
    assert result.per_class["a"].recall == 0.5
    assert result.per_class["a"].precision == 1.0
    assert result.n_failed == 1
    assert result.accuracy == pytest.approx(2 / 3)


def test_all_failed_scores_zero() -> None:
    result = evaluate_classification(["a", "b"], [None, None], n_bootstrap=20)
    assert result.accuracy == 0.0
    assert result.f1_macro == 0.0
    assert result.f1_weighted == 0.0
    assert result.confusion_matrix == [[0, 0], [0, 0]]
    assert result.intervals["accuracy"].low == 0.0
    assert result.intervals["accuracy"].high == 0.0


def test_intervals_are_reported_for_the_headline_metrics() -> None:
    rng = np.random.default_rng(3)
    y_true = [str(i) for i in rng.integers(0, 4, 300)]
    y_pred = [t if rng.random() < 0.8 else "0" for t in y_true]
    result = evaluate_classification(y_true, y_pred, n_bootstrap=300, seed=1)
    assert set(result.intervals) == {"accuracy", "f1_macro", "f1_weighted"}
    for name, interval in result.intervals.items():
        assert interval.method == "bootstrap-percentile"
        assert interval.level == 0.95
        assert interval.low <= getattr(result, name) <= interval.high


def test_slices_match_sklearn_on_each_subset() -> None:
    rng = np.random.default_rng(5)
    n = 400
    y_true = [f"c{i}" for i in rng.integers(0, 5, n)]
    y_pred: list[str | None] = [
        t if rng.random() < 0.75 else (None if rng.random() < 0.2 else "c0") for t in y_true
    ]
    languages = ["en", "fr", "de"]
    slices: list[dict[str, str]] = []
    for i in range(n):
        item = {"language": languages[i % 3]}
        if i % 2 == 0:
            item["group"] = "even"
        slices.append(item)
    result = evaluate_classification(y_true, y_pred, slices, n_bootstrap=200, seed=2)

    assert set(result.by_slice) == {"language", "group"}
    assert set(result.by_slice["language"]) == set(languages)
    assert set(result.by_slice["group"]) == {"even"}  # items without the key are left out
    for key, values in result.by_slice.items():
        for value, quality in values.items():
            idx = [i for i, s in enumerate(slices) if s.get(key) == value]
            sub_true = [y_true[i] for i in idx]
            sub_pred = [y_pred[i] for i in idx]
            ref = _reference(sub_true, sub_pred)
            assert quality.n == len(idx)
            assert quality.accuracy == pytest.approx(ref["accuracy"], abs=1e-12)
            assert quality.f1_macro == pytest.approx(ref["f1_macro"], abs=1e-12)
            assert quality.f1_macro_ci is not None
            assert quality.f1_macro_ci.low <= quality.f1_macro <= quality.f1_macro_ci.high


def test_slices_are_deterministic_by_seed() -> None:
    y_true = ["a", "b"] * 50
    y_pred = ["a", "a", "b", "b"] * 25
    slices = [{"language": "en" if i % 3 else "fr"} for i in range(100)]
    first = evaluate_classification(y_true, y_pred, slices, n_bootstrap=100, seed=9)
    again = evaluate_classification(y_true, y_pred, slices, n_bootstrap=100, seed=9)
    assert first == again


def test_no_bootstrap_means_no_intervals() -> None:
    result = evaluate_classification(["a", "b"], ["a", "b"], [{"k": "v"}] * 2, n_bootstrap=0)
    assert result.intervals == {}
    assert result.by_slice["k"]["v"].f1_macro_ci is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_true": [], "y_pred": []}, "zero items"),
        ({"y_true": ["a"], "y_pred": ["a", "b"]}, "y_pred has 2"),
        ({"y_true": ["a"], "y_pred": ["a"], "slices": []}, "slices has 0"),
        ({"y_true": [None], "y_pred": ["a"]}, "true label must be a string"),
        ({"y_true": ["a"], "y_pred": ["a"], "n_bootstrap": -1}, "n_bootstrap"),
        ({"y_true": ["a"], "y_pred": ["a"], "seed": -1}, "seed"),
        ({"y_true": ["a"], "y_pred": ["a"], "level": 1.0}, "level"),
    ],
)
def test_invalid_input_is_refused_with_a_reason(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_classification(**kwargs)  # type: ignore[arg-type]
