"""Multiple choice: MMLU's CSV and JSONL layouts, the prompt, reading the letter, scoring."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from modelmeter._exceptions import DatasetError
from modelmeter.data.sample import Sample
from modelmeter.tasks.multiple_choice import (
    extract_choice,
    format_prompt,
    load_mmlu,
    score_multiple_choice,
    subject_from_filename,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
SAMPLE_FOLDER = EXAMPLES / "mmlu-sample"
SAMPLE_JSONL = EXAMPLES / "mmlu-sample.jsonl"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[object]) -> Path:
    return _write(path, "".join(json.dumps(row) + "\n" for row in rows))


# --- prompt ---------------------------------------------------------------------------------


def test_prompt_is_the_standard_zero_shot_mmlu_prompt_with_a_letter_only_line() -> None:
    prompt = format_prompt("What is 2 + 2?", ["3", "4", "5", "22"], "elementary_mathematics")
    assert prompt == (
        "The following are multiple choice questions (with answers) about elementary "
        "mathematics.\n"
        "\n"
        "What is 2 + 2?\n"
        "A. 3\n"
        "B. 4\n"
        "C. 5\n"
        "D. 22\n"
        "Answer with the letter of the correct choice (A, B, C or D) only.\n"
        "Answer:"
    )


def test_prompt_for_other_choice_counts_lists_their_letters() -> None:
    prompt = format_prompt("Pick one", ["x", "y"], "")
    assert prompt.startswith("The following are multiple choice questions (with answers).\n")
    assert "(A or B)" in prompt
    ten = format_prompt("Pick one", [str(i) for i in range(10)], "misc")
    assert "J. 9" in ten
    assert "(A, B, C, D, E, F, G, H, I or J)" in ten
    with pytest.raises(ValueError, match="2 to 10 choices"):
        format_prompt("Pick one", ["only"], "misc")


# --- loading --------------------------------------------------------------------------------


def test_the_sample_folder_loads_three_balanced_subjects() -> None:
    samples = load_mmlu(SAMPLE_FOLDER)
    assert len(samples) == 30
    subjects = Counter(s.slices["subject"] for s in samples)
    assert subjects == {
        "computer_security": 10,
        "elementary_mathematics": 10,
        "high_school_geography": 10,
    }
    letters = Counter(s.label for s in samples)
    assert set(letters) == {"A", "B", "C", "D"}
    assert max(letters.values()) - min(letters.values()) <= 1
    first = samples[0]
    assert first.id == "computer_security/0"
    assert first.extra["subject"] == "computer_security"
    assert len(first.extra["choices"]) == 4
    assert first.input == format_prompt(
        first.extra["question"], first.extra["choices"], "computer_security"
    )
    assert len({s.id for s in samples}) == 30


def test_csv_and_hugging_face_jsonl_layouts_load_to_the_same_items() -> None:
    from_csv = sorted(load_mmlu(SAMPLE_FOLDER), key=lambda s: s.id)
    from_jsonl = sorted(load_mmlu(SAMPLE_JSONL), key=lambda s: s.id)
    assert from_csv == from_jsonl


def test_a_single_csv_file_and_a_quoted_multiline_question(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "astronomy_dev.csv",
        "What orbits the Earth?,The Sun,The Moon,Mars,Venus,B\n"
        '"Which is larger,\nthe Sun or the Moon?",The Moon,The Sun,Equal,Unknown,b\n',
    )
    samples = load_mmlu(path)
    assert [s.id for s in samples] == ["astronomy/0", "astronomy/1"]
    assert [s.label for s in samples] == ["B", "B"]
    assert samples[1].extra["question"] == "Which is larger,\nthe Sun or the Moon?"
    assert samples[1].slices == {"subject": "astronomy"}
    assert "about astronomy." in samples[0].input


def test_a_header_row_added_by_an_export_is_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path / "law_test.csv", "question,A,B,C,D,answer\nQ,a,b,c,d,D\n")
    samples = load_mmlu(path)
    assert [(s.id, s.label) for s in samples] == [("law/0", "D")]


def test_errors_name_the_line_where_the_record_starts(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "astronomy_test.csv",
        '"A question\nover two lines",a,b,c,d,A\nSecond,a,b,c,d,E\n',
    )
    with pytest.raises(DatasetError, match=r"astronomy_test\.csv:3: field 'answer'.*A, B, C or D"):
        load_mmlu(path)


def test_wrong_number_of_columns_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "x_test.csv", "Question,only one choice,A\n")
    with pytest.raises(DatasetError, match=r"x_test\.csv:1: expected the columns.*got 3"):
        load_mmlu(path)
    path = _write(tmp_path / "y_test.csv", "Q1,a,b,c,d,A\nQ2, with a comma,a,b,c,d,B\n")
    with pytest.raises(
        DatasetError, match=r"y_test\.csv:2: this row has 7 columns.*first row has 6"
    ):
        load_mmlu(path)


def test_other_choice_counts_in_csv(tmp_path: Path) -> None:
    five = load_mmlu(_write(tmp_path / "five_test.csv", "Q,a,b,c,d,e,E\n"))
    assert five[0].label == "E"
    assert "E. e" in five[0].input
    two = _write(tmp_path / "two_test.csv", "Q,yes,no,C\n")
    with pytest.raises(
        DatasetError, match=r"two_test\.csv:1: field 'answer' must be one of A or B"
    ):
        load_mmlu(two)


def test_empty_question_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "x_test.csv", " ,a,b,c,d,A\n")
    with pytest.raises(DatasetError, match=r":1: column 1 \(question\) is empty"):
        load_mmlu(path)


def test_jsonl_answers_as_index_or_letter_and_given_ids(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"question": "Q0", "subject": "law", "choices": ["a", "b", "c", "d"], "answer": 3},
            {"question": "Q1", "subject": "law", "choices": ["a", "b", "c"], "answer": "b"},
            {
                "id": "mine-7",
                "question": "Q2",
                "subject": "art",
                "choices": ["a", "b"],
                "answer": 0,
            },
            {"question": "Q3", "choices": ["a", "b"], "answer": "1"},
        ],
    )
    samples = load_mmlu(path)
    assert [(s.id, s.label) for s in samples] == [
        ("law/0", "D"),
        ("law/1", "B"),
        ("mine-7", "A"),
        ("mixed/0", "B"),  # no subject field: the file name stands in
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"subject": "s", "choices": ["a", "b"], "answer": 0}, "missing field 'question'"),
        ({"question": "Q", "choices": "a,b,c,d", "answer": 0}, "field 'choices' must be a list"),
        ({"question": "Q", "choices": ["a"], "answer": 0}, "2 to 10 texts, got 1 items"),
        ({"question": "Q", "choices": ["a", ["b"]], "answer": 0}, "'choices' item 1 must be text"),
        ({"question": "Q", "choices": ["a", "b", "c", "d"], "answer": 4}, "index 0 to 3"),
        ({"question": "Q", "choices": ["a", "b", "c", "d"], "answer": True}, "field 'answer'"),
        ({"question": "Q", "choices": ["a", "b", "c", "d"], "answer": "F"}, "got 'F'"),
        ({"question": "", "choices": ["a", "b"], "answer": 0}, "field 'question' is empty"),
        ({"question": {"t": 1}, "choices": ["a", "b"], "answer": 0}, "'question' must be text"),
    ],
)
def test_jsonl_errors_name_line_and_field(tmp_path: Path, row: object, message: str) -> None:
    good = {"question": "Fine", "subject": "s", "choices": ["a", "b"], "answer": 1}
    path = _jsonl(tmp_path / "bad.jsonl", [good, row])
    with pytest.raises(DatasetError, match=r"bad\.jsonl:2: ") as caught:
        load_mmlu(path)
    assert message in str(caught.value)


def test_jsonl_that_is_not_json_or_not_objects(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"a\.jsonl:1: not valid JSON"):
        load_mmlu(_write(tmp_path / "a.jsonl", "{nope\n"))
    with pytest.raises(DatasetError, match=r"b\.jsonl:1: each line must be a JSON object"):
        load_mmlu(_write(tmp_path / "b.jsonl", "[1, 2]\n"))


def test_a_folder_mixing_dev_and_test_of_one_subject_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "law_dev.csv", "Q,a,b,c,d,A\n")
    _write(tmp_path / "law_test.csv", "Q,a,b,c,d,A\n")
    with pytest.raises(
        DatasetError, match=r"law_test\.csv:1: id 'law/0' already used at .*law_dev"
    ):
        load_mmlu(tmp_path)


def test_missing_empty_and_undecodable_inputs(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load_mmlu(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no MMLU files"):
        load_mmlu(tmp_path / "empty")
    with pytest.raises(DatasetError, match="no questions found"):
        load_mmlu(_write(tmp_path / "blank_test.csv", "\n\n"))
    latin = tmp_path / "latin_test.csv"
    latin.write_bytes("Caf\xe9?,a,b,c,d,A\n".encode("latin-1"))
    where = r"latin_test\.csv:1: not UTF-8 text at byte 3 \(byte 0xe9"
    with pytest.raises(DatasetError, match=where):
        load_mmlu(latin)


def test_subject_from_filename() -> None:
    assert subject_from_filename(Path("high_school_geography_test.csv")) == "high_school_geography"
    assert subject_from_filename(Path("anatomy_val.csv")) == "anatomy"
    assert subject_from_filename(Path("anatomy_dev.csv")) == "anatomy"
    assert subject_from_filename(Path("custom.csv")) == "custom"
    assert subject_from_filename(Path("_test.csv")) == "_test"


# --- reading the letter ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("B", "B"),
        ("B.", "B"),
        ("(B)", "B"),
        ("b", "B"),
        ("  [c]  ", "C"),
        ("**B**", "B"),
        ("Answer: B", "B"),
        ("**Answer:** D", "D"),
        ("The answer is B because water expands when it freezes.", "B"),
        ("A good question. Looking at each option, the answer is C", "C"),
        ("The correct answer is (C).", "C"),
        ("The answer is option D.", "D"),
        ("I think the answer is b.", "B"),
        ("Answer: B. Option A is wrong because it ignores friction.", "B"),
        ("At first the answer seemed to be A, but on reflection the answer is C.", "C"),
        ("Answer: B\nWait, let me check the units again.\nAnswer: D", "D"),
        ("My first answer was A; the final answer is C.", "C"),
        ("C is correct.", "C"),
        ("I would pick option D", "D"),
        ("C. Paris is the capital", "C"),
        ("(A) because it is the only even number", "A"),
        ("I think C.", "C"),
        ("It isn't B, so D.", "D"),
        ("A and B are both plausible", None),
        ("the answer is a bit unclear", None),
        ("I don't know.", None),
        ("E", None),
        ("Answer: E", None),
        ("", None),
    ],
)
def test_extract_choice(answer: str, expected: str | None) -> None:
    assert extract_choice(answer, 4) == expected


def test_extract_choice_respects_the_number_of_choices() -> None:
    assert extract_choice("Answer: J", 10) == "J"
    assert extract_choice("Answer: C", 2) is None
    assert extract_choice("I think J", 10) == "J"
    with pytest.raises(ValueError, match="2 to 10"):
        extract_choice("A", 11)


# --- scoring --------------------------------------------------------------------------------


def _question() -> Sample:
    return Sample(
        id="geo/0",
        input="...",
        label="C",
        slices={"subject": "geo"},
        extra={"choices": ["w", "x", "y", "z"], "subject": "geo"},
    )


def test_scoring_right_wrong_unreadable_and_failed() -> None:
    sample = _question()
    right = score_multiple_choice(sample, "The answer is C.")
    assert (right.correct, right.score, right.extracted, right.detail) == (True, 1.0, "C", "")
    wrong = score_multiple_choice(sample, "B")
    assert (wrong.correct, wrong.score, wrong.extracted) == (False, 0.0, "B")
    assert wrong.detail == "chose B, expected C"
    unreadable = score_multiple_choice(sample, "Hard to say.")
    assert (unreadable.correct, unreadable.extracted) == (False, None)
    assert "no answer letter (A, B, C or D)" in unreadable.detail
    failed = score_multiple_choice(sample, None)
    assert (failed.correct, failed.score, failed.detail) == (False, 0.0, "request failed")


def test_scoring_a_sample_without_choices_or_letter_label_is_a_clear_error() -> None:
    with pytest.raises(DatasetError, match="sample 'q': multiple-choice scoring needs"):
        score_multiple_choice(Sample(id="q", input="x", label="A"), "A")
    bad_label = Sample(id="q", input="x", label="Paris", extra={"choices": ["a", "b"]})
    with pytest.raises(DatasetError, match="one of A or B, got 'Paris'"):
        score_multiple_choice(bad_label, "A")


def test_every_sample_question_is_answered_right_by_its_own_letter() -> None:
    for sample in load_mmlu(SAMPLE_FOLDER):
        assert sample.label is not None
        assert score_multiple_choice(sample, f"Answer: {sample.label}").correct
