"""Task quality: accuracy with Wilson intervals, mean score with a seeded bootstrap, slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.stats import binomtest

from modelmeter.data.sample import Sample
from modelmeter.tasks.aggregate import TaskQuality, summarize_scores
from modelmeter.tasks.base import ItemScore
from modelmeter.tasks.multiple_choice import load_mmlu, score_multiple_choice

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"


def _samples(n: int, slices: list[dict[str, str]] | None = None) -> list[Sample]:
    return [
        Sample(id=f"s{i}", input="q", label="a", slices=slices[i] if slices else {})
        for i in range(n)
    ]


def _right(sample_id: str, score: float = 1.0) -> ItemScore:
    return ItemScore(sample_id=sample_id, correct=True, score=score)


def _wrong(sample_id: str, score: float = 0.0) -> ItemScore:
    return ItemScore(sample_id=sample_id, correct=False, score=score)


def test_eight_of_ten_gives_the_known_wilson_interval() -> None:
    samples = _samples(10)
    scores = [_right(f"s{i}") if i < 8 else _wrong(f"s{i}") for i in range(10)]
    quality = summarize_scores(samples, scores, metric="accuracy", n_bootstrap=200, seed=1)
    assert (quality.n, quality.n_correct, quality.n_failed) == (10, 8, 0)
    assert quality.accuracy == 0.8
    # Hand value: centre 0.7167, half-width 0.2266 at z = 1.96.
    assert quality.accuracy_ci.low == pytest.approx(0.4902, abs=1e-4)
    assert quality.accuracy_ci.high == pytest.approx(0.9433, abs=1e-4)
    reference = binomtest(8, 10).proportion_ci(confidence_level=0.95, method="wilson")
    assert quality.accuracy_ci.low == pytest.approx(reference.low, abs=1e-12)
    assert quality.accuracy_ci.high == pytest.approx(reference.high, abs=1e-12)
    assert quality.accuracy_ci.method == "wilson"
    assert quality.mean_score == 0.8


def test_the_bootstrap_is_the_percentile_of_resampled_means_and_seeded() -> None:
    n, resamples, seed = 40, 500, 7
    values = np.linspace(0.0, 1.0, n)
    samples = _samples(n)
    scores = [_wrong(f"s{i}", float(v)) for i, v in enumerate(values)]
    quality = summarize_scores(samples, scores, metric="token_f1", n_bootstrap=resamples, seed=seed)
    # The same draws done by hand, one resample per row.
    rows = np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.intp)
    means = values[rows].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    assert quality.mean_score_ci is not None
    assert quality.mean_score_ci.low == pytest.approx(low, abs=1e-12)
    assert quality.mean_score_ci.high == pytest.approx(high, abs=1e-12)
    assert quality.mean_score_ci.method == "bootstrap-percentile"
    assert quality.mean_score == pytest.approx(0.5)
    assert quality.mean_score_ci.low < 0.5 < quality.mean_score_ci.high

    again = summarize_scores(samples, scores, metric="token_f1", n_bootstrap=resamples, seed=seed)
    assert again == quality
    other = summarize_scores(samples, scores, metric="token_f1", n_bootstrap=resamples, seed=8)
    assert other.mean_score_ci != quality.mean_score_ci


def test_missing_and_failed_samples_count_as_wrong_with_score_zero() -> None:
    samples = _samples(5)
    scores = [_right("s0"), _right("s1"), _right("s2", 1.0), _wrong("s3", 0.5)]
    quality = summarize_scores(
        samples, scores, metric="judge", n_bootstrap=0, seed=0, failed={"s2"}
    )
    # s2 failed whatever its grade, s4 has no grade at all.
    assert (quality.n, quality.n_failed, quality.n_correct) == (5, 2, 2)
    assert quality.accuracy == pytest.approx(0.4)
    assert quality.mean_score == pytest.approx((1 + 1 + 0 + 0.5 + 0) / 5)
    assert quality.mean_score_ci is None


def test_slices_have_their_own_figures() -> None:
    slices = [{"subject": "geo"}] * 4 + [{"subject": "math", "level": "hard"}] * 6
    samples = _samples(10, slices)
    scores = [_right(f"s{i}") for i in range(3)] + [_right("s4"), _wrong("s5")]
    quality = summarize_scores(samples, scores, metric="accuracy", n_bootstrap=100, seed=3)
    geo = quality.by_slice["subject"]["geo"]
    math = quality.by_slice["subject"]["math"]
    assert (geo.n, geo.n_correct, geo.n_failed, geo.accuracy) == (4, 3, 1, 0.75)
    assert (math.n, math.n_correct, math.n_failed) == (6, 1, 4)
    assert math.accuracy == pytest.approx(1 / 6)
    reference = binomtest(1, 6).proportion_ci(method="wilson")
    assert math.accuracy_ci.low == pytest.approx(reference.low, abs=1e-12)
    assert quality.by_slice["level"]["hard"].n == 6
    assert set(quality.by_slice) == {"subject", "level"}
    assert geo.mean_score_ci is not None


def test_slice_intervals_do_not_move_the_overall_interval() -> None:
    n = 30
    with_slices = _samples(n, [{"half": "a" if i < 15 else "b"} for i in range(n)])
    without = _samples(n)
    scores = [_right(f"s{i}") if i % 3 else _wrong(f"s{i}", 0.2) for i in range(n)]
    a = summarize_scores(with_slices, scores, metric="judge", n_bootstrap=300, seed=5)
    b = summarize_scores(without, scores, metric="judge", n_bootstrap=300, seed=5)
    assert a.mean_score_ci == b.mean_score_ci
    assert b.by_slice == {}


def test_the_result_is_json_and_strict() -> None:
    samples = _samples(3, [{"lang": "fr"}, {"lang": "en"}, {"lang": "fr"}])
    quality = summarize_scores(
        samples, [_right("s0"), _wrong("s1", 0.4)], metric="token_f1", n_bootstrap=50, seed=2
    )
    text = quality.model_dump_json()
    assert TaskQuality.model_validate_json(text) == quality
    data = quality.model_dump()
    data["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        TaskQuality.model_validate(data)
    for name, field in TaskQuality.model_fields.items():
        assert field.description, name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samples": []}, "zero samples"),
        ({"metric": "bleu"}, "unknown metric 'bleu'"),
        ({"n_bootstrap": -1}, "n_bootstrap must be 0"),
        ({"seed": -2}, "seed must be a non-negative"),
        ({"level": 1.0}, "level must be between 0 and 1"),
        ({"samples": _samples(2) + _samples(1)}, "sample id 's0' appears twice"),
        ({"scores": [_right("s9")]}, "names sample 's9'"),
        ({"scores": [_right("s0"), _wrong("s0")]}, "'s0' is scored twice"),
        ({"scores": [_right("s0", 1.5)]}, "scores must be in \\[0, 1\\]"),
        ({"scores": [_right("s0", float("nan"))]}, "scores must be in"),
    ],
)
def test_misuse_is_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "samples": _samples(2),
        "scores": [_right("s0")],
        "metric": "accuracy",
        "n_bootstrap": 10,
        "seed": 0,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        summarize_scores(**arguments)  # type: ignore[arg-type]


def test_mmlu_sample_end_to_end_by_subject() -> None:
    samples = load_mmlu(EXAMPLES / "mmlu-sample")
    # A "model" that knows geography, always answers A elsewhere, and times out on security/0.
    scores = []
    for sample in samples:
        if sample.id == "computer_security/0":
            continue
        if sample.slices["subject"] == "high_school_geography":
            answer = f"The answer is {sample.label}."
        else:
            answer = "A"
        scores.append(score_multiple_choice(sample, answer))
    quality = summarize_scores(
        samples,
        scores,
        metric="accuracy",
        n_bootstrap=200,
        seed=0,
        failed={"computer_security/0"},
    )
    by_subject = quality.by_slice["subject"]
    assert by_subject["high_school_geography"].accuracy == 1.0
    expected_a = {
        subject: sum(
            1
            for s in samples
            if s.slices["subject"] == subject and s.label == "A" and s.id != "computer_security/0"
        )
        for subject in ("computer_security", "elementary_mathematics")
    }
    for subject, right in expected_a.items():
        assert by_subject[subject].n_correct == right
    assert by_subject["computer_security"].n_failed == 1
    assert quality.n_correct == 10 + sum(expected_a.values())
    assert quality.accuracy_ci.low < quality.accuracy < quality.accuracy_ci.high
