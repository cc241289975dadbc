"""What every LLM task produces per item: a score that the aggregation turns into quality.

A task module reads its dataset layout into ``Sample`` objects (``input`` is the prompt sent as
the user message, ``extra`` what scoring needs), and scores one answer text into an
``ItemScore``. Failed requests are scored with ``answer=None`` and count as wrong, as in
classification, so an unreliable model cannot look better by failing on hard items.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ItemScore"]


@dataclass(frozen=True, slots=True)
class ItemScore:
    """The grade of one answer.

    ``correct`` counts towards accuracy (or pass rate); ``score`` is in [0, 1]: equal to
    ``float(correct)`` for right/wrong tasks, graded for token F1 or a judge's rubric.
    ``extracted`` is what was read from the answer (a letter, the code that was run), ``detail``
    why it was wrong ("no answer letter", "AssertionError", "timeout after 10 s").
    """

    sample_id: str
    correct: bool
    score: float
    extracted: str | None = None
    detail: str = ""
