"""Scoring free-text answers against reference answers: exact match, token F1, regex.

Exact match and token F1 follow the SQuAD evaluation script (v2.0), so figures compare with
published ones: both texts are normalised (lower-cased, ASCII punctuation removed, the articles
"a", "an", "the" removed, whitespace collapsed); exact match asks for equal normalised texts and
token F1 is the harmonic mean of precision and recall over the bag of normalised tokens. With
several acceptable answers the best one counts (the maximum over references), as in SQuAD.

The references of a sample are its ``label`` followed by ``extra["references"]`` (a list of
texts) when the dataset gives one. A regex check reads its pattern from ``extra["pattern"]``
when the item has one, else from the pattern the spec gives; the item's own pattern wins
because it is the more specific.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from modelmeter._exceptions import DatasetError, SpecError
from modelmeter.data.sample import Sample
from modelmeter.tasks.base import ItemScore

__all__ = [
    "DEFAULT_F1_THRESHOLD",
    "GenerationMethod",
    "compile_pattern",
    "exact_match",
    "normalize_answer",
    "references_of",
    "score_generation",
    "token_f1",
]

GenerationMethod = Literal["exact_match", "token_f1", "regex"]

# Half the tokens right on both sides: the usual line between a partly right answer and a wrong
# one when token F1 must also give a right/wrong count (accuracy with a Wilson interval).
DEFAULT_F1_THRESHOLD = 0.5

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SHOWN = 80  # characters of an answer or reference quoted in an ItemScore's detail


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    lowered = text.lower()
    no_punctuation = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    no_articles = _ARTICLES.sub(" ", no_punctuation)
    return " ".join(no_articles.split())


def _token_f1(prediction_tokens: list[str], reference_tokens: list[str]) -> float:
    if not prediction_tokens or not reference_tokens:
        # SQuAD v2.0: an empty answer is right only against an empty reference.
        return float(prediction_tokens == reference_tokens)
    common = Counter(prediction_tokens) & Counter(reference_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction_tokens)
    recall = same / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, references: Sequence[str]) -> bool:
    """True if the normalised prediction equals one normalised reference."""
    normalised = normalize_answer(prediction)
    return any(normalised == normalize_answer(reference) for reference in references)


def token_f1(prediction: str, references: Sequence[str]) -> float:
    """SQuAD token F1 of the prediction against its best reference (0 without references)."""
    tokens = normalize_answer(prediction).split()
    return max(
        (_token_f1(tokens, normalize_answer(reference).split()) for reference in references),
        default=0.0,
    )


def compile_pattern(pattern: str, *, field: str = "pattern") -> re.Pattern[str]:
    """Compile a regex from a spec, or raise :class:`SpecError` naming ``field`` and the fault.

    Call it when the spec is read, so that a bad pattern stops the run before any request.
    """
    try:
        return re.compile(pattern)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise SpecError(
            f"invalid regular expression {pattern!r}: {exc.msg}{where} "
            "(Python 're' syntax; it is searched for anywhere in the answer)",
            field=field,
        ) from None


def references_of(sample: Sample) -> list[str]:
    """The acceptable answers of a sample: its label, then ``extra["references"]``, no repeats."""
    found: list[str] = []
    if sample.label is not None:
        found.append(sample.label)
    extra = sample.extra.get("references")
    if extra is not None:
        if not isinstance(extra, list) or not all(isinstance(item, str) for item in extra):
            raise DatasetError(
                f"sample '{sample.id}': field 'references' must be a list of texts, "
                f"got {extra!r:.{_SHOWN}}"
            )
        found += [item for item in extra if item not in found]
    return found


def _item_pattern(sample: Sample, pattern: str | None) -> re.Pattern[str]:
    own = sample.extra.get("pattern")
    if own is not None:
        if not isinstance(own, str):
            raise DatasetError(
                f"sample '{sample.id}': field 'pattern' must be text, got {type(own).__name__}"
            )
        try:
            return re.compile(own)
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise DatasetError(
                f"sample '{sample.id}': field 'pattern': invalid regular expression "
                f"{own!r}: {exc.msg}{where}"
            ) from None
    if pattern is None:
        raise SpecError(
            f"sample '{sample.id}': regex scoring needs a pattern, in the spec or in the item's "
            "'pattern' field",
            field="pattern",
        )
    return compile_pattern(pattern)


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…"


def score_generation(
    sample: Sample,
    answer: str | None,
    *,
    method: GenerationMethod,
    pattern: str | None = None,
    threshold: float = DEFAULT_F1_THRESHOLD,
) -> ItemScore:
    """Grade one free-text answer; ``answer=None`` (a failed request) is wrong with score 0.

    * ``exact_match``: right if the normalised answer equals a normalised reference.
    * ``token_f1``: ``score`` is the best SQuAD token F1 over the references; right if it is at
      least ``threshold`` (default :data:`DEFAULT_F1_THRESHOLD`).
    * ``regex``: right if the pattern is *found* anywhere in the answer (``re.search``), so that
      "The answer is 42." passes ``\\b42\\b``; anchor it (``^...$``) for a whole-answer match,
      and add ``(?i)`` to ignore case. ``extracted`` is the matched text.

    ``extracted`` is the normalised answer for the first two methods.
    """
    if method not in ("exact_match", "token_f1", "regex"):
        raise SpecError(
            f"unknown generation scoring method {method!r}; use exact_match, token_f1 or regex",
            field="method",
        )
    if not 0.0 <= threshold <= 1.0:
        raise SpecError(f"must be between 0 and 1, got {threshold}", field="threshold")
    if method == "regex":
        compiled = _item_pattern(sample, pattern)
        if answer is None:
            return ItemScore(sample_id=sample.id, correct=False, score=0.0, detail="request failed")
        found = compiled.search(answer)
        if found is None:
            return ItemScore(
                sample_id=sample.id,
                correct=False,
                score=0.0,
                detail=f"pattern {compiled.pattern!r} not found in {_shown(answer)!r}",
            )
        return ItemScore(sample_id=sample.id, correct=True, score=1.0, extracted=found.group(0))

    references = references_of(sample)
    if not references:
        raise DatasetError(
            f"sample '{sample.id}': {method} scoring needs a reference answer "
            "(the label field, or a 'references' list)"
        )
    if answer is None:
        return ItemScore(sample_id=sample.id, correct=False, score=0.0, detail="request failed")
    normalised = normalize_answer(answer)
    if method == "exact_match":
        correct = exact_match(answer, references)
        detail = "" if correct else f"no reference matches; expected {_shown(references[0])!r}"
        return ItemScore(
            sample_id=sample.id,
            correct=correct,
            score=float(correct),
            extracted=normalised,
            detail=detail,
        )
    tokens = normalised.split()
    scored = [(_token_f1(tokens, normalize_answer(ref).split()), ref) for ref in references]
    best, closest = max(scored, key=lambda pair: pair[0])
    correct = best >= threshold
    detail = (
        ""
        if correct
        else f"token F1 {best:.2f} below {threshold:g}; closest reference {_shown(closest)!r}"
    )
    return ItemScore(
        sample_id=sample.id, correct=correct, score=best, extracted=normalised, detail=detail
    )
