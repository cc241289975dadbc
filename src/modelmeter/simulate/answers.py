"""The answer book: fixed answers for known prompts, so that an evaluation can run offline.

An LLM evaluation needs a model whose answers are known in advance to be tested at all: whether
it extracts the right letter, scores a truncated answer as wrong, counts usage. The simulator
answers a prompt that an answer book line matches with exactly that line's text, streamed in
word-ish tokens on the configured schedule; every other prompt gets its pseudo-word filler (or
the configured default answer). Nothing is drawn at random: the same prompt always gets the same
answer, so the accuracy an evaluation reports is the one the book was written to give.

The file is JSON Lines, one rule per line (blank lines are skipped)::

    {"match": "capital of France", "answer": "Paris"}
    {"regex": "(?i)which letter", "answer": "B", "reasoning": "The options rule out A."}

``match`` is a substring and ``regex`` a Python regular expression searched (``re.search``) in
the text of the last user message of a chat request, or in the prompt of a text completion.
The first line that matches wins. Errors name the file and line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from modelmeter._exceptions import DatasetError
from modelmeter._text_files import json_problem, not_utf8

__all__ = ["AnswerBook", "AnswerRule", "load_answer_book", "split_tokens", "write_answer_book"]

# Word-ish tokens as BPE tokenizers cut English: a word or number with its leading space, runs of
# punctuation, whitespace. The alternatives cover every character, so the pieces always join back
# into the text (GPT-2's pre-tokenizer, with ``re``'s classes in place of \p{L} and \p{N}).
_TOKEN = re.compile(r"'(?:[sdmt]|ll|ve|re)\b| ?[^\W\d_]+| ?\d{1,3}| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+")
_LOOKUP_CACHE_SIZE = 4096
_LINE_SHAPE = '{"match": "<text in the prompt>", "answer": "<the answer>"}'


def split_tokens(text: str) -> list[str]:
    """``text`` cut into word-ish tokens that join back into exactly ``text``."""
    return _TOKEN.findall(text)


class AnswerRule(BaseModel):
    """One line of an answer book: which prompts it answers, and with what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str | None = Field(
        default=None,
        min_length=1,
        description="Answer prompts that contain this text (case-sensitive). Give this or regex.",
    )
    regex: str | None = Field(
        default=None,
        min_length=1,
        description="Answer prompts in which this Python regular expression is found "
        "(re.search; (?i) makes it ignore case). Give this or match.",
    )
    answer: str = Field(
        description="The exact answer text (content of a chat answer, text of a completion).",
    )
    reasoning: str | None = Field(
        default=None,
        description="Chat answers stream this as reasoning_content before the answer; text "
        "completions leave it out.",
    )

    _pattern: re.Pattern[str] | None = PrivateAttr(default=None)
    _answer_tokens: tuple[str, ...] = PrivateAttr(default=())
    _reasoning_tokens: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_way_to_match(self) -> AnswerRule:
        if (self.match is None) == (self.regex is None):
            raise ValueError("give either 'match' (a substring) or 'regex', not both or neither")
        if self.regex is not None:
            self._pattern = re.compile(self.regex)
        self._answer_tokens = tuple(split_tokens(self.answer))
        self._reasoning_tokens = tuple(split_tokens(self.reasoning or ""))
        return self

    def matches(self, text: str) -> bool:
        """Whether this rule answers a prompt whose matched text is ``text``."""
        if self._pattern is not None:
            return self._pattern.search(text) is not None
        assert self.match is not None
        return self.match in text

    @property
    def answer_tokens(self) -> tuple[str, ...]:
        """``answer`` as the tokens the simulator streams."""
        return self._answer_tokens

    @property
    def reasoning_tokens(self) -> tuple[str, ...]:
        """``reasoning`` as the tokens the simulator streams (none without reasoning)."""
        return self._reasoning_tokens


@dataclass(frozen=True)
class AnswerBook:
    """Rules tried in order: the first whose match or regex fits a prompt answers it.

    Lookup is linear in the number of rules (about 3 ms for 10,000 rules and a 2,000-character
    prompt); the answers of the last 4,096 distinct prompts are remembered.
    """

    rules: tuple[AnswerRule, ...]
    source: Path | None = None
    _cache: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.rules)

    def find(self, text: str) -> AnswerRule | None:
        """The first rule that matches ``text``, or None."""
        cache = self._cache
        if text in cache:
            index = cache[text]
        else:
            index = next((i for i, rule in enumerate(self.rules) if rule.matches(text)), None)
            if len(cache) >= _LOOKUP_CACHE_SIZE:
                del cache[next(iter(cache))]  # the oldest entry
            cache[text] = index
        return None if index is None else self.rules[index]


def load_answer_book(path: Path) -> AnswerBook:
    """Read an answer book (JSON Lines); `DatasetError` naming ``path:line`` if it is bad."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError("answer book not found", path=path) from None
    except OSError as exc:
        raise DatasetError(
            f"cannot read the answer book: {exc.strerror or exc}", path=path
        ) from None
    rules: list[AnswerRule] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise not_utf8(path, exc) from None
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise DatasetError(
                f"{json_problem(exc)}; each line is {_LINE_SHAPE}", path=path, line=number
            ) from None
        if not isinstance(row, dict):
            raise DatasetError(
                f"each line must be a JSON object such as {_LINE_SHAPE}, got {type(row).__name__}",
                path=path,
                line=number,
            )
        rules.append(_rule(row, path, number))
    if not rules:
        raise DatasetError(f"the answer book has no rules; each line is {_LINE_SHAPE}", path=path)
    return AnswerBook(tuple(rules), source=path)


def write_answer_book(path: Path, rules: Iterable[AnswerRule]) -> None:
    """Write ``rules`` as an answer book that `load_answer_book` reads back unchanged."""
    with path.open("w", encoding="utf-8") as handle:
        for rule in rules:
            handle.write(rule.model_dump_json(exclude_none=True) + "\n")


_ALLOWED = "match or regex, answer, reasoning"


def _rule(row: dict[str, Any], path: Path, line: int) -> AnswerRule:
    try:
        return AnswerRule.model_validate(row)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field (the fields are: {_ALLOWED})"
        elif error["type"] == "missing":
            message = "missing: every line needs an answer"
        raise DatasetError(
            f"field '{where}': {message}" if where else message, path=path, line=line
        ) from None
