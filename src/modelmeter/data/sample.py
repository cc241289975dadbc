"""The one record shape every dataset loader produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Sample:
    """One evaluation item.

    ``input`` is what is sent to the target (a text for classification), ``label`` the expected
    answer (None when unlabelled), ``slices`` the attributes results are broken down by, such as
    ``{"language": "fr"}``. ``extra`` carries what an LLM task needs beyond a text and a label:
    the choices of a multiple-choice question, the unit tests and entry point of a coding
    problem, a reference answer's pattern.
    """

    id: str
    input: str
    label: str | None = None
    slices: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
