"""The sandbox's one error; it lives in the package's exception tree."""

from __future__ import annotations

from modelmeter._exceptions import SandboxUnavailableError

__all__ = ["SandboxUnavailableError"]
