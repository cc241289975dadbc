"""Generation scoring: SQuAD exact match and token F1 on hand-checked examples, and regex."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelmeter._exceptions import DatasetError, SpecError
from modelmeter.data.loaders import load_samples
from modelmeter.data.sample import Sample
from modelmeter.spec import DatasetSpec
from modelmeter.tasks.generation import (
    compile_pattern,
    exact_match,
    normalize_answer,
    references_of,
    score_generation,
    token_f1,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"


def _item(label: str | None = "Eiffel tower", **extra: object) -> Sample:
    return Sample(id="q1", input="Which tower?", label=label, extra=dict(extra))


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  An   apple, a day. ", "apple day"),
        ("Theatre", "theatre"),  # articles only as whole words
        ("U.S.A.", "usa"),
        ("rock-'n'-roll", "rocknroll"),
        ("the", ""),
    ],
)
def test_squad_normalisation(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


def test_exact_match_after_normalisation() -> None:
    assert exact_match("the Eiffel Tower", ["Eiffel tower"])
    assert exact_match("Eiffel Tower.", ["Louvre", "The Eiffel Tower"])
    assert not exact_match("Eiffel", ["Eiffel tower"])
    assert not exact_match("anything", [])


@pytest.mark.parametrize(
    ("prediction", "reference", "f1"),
    [
        ("Denver Broncos", "Denver Broncos", 1.0),
        # P = 1/1, R = 1/2 -> 2/3
        ("Broncos", "the Denver Broncos", 2 / 3),
        # tokens cat sat on mat | cat on mat: 3 common, P = 3/4, R = 1 -> 6/7
        ("the cat sat on the mat", "cat on mat", 6 / 7),
        # bag of tokens: "red" counts once in common, P = 1/3, R = 1/2 -> 0.4
        ("red red red", "red blue", 0.4),
        ("Paris", "London", 0.0),
        # SQuAD v2.0: two answers that normalise to nothing agree
        ("The", "a", 1.0),
        ("", "Paris", 0.0),
    ],
)
def test_token_f1_hand_values(prediction: str, reference: str, f1: float) -> None:
    assert token_f1(prediction, [reference]) == pytest.approx(f1, abs=1e-12)


def test_token_f1_takes_the_best_reference() -> None:
    assert token_f1("Broncos", ["Carolina Panthers", "Denver Broncos", "Broncos"]) == 1.0
    assert token_f1("Broncos", []) == 0.0


def test_score_exact_match() -> None:
    right = score_generation(_item(), "the Eiffel Tower", method="exact_match")
    assert (right.correct, right.score, right.extracted) == (True, 1.0, "eiffel tower")
    wrong = score_generation(_item(), "the Louvre", method="exact_match")
    assert (wrong.correct, wrong.score) == (False, 0.0)
    assert "expected 'Eiffel tower'" in wrong.detail


def test_score_token_f1_uses_the_threshold_for_correct_and_keeps_f1_as_score() -> None:
    sample = _item(label="cat on mat")
    default = score_generation(sample, "the cat sat on the mat", method="token_f1")
    assert default.correct
    assert default.score == pytest.approx(6 / 7)
    strict = score_generation(sample, "the cat sat on the mat", method="token_f1", threshold=0.9)
    assert not strict.correct
    assert strict.score == pytest.approx(6 / 7)
    assert "token F1 0.86 below 0.9" in strict.detail
    with pytest.raises(SpecError, match="threshold: must be between 0 and 1"):
        score_generation(sample, "x", method="token_f1", threshold=1.5)


def test_references_come_from_label_and_extra_references() -> None:
    sample = _item(label="NYC", references=["New York City", "NYC", "New York"])
    assert references_of(sample) == ["NYC", "New York City", "New York"]
    assert score_generation(sample, "new york", method="exact_match").correct
    only_list = _item(label=None, references=["42"])
    assert score_generation(only_list, "42", method="exact_match").correct
    with pytest.raises(DatasetError, match="sample 'q1': field 'references' must be a list"):
        references_of(_item(references="NYC"))
    with pytest.raises(DatasetError, match="needs a reference answer"):
        score_generation(_item(label=None), "x", method="token_f1")


def test_regex_searches_the_answer() -> None:
    sample = _item(label=None)
    found = score_generation(sample, "The answer is 42.", method="regex", pattern=r"\b42\b")
    assert (found.correct, found.score, found.extracted) == (True, 1.0, "42")
    missed = score_generation(sample, "It is 421.", method="regex", pattern=r"\b42\b")
    assert (missed.correct, missed.score) == (False, 0.0)
    assert "not found in 'It is 421.'" in missed.detail
    anchored = score_generation(sample, "The answer is 42.", method="regex", pattern=r"^42$")
    assert not anchored.correct
    folded = score_generation(sample, "PARIS", method="regex", pattern=r"(?i)paris")
    assert folded.correct


def test_an_items_own_pattern_wins_over_the_specs() -> None:
    sample = _item(label=None, pattern=r"\bblue\b")
    assert score_generation(sample, "It is blue.", method="regex", pattern="red").correct
    assert not score_generation(sample, "It is red.", method="regex", pattern="red").correct


def test_bad_patterns_are_named_where_they_come_from() -> None:
    with pytest.raises(SpecError, match=r"pattern: invalid regular expression '\(ab'.*position 0"):
        score_generation(_item(), "ab", method="regex", pattern="(ab")
    with pytest.raises(SpecError, match=r"task\.pattern: invalid regular expression"):
        compile_pattern("[z-a]", field="task.pattern")
    with pytest.raises(DatasetError, match=r"sample 'q1': field 'pattern': invalid regular"):
        score_generation(_item(pattern="a{2,1}"), "aa", method="regex")
    with pytest.raises(DatasetError, match=r"sample 'q1': field 'pattern' must be text"):
        score_generation(_item(pattern=5), "5", method="regex")
    with pytest.raises(SpecError, match="regex scoring needs a pattern"):
        score_generation(_item(), "x", method="regex")
    assert compile_pattern(r"\d+").search("abc 12") is not None


def test_failed_requests_and_unknown_methods() -> None:
    for method in ("exact_match", "token_f1", "regex"):
        failed = score_generation(_item(), None, method=method, pattern="x")
        assert (failed.correct, failed.score, failed.detail) == (False, 0.0, "request failed")
    with pytest.raises(SpecError, match="unknown generation scoring method 'bleu'"):
        score_generation(_item(), "x", method="bleu")  # type: ignore[arg-type]


def test_the_sample_file_loads_and_each_reference_matches_itself() -> None:
    spec = DatasetSpec(
        path=EXAMPLES / "generation-sample.jsonl",
        input_field="question",
        label_field="answer",
        slice_fields=["difficulty"],
    )
    samples = load_samples(spec)
    assert len(samples) == 20
    assert {s.slices["difficulty"] for s in samples} == {"easy", "medium", "hard"}
    for sample in samples:
        assert sample.label is not None
        assert score_generation(sample, f"{sample.label}.", method="exact_match").correct
        assert score_generation(sample, sample.label, method="token_f1").score == 1.0
