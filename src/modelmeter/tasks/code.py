"""Code generation in HumanEval's and MBPP's public layouts, scored by running the tests.

Two layouts are read, so that a user can point at either dataset as it is downloaded:

* HumanEval (JSONL): ``task_id``, ``prompt`` (imports, signature and docstring), ``test`` (a
  ``check(candidate)`` function of asserts), ``entry_point`` (the function's name) and
  ``canonical_solution``. The model is asked to complete the function.
* MBPP (JSONL): ``task_id``, ``text`` (the task in words), ``code`` (a reference solution),
  ``test_list`` (assert statements), ``test_setup_code`` and ``challenge_test_list``; the
  "sanitized" variant, with ``prompt`` instead of ``text`` and ``test_imports`` (a list) instead
  of ``test_setup_code``, reads the same. As in the MBPP paper the prompt shows a test, which
  tells the model the function's name and signature. ``challenge_test_list`` is kept in
  ``extra`` but not run: the published figures use ``test_list`` alone.

Any other column of a row whose value is a short one-line text (``difficulty``, ``topic``)
becomes a slice, so results can be broken down by it.

An answer is scored by running, in the sandbox (`modelmeter.sandbox`), one program made of the
code read from it and the task's tests: it is correct when the program exits with 0 within the
limits. What counts as "the code" is documented at `extract_code`. `pass_at_k` is the unbiased
estimator of Chen et al. (2021) for n samples per task of which c passed.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modelmeter._exceptions import DatasetError
from modelmeter.data.loaders import read_jsonl
from modelmeter.data.sample import Sample
from modelmeter.sandbox import SandboxLimits, SandboxResult, run_many
from modelmeter.tasks.base import ItemScore

__all__ = [
    "HUMANEVAL_FIELDS",
    "MBPP_FIELDS",
    "build_program",
    "extract_code",
    "humaneval_prompt",
    "load_humaneval",
    "load_mbpp",
    "mbpp_prompt",
    "pass_at_k",
    "pass_at_k_per_task",
    "score_code",
    "score_code_many",
]

HUMANEVAL_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")
MBPP_FIELDS = (
    "task_id",
    "text",
    "prompt",
    "code",
    "test_list",
    "test_setup_code",
    "test_imports",
    "challenge_test_list",
    "source_file",
)
SLICE_MAX_CHARS = 64
_DETAIL_MAX_CHARS = 200
_THINK_END = "</think>"
_PYTHON_TAGS = frozenset({"python", "python3", "py", "py3"})
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)


# ---------------------------------------------------------------------------------------------
# Prompts


def humaneval_prompt(prompt: str) -> str:
    """What a chat model is sent for a HumanEval task: an instruction, then the prompt."""
    return (
        "Complete the following Python function. Reply with the complete function, "
        "signature included, in a single ```python code block.\n\n"
        f"```python\n{prompt.rstrip()}\n```"
    )


def mbpp_prompt(text: str, first_test: str) -> str:
    """What a model is sent for an MBPP task: the MBPP paper's wording, showing one test."""
    return (
        f"You are an expert Python programmer, and here is your task: {text.strip()} "
        f"Your code should pass this test:\n\n{first_test.strip()}\n\n"
        "Reply with the code in a single ```python code block."
    )


# ---------------------------------------------------------------------------------------------
# Loading


def _text(
    row: Mapping[str, Any], name: str, path: Path, line: int, *, allow_empty: bool = False
) -> str:
    if name not in row or row[name] is None:
        known = ", ".join(sorted(row)) or "none"
        raise DatasetError(f"missing field '{name}' (fields here: {known})", path=path, line=line)
    value = row[name]
    if not isinstance(value, str):
        raise DatasetError(
            f"field '{name}' must be text, got {type(value).__name__}", path=path, line=line
        )
    if not allow_empty and not value.strip():
        raise DatasetError(f"field '{name}' is empty", path=path, line=line)
    return value


def _task_id(row: Mapping[str, Any], path: Path, line: int) -> str:
    value = row.get("task_id")
    if value is None:
        known = ", ".join(sorted(row)) or "none"
        raise DatasetError(f"missing field 'task_id' (fields here: {known})", path=path, line=line)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise DatasetError(
            f"field 'task_id' must be a non-empty text or an integer, got {value!r}",
            path=path,
            line=line,
        )
    return str(value)


def _text_list(
    row: Mapping[str, Any], name: str, path: Path, line: int, *, required: bool
) -> list[str]:
    value = row.get(name)
    if value is None:
        if required:
            known = ", ".join(sorted(row)) or "none"
            raise DatasetError(
                f"missing field '{name}' (fields here: {known})", path=path, line=line
            )
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DatasetError(
            f"field '{name}' must be a list of texts (Python statements)", path=path, line=line
        )
    if required and not value:
        raise DatasetError(f"field '{name}' is an empty list", path=path, line=line)
    return value


def _slices(row: Mapping[str, Any], known: Sequence[str]) -> dict[str, str]:
    """Extra columns holding a short one-line text, such as ``difficulty``."""
    return {
        name: value.strip()
        for name, value in row.items()
        if name not in known
        and isinstance(value, str)
        and value.strip()
        and len(value) <= SLICE_MAX_CHARS
        and "\n" not in value
    }


def _check_unique(sample_id: str, seen: dict[str, int], path: Path, line: int) -> None:
    if sample_id in seen:
        raise DatasetError(
            f"task_id '{sample_id}' already used on line {seen[sample_id]}", path=path, line=line
        )
    seen[sample_id] = line


def _no_rows(path: Path) -> DatasetError:
    return DatasetError("the dataset has no rows", path=path)


def load_humaneval(path: Path | str) -> list[Sample]:
    """Read a JSONL file in HumanEval's layout; errors name ``path:line`` and the field."""
    path = Path(path)
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for line, row in read_jsonl(path):
        sample_id = _task_id(row, path, line)
        _check_unique(sample_id, seen, path, line)
        prompt = _text(row, "prompt", path, line)
        test = _text(row, "test", path, line)
        entry_point = _text(row, "entry_point", path, line).strip()
        if not entry_point.isidentifier():
            raise DatasetError(
                f"field 'entry_point' must be a Python function name, got {entry_point!r}",
                path=path,
                line=line,
            )
        if "def check(" not in test:
            raise DatasetError(
                "field 'test' must define check(candidate), as HumanEval's tests do",
                path=path,
                line=line,
            )
        solution = row.get("canonical_solution")
        samples.append(
            Sample(
                id=sample_id,
                input=humaneval_prompt(prompt),
                label=None,
                slices=_slices(row, HUMANEVAL_FIELDS),
                extra={
                    "layout": "humaneval",
                    "prompt": prompt,
                    "test": test,
                    "entry_point": entry_point,
                    "canonical_solution": solution if isinstance(solution, str) else None,
                },
            )
        )
    if not samples:
        raise _no_rows(path)
    return samples


# What ast.parse raises on code it cannot read: a syntax error, a NUL byte (ValueError), or
# nesting deeper than its parser's stack (MemoryError, RecursionError). Such code has no
# function to find; the sandbox reports what it does when run.
_UNPARSABLE = (SyntaxError, ValueError, MemoryError, RecursionError)


def _called_functions(statement: str) -> list[str]:
    """Names of the plain functions an assert calls, in source order, builtins left out."""
    try:
        tree = ast.parse(statement)
    except _UNPARSABLE:
        return []
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    names = [node.func.id for node in calls if isinstance(node.func, ast.Name)]
    return [name for name in names if not hasattr(builtins, name)]


def _defined_functions(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except _UNPARSABLE:
        return set()
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def _mbpp_entry_point(first_test: str, reference: str | None) -> str | None:
    """The function under test: the first one the test calls that the reference defines."""
    called = _called_functions(first_test)
    defined = _defined_functions(reference) if reference else set()
    for name in called:
        if name in defined:
            return name
    return called[0] if called else None


def load_mbpp(path: Path | str) -> list[Sample]:
    """Read a JSONL file in MBPP's layout (original or sanitized); errors name ``path:line``."""
    path = Path(path)
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for line, row in read_jsonl(path):
        sample_id = _task_id(row, path, line)
        _check_unique(sample_id, seen, path, line)
        if row.get("text") is not None:
            text = _text(row, "text", path, line)
        elif row.get("prompt") is not None:
            text = _text(row, "prompt", path, line)
        else:
            known = ", ".join(sorted(row)) or "none"
            raise DatasetError(
                f"missing field 'text' (or 'prompt', as in sanitized MBPP) (fields here: {known})",
                path=path,
                line=line,
            )
        tests = _text_list(row, "test_list", path, line, required=True)
        if row.get("test_setup_code") is not None:
            setup = _text(row, "test_setup_code", path, line, allow_empty=True)
        else:
            setup = "\n".join(_text_list(row, "test_imports", path, line, required=False))
        challenge = _text_list(row, "challenge_test_list", path, line, required=False)
        reference = row.get("code")
        if reference is not None and not isinstance(reference, str):
            raise DatasetError(
                f"field 'code' must be text, got {type(reference).__name__}", path=path, line=line
            )
        samples.append(
            Sample(
                id=sample_id,
                input=mbpp_prompt(text, tests[0]),
                label=None,
                slices=_slices(row, MBPP_FIELDS),
                extra={
                    "layout": "mbpp",
                    "text": text,
                    "test_list": tests,
                    "setup_code": setup,
                    "challenge_test_list": challenge,
                    "reference_code": reference,
                    "entry_point": _mbpp_entry_point(tests[0], reference),
                },
            )
        )
    if not samples:
        raise _no_rows(path)
    return samples


# ---------------------------------------------------------------------------------------------
# From an answer to a program


def _layout(sample: Sample) -> str:
    layout = sample.extra.get("layout")
    if layout not in ("humaneval", "mbpp"):
        raise ValueError(
            f"sample {sample.id!r} is not a code task (extra['layout'] is {layout!r}; "
            "load it with load_humaneval or load_mbpp)"
        )
    return str(layout)


def _defines(code: str, name: str | None) -> bool:
    if not name:
        return False
    pattern = rf"^(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\("
    return re.search(pattern, code, re.M) is not None


def _fenced_blocks(answer: str) -> list[tuple[str, str]]:
    return [(match[1].lower(), match[2]) for match in _FENCE.finditer(answer)]


def _prompt_header(prompt: str, entry_point: str) -> str:
    """What a HumanEval prompt has before the function: imports and helper functions."""
    match = re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(entry_point)}[ \t]*\(", prompt, re.M)
    return prompt[: match.start()] if match else ""


def _as_body(text: str) -> str:
    """A function body as a model may write it, indented to sit under the prompt's def."""
    lines = text.strip("\n").splitlines()
    first = next((line for line in lines if line.strip()), "")
    if first and not first[0].isspace():
        return textwrap.indent("\n".join(lines), "    ")
    return "\n".join(lines)


def extract_code(answer: str, sample: Sample) -> str:
    """The code in a model's answer, ready for `build_program`.

    * A reasoning model's thinking (everything up to the last ``</think>``) is dropped first:
      its draft code is not the answer.
    * Fenced blocks are preferred over the whole text: among them the first tagged Python (or
      untagged) block that defines the task's function, else the first Python block, else the
      first untagged one. A block cut off by the token limit (no closing fence) still counts.
      Without fences the whole answer is the code.
    * HumanEval: code that defines the entry point is a whole function; the prompt's text
      before the function (its imports, any helper it defines) is put in front, since models
      often leave the imports out. Code that does not is a body: the prompt is put in front and
      the body indented under it when it starts at column 0.
    * MBPP: the code is used as it is.

    An empty answer gives an empty string.
    """
    layout = _layout(sample)
    entry_point = sample.extra.get("entry_point")
    if _THINK_END in answer:
        answer = answer.rsplit(_THINK_END, 1)[1]
    blocks = _fenced_blocks(answer)
    candidates = [body for tag, body in blocks if tag in _PYTHON_TAGS or not tag]
    if candidates:
        defining = [body for body in candidates if _defines(body, entry_point)]
        tagged = [body for tag, body in blocks if tag in _PYTHON_TAGS]
        code = (defining or tagged or candidates)[0]
    elif blocks:
        code = blocks[0][1]
    else:
        code = answer
    code = code.strip("\n")
    if not code.strip():
        return ""
    if layout == "humaneval":
        prompt = str(sample.extra["prompt"])
        if _defines(code, entry_point):
            header = _prompt_header(prompt, str(entry_point))
            return f"{header}{code}\n" if header.strip() else f"{code}\n"
        return f"{prompt.rstrip()}\n{_as_body(code)}\n"
    return f"{code}\n"


def build_program(sample: Sample, code: str) -> str:
    """One program that defines the code and runs the task's tests; exit 0 means all passed."""
    if _layout(sample) == "humaneval":
        test = str(sample.extra["test"])
        entry_point = str(sample.extra["entry_point"])
        return f"{code.rstrip()}\n\n\n{test.rstrip()}\n\n\ncheck({entry_point})\n"
    setup = str(sample.extra.get("setup_code") or "")
    tests = "\n".join(str(test) for test in sample.extra["test_list"])
    parts = [setup.rstrip(), code.rstrip(), tests]
    return "\n\n".join(part for part in parts if part) + "\n"


# ---------------------------------------------------------------------------------------------
# Scoring


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:_DETAIL_MAX_CHARS] if lines else ""


def _grade(sample: Sample, code: str, result: SandboxResult) -> ItemScore:
    if result.ok:
        return ItemScore(sample_id=sample.id, correct=True, score=1.0, extracted=code)
    if result.status == "failed":
        why = _last_line(result.stderr) or result.reason
    elif result.status == "error":
        why = f"sandbox error: {result.reason}"
    else:
        why = result.reason
    return ItemScore(
        sample_id=sample.id,
        correct=False,
        score=0.0,
        extracted=code,
        detail=f"{result.status}: {why}",
    )


def score_code(
    sample: Sample,
    answer: str | None,
    *,
    limits: SandboxLimits | None = None,
    allow_unsafe: bool = False,
) -> ItemScore:
    """Run the code of one answer against the task's tests in the sandbox."""
    return score_code_many([(sample, answer)], limits=limits, allow_unsafe=allow_unsafe)[0]


def score_code_many(
    items: Sequence[tuple[Sample, str | None]],
    *,
    limits: SandboxLimits | None = None,
    allow_unsafe: bool = False,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> list[ItemScore]:
    """Score many (sample, answer) pairs, running up to ``workers`` programs at once (default:
    one per CPU); results in the order of ``items``. ``answer=None`` (a failed request) is
    wrong, as in every task. ``cancel``: see `run_many`. Raises `SandboxUnavailableError`
    where code cannot be isolated and ``allow_unsafe`` is False, before anything runs."""
    scores: list[ItemScore | None] = []
    programs: list[str] = []
    pending: list[tuple[int, Sample, str]] = []
    for index, (sample, answer) in enumerate(items):
        code = extract_code(answer, sample) if answer is not None else ""
        if answer is None:
            scores.append(ItemScore(sample.id, False, 0.0, None, "no answer (the request failed)"))
        elif not code:
            scores.append(ItemScore(sample.id, False, 0.0, "", "no code in the answer"))
        else:
            scores.append(None)
            programs.append(build_program(sample, code))
            pending.append((index, sample, code))
    if programs:
        results = run_many(
            programs, limits=limits, allow_unsafe=allow_unsafe, workers=workers, cancel=cancel
        )
        for (index, sample, code), result in zip(pending, results, strict=True):
            scores[index] = _grade(sample, code, result)
    return [score for score in scores if score is not None]


# ---------------------------------------------------------------------------------------------
# pass@k


def _count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate for one task: n samples drawn, c of them correct.

    pass@k = 1 - C(n-c, k) / C(n, k), the chance that at least one of k samples drawn without
    replacement from the n is correct (Chen et al. 2021). Computed as the product
    1 - prod_{i=n-c+1..n} (1 - k/i), which needs no large binomials and loses no precision.
    Requires 1 <= k <= n and 0 <= c <= n.
    """
    _count("n", n)
    _count("c", c)
    _count("k", k)
    if n < 1:
        raise ValueError(f"n (samples per task) must be at least 1, got {n}")
    if not 0 <= c <= n:
        raise ValueError(f"c (correct samples) must be between 0 and n={n}, got {c}")
    if not 1 <= k <= n:
        raise ValueError(
            f"k must be between 1 and n={n}: pass@{k} needs at least {k} samples per task"
        )
    if n - c < k:
        return 1.0
    missed = 1.0
    for i in range(n - c + 1, n + 1):
        missed *= 1.0 - k / i
    return 1.0 - missed


def pass_at_k_per_task(results: Mapping[str, Sequence[bool]], k: int) -> float:
    """Mean pass@k over tasks; ``results`` maps a task id to the pass/fail of its samples."""
    if not results:
        raise ValueError("pass@k needs at least one task")
    total = 0.0
    for task, outcomes in results.items():
        n = len(outcomes)
        if n < k:
            raise ValueError(
                f"task {task!r} has {n} samples, fewer than k={k}: pass@{k} needs at least "
                f"{k} samples per task"
            )
        total += pass_at_k(n, sum(1 for passed in outcomes if passed), k)
    return total / len(results)
