"""Replace what the recognisers find: redact (``<EMAIL>``), mask (all but the last four
characters), or a keyed pseudonym (``<EMAIL_7f3a9c01>``): the same value gives the same
pseudonym in every record and every run that uses the same key, so joins and counts survive,
and without the key nobody can go from the pseudonym back to the value.

The key is the caller's (an environment variable in the CLI); it is never stored. What was
replaced is counted by kind, never kept.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from modelmeter.privacy.recognisers import find_all

__all__ = ["Anonymiser", "Operator"]

Operator = Literal["redact", "mask", "pseudonym"]
_KEEP = 4  # characters a mask leaves at the end


@dataclass
class Anonymiser:
    operator: Operator = "redact"
    key: bytes | None = None  # for pseudonyms
    counts: Counter[str] = field(default_factory=Counter)  # kind -> values replaced

    def __post_init__(self) -> None:
        if self.operator == "pseudonym" and not self.key:
            raise ValueError("pseudonyms need a key (at least 16 bytes)")
        if self.key is not None and len(self.key) < 16:
            raise ValueError("a pseudonym key needs at least 16 bytes")

    def _replacement(self, kind: str, value: str) -> str:
        if self.operator == "redact":
            return f"<{kind}>"
        if self.operator == "mask":
            shown = value[-_KEEP:] if len(value) > 2 * _KEEP else ""
            return "*" * (len(value) - len(shown)) + shown
        assert self.key is not None
        digest = hmac.new(self.key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return f"<{kind}_{digest[:8]}>"

    def text(self, text: str) -> str:
        """``text`` with every recognised value replaced."""
        findings = find_all(text)
        if not findings:
            return text
        parts, last = [], 0
        for finding in findings:
            parts.append(text[last : finding.start])
            value = text[finding.start : finding.end]
            parts.append(self._replacement(finding.kind, value))
            self.counts[finding.kind] += 1
            last = finding.end
        parts.append(text[last:])
        return "".join(parts)

    def value(self, value: object) -> object:
        """Strings anonymised, lists and mappings walked, other values kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value
