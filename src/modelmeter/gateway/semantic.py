"""The semantic cache: a request that means the same as a cached one gets its answer.

Only the **last user text** is compared by meaning. Everything else in the request (route, path,
system prompt, earlier turns, sampling parameters and, unless the cache shares across keys, the
client's ``authorization``) must be identical: it is hashed into a *scope*, and a request is
compared only with cached requests of its own scope. So "and in French?" after two different
conversations never matches, and one key never gets another's answer. The numbers written in
the text are part of the scope too: embeddings place "5 km in miles" and "10 km in miles" side
by side (cosine 0.97 with all-MiniLM-L6-v2), but no answer serves both.

A text is embedded by the user's OpenAI-compatible endpoint (``cache.semantic.url``) and
compared by cosine similarity with the texts of its scope whose answers are cached; the best one
at or above ``threshold`` is a hit, and its answer is replayed from the response cache (the
semantic index holds vectors and exact-cache keys only, so the answers themselves live once, in
memory or Redis). The index is per gateway process; with Redis the answers are shared, their
vectors are not.

What a threshold costs in wrong answers is measured, not assumed: ``benchmarks/semantic_cache.py``
runs a labelled set of paraphrases and near-misses ("5 km in miles" / "5 miles in km") through a
gateway and counts the answers served for a request that meant something else.

The embeddings endpoint failing or answering slower than ``timeout_s`` makes the request a miss,
never an error: the cache only ever saves work.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from modelmeter._exceptions import (
    ConnectFailed,
    ConnectionReset,
    ProtocolFailure,
    RequestTimeout,
)
from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.gateway.balance import bearer_from_env
from modelmeter.gateway.cache import cache_key
from modelmeter.gateway.config import SemanticCacheConfig

__all__ = ["Probe", "SemanticCache", "numbers_in", "split_last_text"]

logger = logging.getLogger("modelmeter.gateway")

_COMPARED_PATHS = ("/v1/chat/completions", "/v1/completions")
_QUIET_S = 5.0  # after a failed embedding, the next failure within this is not logged
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers_in(text: str) -> list[str]:
    """The numbers written in ``text``, in order ("1,000" and "1000" differ: rare, and a miss
    is cheap where a wrong answer is not)."""
    return _NUMBER.findall(text)


def split_last_text(path: str, body: Any, max_chars: int) -> tuple[Any, str] | None:
    """The request with its last user text blanked, and that text; None when the request has
    none to compare (not a completion, a last message that is not the user's, images, a text
    longer than ``max_chars``)."""
    if path not in _COMPARED_PATHS or not isinstance(body, dict):
        return None
    if path == "/v1/completions":
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > max_chars:
            return None
        return {**body, "prompt": ""}, prompt
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    content = last.get("content")
    if isinstance(content, list):  # parts: text parts only, else the request is not compared
        if not all(isinstance(p, dict) and p.get("type") == "text" for p in content):
            return None
        content = "\n".join(str(p.get("text", "")) for p in content)
    if not isinstance(content, str) or not content.strip() or len(content) > max_chars:
        return None
    return {**body, "messages": [*messages[:-1], {**last, "content": ""}]}, content


@dataclass(slots=True)
class Probe:
    """One request's place in the index: its scope, its vector, and the best cached match."""

    scope: bytes
    vector: np.ndarray
    match: bytes | None = None  # the exact-cache key of the cached answer that matched
    similarity: float = 0.0


class _Scope:
    """The vectors of one scope in one growing matrix; a removed row is filled by the last."""

    __slots__ = ("keys", "rows", "vectors")

    def __init__(self, dimensions: int) -> None:
        self.vectors = np.empty((4, dimensions), dtype=np.float32)
        self.keys: list[bytes] = []
        self.rows: dict[bytes, int] = {}

    def add(self, key: bytes, vector: np.ndarray) -> bool:
        """True when ``key`` is new here."""
        row = self.rows.get(key)
        if row is not None:
            self.vectors[row] = vector
            return False
        if len(self.keys) == len(self.vectors):
            grown = np.empty((2 * len(self.vectors), self.vectors.shape[1]), dtype=np.float32)
            grown[: len(self.keys)] = self.vectors
            self.vectors = grown
        self.rows[key] = len(self.keys)
        self.vectors[len(self.keys)] = vector
        self.keys.append(key)
        return True

    def remove(self, key: bytes) -> bool:
        row = self.rows.pop(key, None)
        if row is None:
            return False
        last = len(self.keys) - 1
        if row != last:
            moved = self.keys[last]
            self.vectors[row] = self.vectors[last]
            self.keys[row] = moved
            self.rows[moved] = row
        self.keys.pop()
        return True

    def best(self, vector: np.ndarray) -> tuple[bytes, float] | None:
        if not self.keys:
            return None
        similarities = self.vectors[: len(self.keys)] @ vector
        row = int(similarities.argmax())
        return self.keys[row], float(similarities[row])


class SemanticCache:
    """The index and the embeddings endpoint's client, on the gateway's event loop."""

    def __init__(self, settings: SemanticCacheConfig, count: Callable[[str], None]) -> None:
        self.settings = settings
        self._count_result = count  # miss or unavailable (a hit is counted once replayed)
        headers = {"content-type": "application/json"}
        if settings.api_key_env is not None:
            headers["authorization"] = bearer_from_env(settings.api_key_env, "cache.semantic")
        endpoint = Endpoint.from_url(settings.url)
        self._client = HttpClient(endpoint, timeout_s=settings.timeout_s)
        self._template = PreparedRequest.template(
            "POST", endpoint, urlsplit(settings.url).path or "/v1/embeddings", headers=headers
        )
        self._scopes: dict[bytes, _Scope] = {}
        self._order: deque[tuple[bytes, bytes]] = deque()  # (scope, key), oldest first
        self._count = 0
        self._quiet_until = 0.0

    @property
    def entries(self) -> int:
        return self._count

    async def probe(
        self, route: str, path: str, body: Any, authorization: str | None
    ) -> Probe | None:
        """Embed the request's last text and find its best match; None when the request is not
        compared, or its embedding could not be had (it is then simply not cached by meaning)."""
        split = split_last_text(path, body, self.settings.max_chars)
        if split is None:
            return None
        rest, text = split
        vector = await self._embed(text)
        if vector is None:
            self._count_result("unavailable")
            return None
        compared_within = [rest, numbers_in(text)]
        probe = Probe(cache_key(route, path, compared_within, authorization), vector)
        scope = self._scopes.get(probe.scope)
        found = scope.best(vector) if scope is not None else None
        if found is not None and found[1] >= self.settings.threshold:
            probe.match, probe.similarity = found
        else:
            self._count_result("miss")
        return probe

    def add(self, probe: Probe, key: bytes) -> None:
        """Remember that the answer cached under ``key`` answers ``probe``'s text."""
        scope = self._scopes.get(probe.scope)
        if scope is None:
            scope = self._scopes[probe.scope] = _Scope(len(probe.vector))
        if scope.add(key, probe.vector):
            self._count += 1
            self._order.append((probe.scope, key))
        while self._count > self.settings.max_entries:
            self.forget(*self._order.popleft())

    def forget(self, scope_key: bytes, key: bytes) -> None:
        """Drop an entry (its answer left the response cache, or it is the oldest)."""
        scope = self._scopes.get(scope_key)
        if scope is not None and scope.remove(key):
            self._count -= 1
            if not scope.keys:
                del self._scopes[scope_key]

    async def close(self) -> None:
        await self._client.close()

    async def _embed(self, text: str) -> np.ndarray | None:
        body = {"model": self.settings.model, "input": text, "encoding_format": "float"}
        request = self._template.with_body(json.dumps(body).encode())
        try:
            answer = await self._client.request(request)
            if answer.status != 200:
                raise ValueError(f"answered HTTP {answer.status}: {answer.body[:200]!r}")
            data = json.loads(answer.body)["data"][0]["embedding"]
            vector = np.asarray(data, dtype=np.float32)
            norm = float(np.linalg.norm(vector))
            if vector.ndim != 1 or not norm > 0 or not np.isfinite(norm):
                raise ValueError("the embedding is not a non-zero vector of numbers")
        except (ConnectFailed, ConnectionReset, RequestTimeout, ProtocolFailure) as exc:
            self._failed(f"did not answer: {exc}")
            return None
        except RuntimeError:
            return None  # closed by a reload while this request was under way: a miss
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            self._failed(f"answered something that is not an embedding: {exc}")
            return None
        return vector / norm

    def _failed(self, problem: str) -> None:
        now = time.monotonic()
        if now >= self._quiet_until:
            logger.warning(
                "semantic cache: the embeddings endpoint %s %s; requests are misses meanwhile",
                self.settings.url,
                problem,
            )
        self._quiet_until = now + _QUIET_S
