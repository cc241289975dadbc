"""The response cache in Redis, so that every gateway process and replica shares it.

Same keys and rules as the in-memory cache (`gateway.cache`): exact match on the canonical
request, the client's key part of it unless ``share_across_keys``, complete 200 answers only,
streamed ones kept as their pieces and replayed as a stream. Each entry is one Redis string
with its lifetime set by Redis (``PX``); how much Redis keeps in all is Redis's own setting
(``maxmemory`` with ``maxmemory-policy allkeys-lru`` evicts the least recently used).

A cache must never fail a request: when Redis does not answer within ``timeout_s`` (or refuses
the connection), the request goes to a backend as a miss, the error is logged once, and Redis
is left alone for a few seconds before it is tried again.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from typing import Any

from modelmeter._exceptions import SpecError
from modelmeter.gateway.cache import CachedAnswer, ResponseCache
from modelmeter.gateway.config import CacheConfig

__all__ = ["RedisCache", "decode_entry", "encode_entry", "open_cache"]

logger = logging.getLogger(__name__)
PREFIX = b"modelmeter:gateway:cache:"
_FORMAT = 1
_HEAD = struct.Struct("<BBHI I")  # format, streamed, backend length, headers length, pieces
_LENGTH = struct.Struct("<I")
_RESTING_S = 5.0  # after a Redis failure, how long requests skip the cache


def encode_entry(headers: bytes, pieces: list[bytes], *, streamed: bool, backend: str) -> bytes:
    name = backend.encode()
    parts = [_HEAD.pack(_FORMAT, int(streamed), len(name), len(headers), len(pieces)), name]
    parts.append(headers)
    for piece in pieces:
        parts.append(_LENGTH.pack(len(piece)))
        parts.append(piece)
    return b"".join(parts)


def decode_entry(data: bytes, expires_at: float) -> CachedAnswer | None:
    """The entry in ``data``; None for anything this version did not write."""
    try:
        version, streamed, name_length, headers_length, count = _HEAD.unpack_from(data)
        if version != _FORMAT:
            return None
        at = _HEAD.size
        backend = data[at : at + name_length].decode()
        at += name_length
        headers = data[at : at + headers_length]
        at += headers_length
        pieces = []
        for _ in range(count):
            (length,) = _LENGTH.unpack_from(data, at)
            at += 4
            pieces.append(data[at : at + length])
            at += length
        if at != len(data):
            return None
    except (struct.error, UnicodeDecodeError):
        return None
    return CachedAnswer(headers, tuple(pieces), bool(streamed), backend, expires_at)


class RedisCache:
    """``await get(key)`` and ``put(...)`` (which writes in the background)."""

    def __init__(self, url: str, *, ttl_s: float, timeout_s: float = 0.25) -> None:
        try:
            from redis.asyncio import Redis
        except ImportError:  # an optional extra
            raise SpecError(
                "cache.redis needs the redis client: pip install 'modelmeter[redis]'"
            ) from None
        self.url = url
        self.ttl_s = ttl_s
        self.hits = 0
        self.misses = 0
        self._client: Any = Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._resting_until = 0.0
        self._writes: set[asyncio.Task[None]] = set()

    async def get(self, key: bytes) -> CachedAnswer | None:
        if time.monotonic() < self._resting_until:
            self.misses += 1
            return None
        try:
            data = await self._client.get(PREFIX + key)
        except Exception as exc:  # redis-py's errors, OSError, timeouts: a miss
            self._failed(exc)
            self.misses += 1
            return None
        entry = decode_entry(data, 0.0) if data is not None else None
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(
        self, key: bytes, headers: bytes, pieces: list[bytes], *, streamed: bool, backend: str
    ) -> None:
        if time.monotonic() < self._resting_until:
            return
        data = encode_entry(headers, pieces, streamed=streamed, backend=backend)
        task = asyncio.get_running_loop().create_task(self._write(key, data))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, key: bytes, data: bytes) -> None:
        try:
            await self._client.set(PREFIX + key, data, px=max(1, int(self.ttl_s * 1000)))
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._resting_until:
            logger.error(
                "the Redis cache at %s failed (%s); requests skip it for %.0f s",
                _shown(self.url),
                exc or type(exc).__name__,
                _RESTING_S,
            )
        self._resting_until = time.monotonic() + _RESTING_S

    async def close(self) -> None:
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        await self._client.aclose()


def _shown(url: str) -> str:
    """The URL without a password."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def open_cache(settings: CacheConfig) -> ResponseCache | RedisCache:
    if settings.redis is not None:
        return RedisCache(settings.redis, ttl_s=settings.ttl_s)
    return ResponseCache(
        ttl_s=settings.ttl_s,
        max_entries=settings.max_entries,
        max_bytes=int(settings.max_mb * 1024 * 1024),
    )
