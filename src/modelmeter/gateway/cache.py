"""An exact-match response cache in the gateway's memory: LRU, bounded in entries and bytes,
each entry kept for ``ttl_s``.

The key is a SHA-256 over the route, the path and the request body in canonical form (JSON
with sorted keys and no spaces, so key order and whitespace do not make a miss), and, unless
``share_across_keys`` is set, the client's ``authorization`` header: one key's answers are never
served to another. Only complete 200 answers are kept, streamed ones as the pieces they came
in, and a hit is replayed the way it was first sent (a stream as a stream).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from modelmeter.httpserver import SERVER_HEADER, status_line

__all__ = ["CachedAnswer", "ResponseCache", "cache_key"]

_ENTRY_OVERHEAD = 200  # bytes counted per entry beyond its pieces (key, object, headers)


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    headers: bytes  # the upstream headers the gateway passes on, as sent
    pieces: tuple[bytes, ...]
    streamed: bool  # sent chunked (no content-length upstream)
    backend: str
    expires_at: float

    @property
    def size(self) -> int:
        return sum(len(piece) for piece in self.pieces) + len(self.headers) + _ENTRY_OVERHEAD

    def replay(self, *, keep_alive: bool, chunked: bool, request_id: str | None = None) -> bytes:
        """The whole response, as it was first sent: a stream as a chunked stream when the
        client speaks HTTP/1.1, else with its length. With ``request_id``, that is the answer's
        ``x-request-id`` (not the one of the request that filled the entry)."""
        headers = self.headers
        if request_id is not None:
            kept = [
                line + b"\r\n"
                for line in headers.split(b"\r\n")
                if line and not line.lower().startswith(b"x-request-id:")
            ]
            headers = b"".join(kept) + b"x-request-id: " + request_id.encode("latin-1") + b"\r\n"
        parts = [status_line(200), headers, SERVER_HEADER]
        parts.append(b"x-modelmeter-backend: " + self.backend.encode() + b"\r\n")
        parts.append(b"x-modelmeter-cache: hit\r\n")
        if not keep_alive:
            parts.append(b"connection: close\r\n")
        if self.streamed and chunked:
            parts.append(b"transfer-encoding: chunked\r\n\r\n")
            parts.extend(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in self.pieces if piece)
            parts.append(b"0\r\n\r\n")
        else:
            body = b"".join(self.pieces)
            parts.append(b"content-length: %d\r\n\r\n" % len(body))
            parts.append(body)
        return b"".join(parts)


def cache_key(route: str, path: str, body: Any, authorization: str | None) -> bytes:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256()
    for part in (route, path, canonical, authorization or ""):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.digest()


class ResponseCache:
    def __init__(self, *, ttl_s: float, max_entries: int, max_bytes: int) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, CachedAnswer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= time.monotonic():
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(
        self, key: bytes, headers: bytes, pieces: list[bytes], *, streamed: bool, backend: str
    ) -> None:
        entry = CachedAnswer(
            headers, tuple(pieces), streamed, backend, time.monotonic() + self.ttl_s
        )
        if entry.size > self.max_bytes:
            return  # larger than the whole cache: not kept
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self.bytes += entry.size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))  # the least recently used

    def _drop(self, key: bytes) -> None:
        self.bytes -= self._entries.pop(key).size
