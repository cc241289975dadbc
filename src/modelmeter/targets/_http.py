"""Shared HTTP plumbing for JSON targets: one aiohttp session, failures mapped to typed errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from modelmeter._exceptions import (
    ConnectFailed,
    HTTPStatusFailure,
    ProtocolFailure,
    RequestTimeout,
)


class JsonHttpClient:
    """POSTs pre-serialised JSON bodies and returns the decoded JSON answer."""

    def __init__(self, timeout_s: float, headers: dict[str, str] | None = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            # limit=0: the load engine, not the pool, decides how many requests are in flight.
            connector = aiohttp.TCPConnector(limit=0, force_close=False)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers=self._headers
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request_json(self, method: str, url: str, body: bytes | None = None) -> Any:
        if self._session is None:
            await self.open()
        assert self._session is not None
        try:
            async with self._session.request(method, url, data=body) as response:
                payload = await response.read()
                if response.status >= 400:
                    raise HTTPStatusFailure(response.status, payload.decode("utf-8", "replace"))
        except TimeoutError:
            raise RequestTimeout(f"no answer within {self._timeout.total} s from {url}") from None
        except aiohttp.ClientConnectorError as exc:
            raise ConnectFailed(f"cannot connect to {url}: {exc.os_error}") from None
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            raise ProtocolFailure(f"{type(exc).__name__} from {url}: {exc}") from None
        try:
            return json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ProtocolFailure(f"answer from {url} is not JSON: {exc}") from None


def dig(document: Any, dotted: str) -> Any:
    """Follow 'a.b.0.c' into nested dicts and lists; KeyError/IndexError name the missing step."""
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
