"""Code tasks: the HumanEval and MBPP layouts, code extraction, programs, scoring in the sandbox.

The shipped sample files are checked end to end: every canonical solution passes its own tests
in the sandbox, and a wrong one fails. Where this machine cannot isolate programs, those runs use
the unsafe mode (our own trusted solutions only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelmeter._exceptions import DatasetError
from modelmeter.data.sample import Sample
from modelmeter.sandbox import SandboxLimits
from modelmeter.tasks.code import (
    build_program,
    extract_code,
    load_humaneval,
    load_mbpp,
    score_code,
    score_code_many,
)

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
HUMANEVAL = DATA / "humaneval-sample.jsonl"
MBPP = DATA / "mbpp-sample.jsonl"
LIMITS = SandboxLimits(cpu_s=5, timeout_s=60)
# Our own canonical solutions are trusted: run them unsafely only where isolation is impossible.
UNSAFE_OK = True


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _humaneval_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "task_id": "T/0",
        "prompt": 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n',
        "canonical_solution": "    return sum(xs)\n",
        "test": "def check(candidate):\n    assert candidate([1, 2]) == 3\n",
        "entry_point": "total",
    }
    row.update(changes)
    return row


def _mbpp_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "task_id": 11,
        "text": "Write a function to double a number.",
        "code": "def double(x):\r\n  return 2 * x",
        "test_list": ["assert double(2) == 4", "assert double(0) == 0"],
        "test_setup_code": "",
        "challenge_test_list": [],
    }
    row.update(changes)
    return row


# ---------------------------------------------------------------------------------------------
# Loading


def test_humaneval_sample_loads_with_prompts_extras_and_slices() -> None:
    samples = load_humaneval(HUMANEVAL)
    assert len(samples) == 8
    assert len({s.id for s in samples}) == 8
    assert {s.slices["difficulty"] for s in samples} == {"easy", "medium", "hard"}
    first = samples[0]
    assert first.label is None
    assert first.extra["layout"] == "humaneval"
    assert first.extra["entry_point"] == "count_vowels"
    assert first.extra["prompt"].strip() in first.input
    assert "```python" in first.input
    assert "def check(candidate)" in first.extra["test"]
    assert set(first.slices) == {"difficulty"}


def test_mbpp_sample_loads_with_the_first_test_shown_and_the_entry_point() -> None:
    samples = load_mbpp(MBPP)
    assert len(samples) == 8
    assert {s.slices["difficulty"] for s in samples} == {"easy", "medium", "hard"}
    first = samples[0]
    assert first.id == "1"
    assert first.extra["text"] in first.input
    assert first.extra["test_list"][0] in first.input
    assert first.extra["test_list"][1] not in first.input
    assert first.extra["entry_point"] == "digit_square_sum"
    polygon = next(s for s in samples if s.extra["entry_point"] == "polygon_area")
    assert polygon.extra["setup_code"] == "import math"  # its tests call math.isclose first


def test_sanitized_mbpp_layout_loads(tmp_path: Path) -> None:
    row = {
        "source_file": "Benchmark Questions Verification V2.ipynb",
        "task_id": 7,
        "prompt": "Write a function to compute the hypotenuse.",
        "code": "import math\ndef hyp(a, b):\n    return math.hypot(a, b)",
        "test_imports": ["import math"],
        "test_list": ["assert math.isclose(hyp(3, 4), 5)"],
    }
    (sample,) = load_mbpp(_write(tmp_path / "sanitized.jsonl", [row]))
    assert sample.extra["text"] == row["prompt"]
    assert sample.extra["setup_code"] == "import math"
    assert sample.extra["entry_point"] == "hyp"
    assert sample.slices == {}  # source_file is a known MBPP column, not a slice


def test_short_extra_columns_become_slices_and_others_do_not(tmp_path: Path) -> None:
    row = _humaneval_row(topic="lists", notes="x" * 200, level=3, multi="a\nb")
    (sample,) = load_humaneval(_write(tmp_path / "he.jsonl", [row]))
    assert sample.slices == {"topic": "lists"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_humaneval_row(prompt=None)], r"he\.jsonl:1: missing field 'prompt'"),
        ([_humaneval_row(test=["x"])], r":1: field 'test' must be text, got list"),
        ([_humaneval_row(entry_point="not a name")], r"'entry_point' must be a Python function"),
        ([_humaneval_row(test="assert True")], r"must define check\(candidate\)"),
        ([_humaneval_row(), _humaneval_row()], r":2: task_id 'T/0' already used on line 1"),
        ([_humaneval_row(task_id=None)], r":1: missing field 'task_id'"),
        ([_humaneval_row(task_id=[1])], r"'task_id' must be a non-empty text or an integer"),
        ([[1, 2]], r":1: each line must be a JSON object, got list"),
        ([], r"the dataset has no rows"),
    ],
)
def test_humaneval_errors_name_the_line_and_field(
    tmp_path: Path, rows: list[Any], message: str
) -> None:
    with pytest.raises(DatasetError, match=message):
        load_humaneval(_write(tmp_path / "he.jsonl", rows))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_mbpp_row(text=None), r"mb\.jsonl:1: missing field 'text' \(or 'prompt'"),
        (_mbpp_row(test_list="assert x"), r"field 'test_list' must be a list of texts"),
        (_mbpp_row(test_list=[]), r"field 'test_list' is an empty list"),
        (_mbpp_row(test_list=None), r"missing field 'test_list'"),
        (_mbpp_row(test_setup_code=3), r"field 'test_setup_code' must be text"),
        (_mbpp_row(code=5), r"field 'code' must be text"),
    ],
)
def test_mbpp_errors_name_the_line_and_field(
    tmp_path: Path, row: dict[str, Any], message: str
) -> None:
    with pytest.raises(DatasetError, match=message):
        load_mbpp(_write(tmp_path / "mb.jsonl", [row]))


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset file not found"):
        load_mbpp(tmp_path / "missing.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"task_id": 1,\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"broken\.jsonl:1: not valid JSON"):
        load_mbpp(broken)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"task_id": "\xe9"}\n')
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_humaneval(latin)


# ---------------------------------------------------------------------------------------------
# Extraction and programs


@pytest.fixture
def humaneval_sample(tmp_path: Path) -> Sample:
    return load_humaneval(_write(tmp_path / "he.jsonl", [_humaneval_row()]))[0]


@pytest.fixture
def mbpp_sample(tmp_path: Path) -> Sample:
    return load_mbpp(_write(tmp_path / "mb.jsonl", [_mbpp_row()]))[0]


def test_a_whole_function_gets_the_prompts_imports(humaneval_sample: Sample) -> None:
    answer = "Here you go:\n```python\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n```"
    code = extract_code(answer, humaneval_sample)
    assert code.startswith("from typing import List\n")
    assert code.count("def total(") == 1


def test_a_body_gets_the_prompt_and_is_indented(humaneval_sample: Sample) -> None:
    indented = extract_code("    return sum(xs)\n", humaneval_sample)
    flush = extract_code("```python\nreturn sum(xs)\n```", humaneval_sample)
    expected = humaneval_sample.extra["prompt"].rstrip() + "\n    return sum(xs)\n"
    assert indented == expected
    assert flush == expected


def test_the_block_that_defines_the_function_is_chosen(humaneval_sample: Sample) -> None:
    answer = (
        "Usage first:\n```python\nprint(total([1]))\n```\n"
        "The function:\n```py\ndef total(xs):\n    return sum(xs)\n```\n"
        "Shell:\n```bash\npython main.py\n```"
    )
    code = extract_code(answer, humaneval_sample)
    assert "def total(xs):" in code
    assert "print(total([1]))" not in code


def test_a_reasoning_models_draft_is_not_the_answer(mbpp_sample: Sample) -> None:
    answer = (
        "<think>Maybe:\n```python\ndef double(x):\n    return x\n```\nNo, wrong.</think>\n"
        "```python\ndef double(x):\n    return 2 * x\n```"
    )
    assert extract_code(answer, mbpp_sample) == "def double(x):\n    return 2 * x\n"


def test_a_block_cut_off_by_the_token_limit_still_counts(mbpp_sample: Sample) -> None:
    code = extract_code("Sure.\n```python\ndef double(x):\n    return x * 2\n", mbpp_sample)
    assert code == "def double(x):\n    return x * 2\n"


def test_mbpp_code_is_used_as_it_is_and_plain_text_is_code(mbpp_sample: Sample) -> None:
    assert extract_code("def double(x): return x + x", mbpp_sample) == (
        "def double(x): return x + x\n"
    )
    assert extract_code("   \n", mbpp_sample) == ""
    assert extract_code("```python\n```", mbpp_sample) == ""


def test_programs_run_the_tests(humaneval_sample: Sample, mbpp_sample: Sample) -> None:
    program = build_program(humaneval_sample, "def total(xs):\n    return sum(xs)\n")
    assert program.rstrip().endswith("check(total)")
    assert "def check(candidate)" in program
    setup = load_mbpp(MBPP)[5]
    assert setup.extra["setup_code"]
    mbpp_program = build_program(setup, "def polygon_area(n, s):\n    return 0\n")
    assert mbpp_program.startswith("import math\n")
    assert mbpp_program.rstrip().endswith(setup.extra["test_list"][-1])
    assert build_program(mbpp_sample, "x = 1\n").startswith("x = 1\n")


def test_a_sample_of_another_task_is_refused() -> None:
    with pytest.raises(ValueError, match="not a code task"):
        extract_code("x", Sample(id="q1", input="What?", label="A"))


# ---------------------------------------------------------------------------------------------
# Scoring in the sandbox


def _canonical_answers() -> list[tuple[Sample, str]]:
    pairs: list[tuple[Sample, str]] = []
    for sample in load_humaneval(HUMANEVAL):
        pairs.append((sample, sample.extra["canonical_solution"]))
    for sample in load_mbpp(MBPP):
        pairs.append((sample, f"```python\n{sample.extra['reference_code']}\n```"))
    return pairs


def test_every_canonical_solution_passes_and_a_wrong_one_fails() -> None:
    right = _canonical_answers()
    wrong = [
        (sample, f"def {sample.extra['entry_point']}(*args, **kwargs):\n    return None\n")
        for sample, _ in right
    ]
    scores = score_code_many(right + wrong, limits=LIMITS, allow_unsafe=UNSAFE_OK, workers=4)
    passed, failed = scores[: len(right)], scores[len(right) :]
    assert [(s.sample_id, s.correct, s.detail) for s in passed] == [
        (sample.id, True, "") for sample, _ in right
    ]
    assert all(s.score == 1.0 for s in passed)
    assert not any(s.correct for s in failed)
    assert all(s.score == 0.0 for s in failed)
    assert all(s.detail.startswith("failed: ") for s in failed), [s.detail for s in failed]


def test_a_whole_function_answer_in_markdown_passes() -> None:
    sample = load_humaneval(HUMANEVAL)[1]  # running_max, whose prompt imports List
    body = sample.extra["canonical_solution"]
    signature = "def running_max(numbers: List[int]) -> List[int]:\n"
    answer = f"Here is the function:\n\n```python\n{signature}{body}```\nIt keeps the maximum."
    score = score_code(sample, answer, limits=LIMITS, allow_unsafe=UNSAFE_OK)
    assert score.correct, score.detail
    assert score.extracted is not None and "from typing import List" in score.extracted


def test_failures_say_why() -> None:
    sample = load_mbpp(MBPP)[0]
    wrong = score_code(
        sample, "def digit_square_sum(n):\n    return n\n", limits=LIMITS, allow_unsafe=UNSAFE_OK
    )
    assert (wrong.correct, wrong.detail) == (False, "failed: AssertionError")
    crash = score_code(
        sample, "def digit_square_sum(n):\n    return m\n", limits=LIMITS, allow_unsafe=UNSAFE_OK
    )
    assert crash.detail == "failed: NameError: name 'm' is not defined"
    endless = score_code(
        sample,
        "def digit_square_sum(n):\n    while True:\n        pass\n",
        limits=SandboxLimits(cpu_s=1, timeout_s=60),
        allow_unsafe=UNSAFE_OK,
    )
    assert not endless.correct
    assert endless.detail == "timeout: CPU time limit of 1 s reached"


def test_no_answer_and_no_code_are_wrong_without_running_anything() -> None:
    sample = load_mbpp(MBPP)[0]
    failed_request, empty = score_code_many([(sample, None), (sample, "  ")], limits=LIMITS)
    assert (failed_request.correct, failed_request.detail) == (
        False,
        "no answer (the request failed)",
    )
    assert failed_request.extracted is None
    assert (empty.correct, empty.detail) == (False, "no code in the answer")
