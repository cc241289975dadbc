"""How long work tells its caller how far it has got, without printing anything itself."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class ProgressListener(Protocol):
    """Receives progress; the CLI draws it with rich, library callers may ignore it."""

    def begin(self, description: str, total: int | None) -> None:
        """A step starts; ``total`` is the number of units, None when unknown."""

    def advance(self, amount: int = 1) -> None:
        """Units of the current step are done."""

    def end(self) -> None:
        """The current step is over."""

    def note(self, text: str) -> None:
        """A one-line message worth showing (e.g. a target that failed to start)."""


@runtime_checkable
class OutcomeListener(Protocol):
    """A listener that also wants each request's outcome as it completes (a live view, a
    metrics endpoint); the study calls it when the listener has this method."""

    def outcome(self, target: str, outcome: Any) -> None:
        """One request to ``target`` ended (answered or failed): a ``load.outcome.Outcome``,
        untyped here because this module sits below the load engine."""


class SilentProgress:
    def begin(self, description: str, total: int | None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def end(self) -> None:
        pass

    def note(self, text: str) -> None:
        pass
