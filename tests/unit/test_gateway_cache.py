"""The gateway's response cache: bounds, expiry, LRU order and its key."""

from __future__ import annotations

import time

from modelmeter.gateway.cache import ResponseCache, cache_key


def test_entries_and_bytes_stay_within_their_bounds_least_recent_out_first() -> None:
    cache = ResponseCache(ttl_s=60, max_entries=3, max_bytes=10_000)
    for n in range(3):
        cache.put(bytes([n]), b"", [b"x" * 100], streamed=False, backend="b")
    assert cache.get(bytes([0])) is not None  # 0 is now the most recent
    cache.put(b"\x03", b"", [b"x" * 100], streamed=False, backend="b")
    assert len(cache) == 3
    assert cache.get(b"\x01") is None  # the least recently used went
    assert cache.get(b"\x00") is not None
    cache.put(b"big", b"", [b"y" * 4_000, b"y" * 4_000], streamed=True, backend="b")
    assert cache.bytes <= 10_000
    cache.put(b"huge", b"", [b"z" * 20_000], streamed=False, backend="b")
    assert cache.get(b"huge") is None  # larger than the whole cache: never kept


def test_an_entry_expires_after_its_lifetime() -> None:
    cache = ResponseCache(ttl_s=0.05, max_entries=10, max_bytes=10_000)
    cache.put(b"k", b"", [b"v"], streamed=False, backend="b")
    assert cache.get(b"k") is not None
    time.sleep(0.06)
    assert cache.get(b"k") is None
    assert cache.bytes == 0


def test_the_key_ignores_key_order_and_separates_routes_paths_and_clients() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    reordered = {"messages": [{"content": "hi", "role": "user"}], "model": "m"}
    key = cache_key("m", "/v1/chat/completions", body, "Bearer a")
    assert cache_key("m", "/v1/chat/completions", reordered, "Bearer a") == key
    assert cache_key("m", "/v1/chat/completions", body, "Bearer b") != key
    assert cache_key("m", "/v1/completions", body, "Bearer a") != key
    assert cache_key("n", "/v1/chat/completions", body, "Bearer a") != key
