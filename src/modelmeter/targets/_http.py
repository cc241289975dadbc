"""Shared plumbing for JSON targets: the load generator's HTTP client, answers decoded as JSON.

Requests are serialised once per sample and replayed; each answer keeps the client's wire
timestamps (sent, first byte, done), which the engine prefers to its own call boundary.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from modelmeter._exceptions import HTTPStatusFailure, ProtocolFailure
from modelmeter.client import (
    DEFAULT_MAX_BODY_BYTES,
    Endpoint,
    HttpClient,
    PreparedRequest,
    Response,
)
from modelmeter.targets._answers import decode_json


def path_of(url: str) -> str:
    """The origin-form request target of a URL: path plus query, '/' when empty."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


class JsonHttpClient:
    """POSTs (or GETs) JSON to one server and decodes the answers."""

    def __init__(
        self,
        url: str,
        timeout_s: float,
        headers: dict[str, str] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.endpoint = Endpoint.from_url(url)
        self._timeout_s = timeout_s
        self._max_body_bytes = max_body_bytes
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._client: HttpClient | None = None

    async def open(self) -> None:
        if self._client is None:
            self._client = HttpClient(
                self.endpoint, timeout_s=self._timeout_s, max_body_bytes=self._max_body_bytes
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def prepare(self, method: str, path: str, body: bytes | None = None) -> PreparedRequest:
        return PreparedRequest.build(
            method, self.endpoint, path, headers=self._headers if body else None, body=body
        )

    async def send(self, request: PreparedRequest) -> tuple[Response, Any]:
        """The raw response and its decoded JSON body; 4xx/5xx raise HTTPStatusFailure."""
        if self._client is None:
            await self.open()
        assert self._client is not None
        response = await self._client.request(request)
        if response.status >= 400:
            raise HTTPStatusFailure(response.status, response.body.decode("utf-8", "replace"))
        return response, decode_json(response.body, f"answer from {self.endpoint.authority}")


def dig(document: Any, dotted: str) -> Any:
    """Follow 'a.b.0.c' into nested dicts and lists; a missing step is a ProtocolFailure."""
    node = document
    for step in dotted.split("."):
        if isinstance(node, list):
            if not step.isdigit() or int(step) >= len(node):
                raise ProtocolFailure(f"response has no element '{step}' on path '{dotted}'")
            node = node[int(step)]
        elif isinstance(node, dict):
            if step not in node:
                raise ProtocolFailure(f"response has no field '{step}' on path '{dotted}'")
            node = node[step]
        else:
            raise ProtocolFailure(f"response path '{dotted}' stops at a {type(node).__name__}")
    return node
