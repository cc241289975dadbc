"""The one record shape every dataset loader produces."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Sample:
    """One evaluation item.

    ``input`` is what is sent to the target (a text for classification), ``label`` the expected
    answer (None when unlabelled), ``slices`` the attributes results are broken down by, such as
    ``{"language": "fr"}``.
    """

    id: str
    input: str
    label: str | None = None
    slices: dict[str, str] = field(default_factory=dict)
