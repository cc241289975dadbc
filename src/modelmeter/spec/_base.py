"""What every spec section shares: no unknown keys, and what an http(s) URL must be."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = [
    "HttpUrlText",
    "SpecModel",
]


class SpecModel(BaseModel):
    """A spec section: unknown keys are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


def _check_http_url(value: str) -> str:
    """Refuse, when the spec is read, a URL that would only fail at the first request (or,
    with a key in it, leak that key into the report): the messages never repeat the URL."""
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("must not contain spaces or control characters; encode them (%20)")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8000"
        )
    if "@" in parts.netloc:
        raise ValueError(
            "must not carry a user name or key before the host (user:key@host): put a key "
            "in headers as ${VAR} (http targets) or in api_key (openai targets), which are "
            "never stored or reported"
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        given = parts.netloc.rsplit(":", 1)[-1]
        raise ValueError(f"has port {given!r}; a port is a number from 1 to 65535")
    return value


HttpUrlText = Annotated[str, AfterValidator(_check_http_url)]
