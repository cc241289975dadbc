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
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8000"
        )
    return value


HttpUrlText = Annotated[str, AfterValidator(_check_http_url)]
