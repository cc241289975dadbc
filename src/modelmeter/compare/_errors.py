"""The one error of the compare package: the two runs cannot be compared as asked.

It is a user's input that must change (a file that is not a report, a model name that is not in
the run, runs that share no items), so the CLI turns it into one line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

from modelmeter._exceptions import ModelmeterError

__all__ = ["CompareError"]


class CompareError(ModelmeterError):
    """BASELINE and NEW cannot be compared as asked. ``path`` is the report file, when one."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)
