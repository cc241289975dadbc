"""Reading what a server answered, defensively: anything malformed is a `ProtocolFailure`.

A load test meets servers that misbehave, and one bad answer must cost one counted error, never
the run. Python's JSON decoder raises more than ``JSONDecodeError`` on hostile input: an integer
of more than 4,300 digits is a ``ValueError`` and an array nested a hundred thousand deep a
``RecursionError``; both are turned into a protocol failure here. Token counts a server reports
are checked to be whole numbers in a plausible range before any bill is built on them.
"""

from __future__ import annotations

import json
from typing import Any

from modelmeter._exceptions import ProtocolFailure

# No answer carries a billion tokens; a larger (or negative) count is a broken server.
MAX_TOKEN_COUNT = 1_000_000_000
# How much of a bad value goes into an error message.
_SHOWN = 80


def decode_json(raw: bytes | str, what: str) -> Any:
    """``raw`` decoded as JSON; ``what`` names it in the error ("answer from host:port")."""
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise ProtocolFailure(f"{what} is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ProtocolFailure(f"{what} is not JSON: {exc}") from None
    except ValueError as exc:  # e.g. an integer beyond the 4,300-digit limit
        raise ProtocolFailure(f"{what} is not usable JSON: {str(exc)[:_SHOWN]}") from None
    except RecursionError:
        raise ProtocolFailure(f"{what} is JSON nested too deeply to read") from None


def shown(value: Any) -> str:
    """A short, printable rendering of a bad value for an error message."""
    try:
        text = repr(value)
    except ValueError:  # the repr of a huge int is refused, like its parsing
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def token_count(value: Any, where: str) -> int | None:
    """A token count the server reported at ``where``: None when absent, else a whole number in
    0..1e9 (a bool, a float, a string or anything out of range is a protocol failure)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolFailure(f"token count {where} is {shown(value)}, expected a whole number")
    if not 0 <= value <= MAX_TOKEN_COUNT:
        raise ProtocolFailure(
            f"token count {where} is {shown(value)}, expected 0 to {MAX_TOKEN_COUNT:,}"
        )
    return value


def text_of(content: Any, where: str) -> str:
    """The text of a message ``content``: a string, or a list of parts.

    Some providers send content as parts (``[{"type": "text", "text": "..."}]``); the text parts
    are joined and other parts (images, audio) are skipped. None is no text. Anything else (a
    number, an object) is a protocol failure.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
                elif text is not None:
                    raise ProtocolFailure(f"{where} has a part whose text is {shown(text)}")
            else:
                raise ProtocolFailure(f"{where} has a part that is {shown(part)}")
        return "".join(texts)
    raise ProtocolFailure(f"{where} is {shown(content)}, expected text or a list of parts")
