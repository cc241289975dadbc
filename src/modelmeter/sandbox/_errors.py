"""The sandbox's one error (kept here until the tree in ``_exceptions`` takes it in)."""

from __future__ import annotations

from modelmeter._exceptions import ModelmeterError

__all__ = ["SandboxUnavailableError"]


class SandboxUnavailableError(ModelmeterError):
    """Programs cannot be run isolated here, and the caller did not allow an unsafe run."""
