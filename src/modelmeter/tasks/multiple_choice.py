"""Multiple-choice questions in MMLU's public layouts, the zero-shot prompt, and answer scoring.

Two layouts are read, so that a user can point at MMLU as it is downloaded:

* the original CSV files, one per subject, named ``<subject>_test.csv`` (or ``_dev``/``_val``),
  with no header row and the columns question, choice A, choice B, ..., answer letter; the
  subject comes from the file name. A path may be one file or a folder of them. A header row
  that some exports add ("question,A,B,C,D,answer") is skipped.
* the Hugging Face JSONL layout: one object per line with ``question``, ``subject``, ``choices``
  (a list) and ``answer`` (the index of the right choice, or its letter), and optionally ``id``.

Both give the same items: the id is ``<subject>/<k>``, ``k`` counting that subject's questions
in its file from 0 (the row index of the Hugging Face dataset), unless the row has an ``id``.
MMLU has four choices, but anything from 2 to 10 (letters A to J) is accepted.

Models answer in free text, so the letter is read with explicit, documented rules
(:func:`extract_choice`) rather than by taking the first capital letter, which would read "A
good question..." as a vote for A.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from modelmeter._exceptions import DatasetError
from modelmeter._text_files import allow_long_csv_cells, csv_problem, not_utf8
from modelmeter.data.loaders import read_jsonl
from modelmeter.data.sample import Sample
from modelmeter.tasks.base import ItemScore

__all__ = [
    "LETTERS",
    "MAX_CHOICES",
    "MIN_CHOICES",
    "extract_choice",
    "format_prompt",
    "load_mmlu",
    "score_multiple_choice",
    "subject_from_filename",
]

LETTERS = "ABCDEFGHIJ"
MIN_CHOICES = 2
MAX_CHOICES = len(LETTERS)

_SPLIT_SUFFIXES = ("_test", "_dev", "_val", "_validation", "_train", "_auxiliary_train")
_JSONL_SUFFIXES = (".jsonl", ".ndjson")


def _letters(n_choices: int) -> str:
    return LETTERS[:n_choices]


def _letter_list(n_choices: int) -> str:
    """'A, B, C or D' for four choices."""
    letters = _letters(n_choices)
    return ", ".join(letters[:-1]) + " or " + letters[-1]


def _check_n_choices(n_choices: int) -> None:
    if not MIN_CHOICES <= n_choices <= MAX_CHOICES:
        raise ValueError(
            f"a question needs {MIN_CHOICES} to {MAX_CHOICES} choices, got {n_choices}"
        )


def format_prompt(question: str, choices: Sequence[str], subject: str) -> str:
    """The standard zero-shot MMLU prompt, with one line asking for the letter alone.

    The header and layout are those of the MMLU paper's evaluation code ("The following are
    multiple choice questions (with answers) about <subject>.", the question, one "X. choice"
    line per choice, "Answer:"); the subject's underscores become spaces. Chat models tend to
    explain before answering, so an instruction line before the final "Answer:" asks for the
    letter only; :func:`extract_choice` still copes when they explain anyway.
    """
    _check_n_choices(len(choices))
    topic = " ".join(subject.replace("_", " ").split())
    header = "The following are multiple choice questions (with answers)"
    header += f" about {topic}." if topic else "."
    lines = [header, "", question.strip()]
    lines += [
        f"{letter}. {str(choice).strip()}"
        for letter, choice in zip(_letters(len(choices)), choices, strict=True)
    ]
    lines.append(
        f"Answer with the letter of the correct choice ({_letter_list(len(choices))}) only."
    )
    lines.append("Answer:")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Loading


def subject_from_filename(path: Path) -> str:
    """``high_school_geography_test.csv`` -> ``high_school_geography`` (split suffix dropped)."""
    stem = path.stem
    for suffix in _SPLIT_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def _answer_letter(value: Any, n_choices: int, path: Path, line: int) -> str:
    letters = _letters(n_choices)
    allowed = (
        f"one of {_letter_list(n_choices)} or an index 0 to {n_choices - 1} "
        f"(the question has {n_choices} choices)"
    )
    if isinstance(value, bool):
        raise DatasetError(f"field 'answer' must be {allowed}, got {value!r}", path=path, line=line)
    if isinstance(value, int):
        if 0 <= value < n_choices:
            return letters[value]
        raise DatasetError(f"field 'answer' must be {allowed}, got {value}", path=path, line=line)
    if isinstance(value, str):
        text = value.strip().upper()
        if len(text) == 1 and text in letters:
            return text
        # (the length first: int() refuses strings of more than 4,300 digits)
        if text.isdigit() and len(text) <= 2 and int(text) < n_choices:
            return letters[int(text)]
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise DatasetError(f"field 'answer' must be {allowed}, got {shown}", path=path, line=line)


def _make_sample(
    *,
    sample_id: str,
    question: str,
    choices: list[str],
    answer: str,
    subject: str,
) -> Sample:
    return Sample(
        id=sample_id,
        input=format_prompt(question, choices, subject),
        label=answer,
        slices={"subject": subject},
        extra={"choices": choices, "subject": subject, "question": question},
    )


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cells); quoted cells may span lines, as MMLU's do."""
    allow_long_csv_cells()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DatasetError(csv_problem(exc), path=path, line=start) from None
            if not row or all(not cell.strip() for cell in row):
                continue
            yield start, row


def _is_header(row: list[str]) -> bool:
    """A header row that exports add ("question,A,B,C,D,answer"); MMLU's own files have none."""
    return row[0].strip().lower() == "question" and row[-1].strip().lower() == "answer"


def _load_csv(path: Path, counters: dict[str, int]) -> Iterator[tuple[int, Sample]]:
    subject = subject_from_filename(path)
    width: int | None = None
    for line, row in _csv_rows(path):
        if width is None and _is_header(row):
            continue
        columns = len(row)
        n_choices = columns - 2
        if not MIN_CHOICES <= n_choices <= MAX_CHOICES:
            raise DatasetError(
                f"expected the columns question, A, B, C, D, answer (6 for four choices; "
                f"{MIN_CHOICES + 2} to {MAX_CHOICES + 2} allowed), got {columns}; "
                "a comma inside a field must be quoted",
                path=path,
                line=line,
            )
        if width is None:
            width = columns
        elif columns != width:
            raise DatasetError(
                f"this row has {columns} columns but the first row has {width}; "
                "every row of a file must have the same choices count "
                "(a comma inside a field must be quoted)",
                path=path,
                line=line,
            )
        question = row[0].strip()
        if not question:
            raise DatasetError("column 1 (question) is empty", path=path, line=line)
        choices = [cell.strip() for cell in row[1:-1]]
        answer = _answer_letter(row[-1], n_choices, path, line)
        index = counters.get(subject, 0)
        counters[subject] = index + 1
        sample = _make_sample(
            sample_id=f"{subject}/{index}",
            question=question,
            choices=choices,
            answer=answer,
            subject=subject,
        )
        yield line, sample


def _text_field(row: dict[str, Any], name: str, path: Path, line: int) -> str:
    value = row[name]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DatasetError(
            f"field '{name}' must be text, got {type(value).__name__}", path=path, line=line
        )
    return str(value).strip()


def _load_jsonl(path: Path, counters: dict[str, int]) -> Iterator[tuple[int, Sample]]:
    for line, row in read_jsonl(path):
        for name in ("question", "choices", "answer"):
            if row.get(name) is None:
                known = ", ".join(sorted(row)) or "none"
                raise DatasetError(
                    f"missing field '{name}' (the Hugging Face MMLU layout has question, "
                    f"subject, choices, answer; fields here: {known})",
                    path=path,
                    line=line,
                )
        question = _text_field(row, "question", path, line)
        if not question:
            raise DatasetError("field 'question' is empty", path=path, line=line)
        choices_value = row["choices"]
        if not isinstance(choices_value, list) or not (
            MIN_CHOICES <= len(choices_value) <= MAX_CHOICES
        ):
            got = (
                f"{len(choices_value)} items"
                if isinstance(choices_value, list)
                else type(choices_value).__name__
            )
            raise DatasetError(
                f"field 'choices' must be a list of {MIN_CHOICES} to {MAX_CHOICES} texts, "
                f"got {got}",
                path=path,
                line=line,
            )
        choices: list[str] = []
        for position, choice in enumerate(choices_value):
            if isinstance(choice, bool) or not isinstance(choice, str | int | float):
                raise DatasetError(
                    f"field 'choices' item {position} must be text, got {type(choice).__name__}",
                    path=path,
                    line=line,
                )
            choices.append(str(choice).strip())
        answer = _answer_letter(row["answer"], len(choices), path, line)
        subject = (
            _text_field(row, "subject", path, line)
            if row.get("subject") not in (None, "")
            else subject_from_filename(path)
        )
        index = counters.get(subject, 0)
        counters[subject] = index + 1
        sample_id = (
            _text_field(row, "id", path, line)
            if row.get("id") not in (None, "")
            else f"{subject}/{index}"
        )
        yield (
            line,
            _make_sample(
                sample_id=sample_id,
                question=question,
                choices=choices,
                answer=answer,
                subject=subject,
            ),
        )


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in (".csv", *_JSONL_SUFFIXES)
        )
        if not files:
            raise DatasetError(
                "the folder holds no MMLU files (<subject>_test.csv, or .jsonl)", path=path
            )
        return files
    raise DatasetError("MMLU file or folder not found", path=path)


def load_mmlu(path: Path | str) -> list[Sample]:
    """Read MMLU questions from a CSV file, a JSONL file, or a folder of them (see module doc).

    ``Sample.label`` is the answer letter, ``slices`` is ``{"subject": ...}`` and ``extra``
    holds ``choices``, ``subject`` and the bare ``question``; ``input`` is :func:`format_prompt`.
    Errors name the file and line. Ids must be unique across the files read: a folder holding
    both the dev and the test file of a subject is refused, since mixing splits is a mistake.
    """
    root = Path(path)
    samples: list[Sample] = []
    seen: dict[str, tuple[Path, int]] = {}
    for file in _files(root):
        loader = _load_jsonl if file.suffix.lower() in _JSONL_SUFFIXES else _load_csv
        try:
            # Counted per file: the same subject in two files (dev and test) gives repeated ids.
            for line, sample in loader(file, {}):
                if sample.id in seen:
                    first_path, first_line = seen[sample.id]
                    raise DatasetError(
                        f"id '{sample.id}' already used at {first_path}:{first_line}; "
                        "ids must be unique (do not mix the dev and test files of a subject)",
                        path=file,
                        line=line,
                    )
                seen[sample.id] = (file, line)
                samples.append(sample)
        except UnicodeDecodeError as exc:
            raise not_utf8(file, exc) from None
    if not samples:
        raise DatasetError("no questions found", path=root)
    return samples


# ---------------------------------------------------------------------------------------------
# Reading the answer


_MARKUP = re.compile(r"[*_`#]+")
# "A good", "I think": the article and the pronoun, not choices ("A and B", "A or C" are).
_WORD_AFTER = re.compile(r"\s+(?!(?:and|or|nor)\b)[A-Za-z]")
# "not A", "isn't B": a letter ruled out, not chosen.
_NEGATED = re.compile(r"(?:\bnot|n't)\s*\(?$", re.IGNORECASE)


@lru_cache(maxsize=MAX_CHOICES)
def _statement_patterns(letters: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(answer statements, "X is correct" statements, option/choice mentions) for ``letters``."""
    upper = f"[{letters}]"
    lower = f"[{letters.lower()}]"
    # A capital letter that is a token of its own, or a small one that is plainly a label (in
    # brackets, or followed by punctuation or the end of the line) so that "the answer is a
    # bit..." is not read as A. Keywords are case-insensitive, letters are not.
    letter = (
        rf"(?:\(\s*(?P<b>{upper}|{lower})\s*\)|\[\s*(?P<s>{upper}|{lower})\s*\]"
        rf"|(?P<u>{upper})(?![A-Za-z0-9'])|(?P<l>{lower})(?=[ \t]*(?:\n|$|[.,;:!?)])))"
    )
    link = r"(?:\s*(?:(?i:is|was|would\s+be|should\s+be|will\s+be|must\s+be)\b|[:=\-]))*"
    kind = r"(?:\s*(?i:option|choice|letter)\b)?"
    answer = re.compile(r"\b(?i:answer)s?\b" + link + kind + r"\s*" + letter)
    verdict = re.compile(
        rf"(?<![A-Za-z0-9])\(?(?P<u>{upper})\)?\s+(?i:is)\s+(?i:the\s+)?"
        r"(?i:correct|right|best|answer)\b"
    )
    mention = re.compile(r"\b(?i:option|choice|letter)s?\b" + link + r"\s*" + letter)
    return answer, verdict, mention


def _group_letter(match: re.Match[str]) -> str:
    for name in ("b", "s", "u", "l"):
        value = match.groupdict().get(name)
        if value:
            return value.upper()
    raise AssertionError("a letter pattern matched without a letter")  # pragma: no cover


def extract_choice(answer: str, n_choices: int) -> str | None:
    """The letter a free-text answer chooses among ``n_choices``, or None if it names none.

    Markdown emphasis (``*``, ``_``, backticks, ``#``) is ignored. The first rule that applies
    decides:

    1. **Bare letter** - the whole answer is one letter, maybe in brackets or followed by
       ``.``, ``)`` or ``:`` ("B", "b.", "(B)", "**B**").
    2. **Statement** - the *last* statement of the answer: "answer" followed, through "is", "was",
       "would be", ":", "=" and the like, by a letter ("Answer: B", "The correct answer is
       (C)", "the answer is option D"), or a letter followed by "is correct", "is right", "is
       the answer" ("B is correct"). Only when there is none, the last mention of "option",
       "choice" or "letter" followed by a letter ("I pick option D"), so that "Answer: B.
       Option A is wrong because..." reads as B. The letter must be a capital standing alone
       or a small letter in brackets or before punctuation, so "the answer is a classic" does
       not read as A. The last statement wins because models often reason aloud first.
    3. **Leading label** - the answer starts with a letter followed by ``.``, ``)``, ``:`` or
       a dash ("C. Paris", "(C) Paris").
    4. **Lone letter** - exactly one distinct capital choice letter appears as a word of its
       own, not counting "A" and "I" followed by a word other than "and", "or", "nor" (the
       article and the pronoun: "A good question", "I think") nor a letter after "not" ("not
       A, I think C" reads as C; "A or C" names two, so it is no answer).

    Letters beyond the question's choices are never read (with four choices "E" is no answer).
    """
    _check_n_choices(n_choices)
    letters = _letters(n_choices)
    text = _MARKUP.sub("", answer).strip()
    if not text:
        return None

    bare = re.fullmatch(rf"[(\[]?\s*([{letters}])\s*[)\].:]?", text, re.IGNORECASE)
    if bare:
        return bare.group(1).upper()

    answer_said, verdict, mention = _statement_patterns(letters)
    stated = [(m.start(), _group_letter(m)) for m in answer_said.finditer(text)]
    stated += [(m.start(), _group_letter(m)) for m in verdict.finditer(text)]
    if not stated:
        stated = [(m.start(), _group_letter(m)) for m in mention.finditer(text)]
    if stated:
        return max(stated)[1]

    leading = re.match(rf"[(\[]?([{letters}])(?:[).:\]]|\s+[-–—]\s)", text)
    if leading:
        return leading.group(1)

    lone = {
        m.group(1)
        for m in re.finditer(rf"(?<![A-Za-z0-9'])([{letters}])(?![A-Za-z0-9'])", text)
        if not (m.group(1) in "AI" and _WORD_AFTER.match(text, m.end()))
        and not _NEGATED.search(text, 0, m.start())
    }
    if len(lone) == 1:
        return lone.pop()
    return None


def score_multiple_choice(sample: Sample, answer: str | None) -> ItemScore:
    """Right if the letter read from ``answer`` is the sample's label; ``answer=None`` = failed.

    The sample must carry its ``choices`` in ``extra`` (as :func:`load_mmlu` gives it) and an
    answer letter as ``label``.
    """
    choices = sample.extra.get("choices")
    if not isinstance(choices, list) or not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise DatasetError(
            f"sample '{sample.id}': multiple-choice scoring needs extra['choices'], a list of "
            f"{MIN_CHOICES} to {MAX_CHOICES} choices (load the data with load_mmlu)"
        )
    letters = _letters(len(choices))
    label = (sample.label or "").strip().upper()
    if len(label) != 1 or label not in letters:
        raise DatasetError(
            f"sample '{sample.id}': the expected answer must be one of "
            f"{_letter_list(len(choices))}, got {sample.label!r}"
        )
    if answer is None:
        return ItemScore(sample_id=sample.id, correct=False, score=0.0, detail="request failed")
    chosen = extract_choice(answer, len(choices))
    if chosen is None:
        return ItemScore(
            sample_id=sample.id,
            correct=False,
            score=0.0,
            detail=f"no answer letter ({_letter_list(len(choices))}) found",
        )
    correct = chosen == label
    return ItemScore(
        sample_id=sample.id,
        correct=correct,
        score=1.0 if correct else 0.0,
        extracted=chosen,
        detail="" if correct else f"chose {chosen}, expected {label}",
    )
