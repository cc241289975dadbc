"""The semantic cache's parts that need no endpoint: which text is compared, the scope rules,
and the index (best match, forgetting, the bound on entries)."""

from __future__ import annotations

import numpy as np
import pytest

from modelmeter.gateway.config import SemanticCacheConfig
from modelmeter.gateway.semantic import Probe, SemanticCache, numbers_in, split_last_text

CHAT = "/v1/chat/completions"


def _chat(*messages: tuple[str, object], **extra: object) -> dict[str, object]:
    return {"model": "m", "messages": [{"role": r, "content": c} for r, c in messages], **extra}


def test_only_the_last_user_text_is_compared() -> None:
    body = _chat(("system", "be brief"), ("user", "hi"), ("assistant", "hello"), ("user", "why?"))
    rest, text = split_last_text(CHAT, body, 2000) or (None, None)
    assert text == "why?"
    assert rest["messages"][-1] == {"role": "user", "content": ""}
    assert rest["messages"][:3] == body["messages"][:3]  # type: ignore[index]
    parts = _chat(("user", [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]))
    assert split_last_text(CHAT, parts, 2000)[1] == "a\nb"  # type: ignore[index]
    prompt = {"model": "m", "prompt": "Say hi", "max_tokens": 5}
    assert split_last_text("/v1/completions", prompt, 2000) == ({**prompt, "prompt": ""}, "Say hi")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/embeddings", {"model": "m", "input": "x"}),
        (CHAT, _chat(("user", "hi"), ("assistant", "hello"))),  # last turn not the user's
        (CHAT, _chat(("user", [{"type": "image_url", "image_url": {"url": "x"}}]))),
        (CHAT, _chat(("user", "   "))),
        (CHAT, _chat(("user", "x" * 2001))),  # past max_chars: exact matches only
        (CHAT, {"model": "m", "messages": "not a list"}),
        (CHAT, ["not", "an", "object"]),
    ],
)
def test_requests_without_a_text_to_compare(path: str, body: object) -> None:
    assert split_last_text(path, body, 2000) is None


def test_numbers_are_read_in_order() -> None:
    assert numbers_in("How many miles is 5 km? And 10.5 km, or 1,000 km?") == ["5", "10.5", "1,000"]
    assert numbers_in("no digits here") == []


def _cache(max_entries: int = 3) -> tuple[SemanticCache, list[str]]:
    counted: list[str] = []
    settings = SemanticCacheConfig(
        url="http://127.0.0.1:9/v1/embeddings", model="e", threshold=0.9, max_entries=max_entries
    )
    return SemanticCache(settings, counted.append), counted


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_the_index_finds_forgets_and_keeps_at_most_max_entries() -> None:
    cache, _counted = _cache(max_entries=3)
    for n in range(5):  # more than the bound: the oldest go
        cache.add(Probe(b"scope", _unit(1.0, float(n))), f"key{n}".encode())
    assert cache.entries == 3
    scope = cache._scopes[b"scope"]
    assert sorted(scope.keys) == [b"key2", b"key3", b"key4"]
    assert scope.best(_unit(1.0, 4.0)) == (b"key4", pytest.approx(1.0))
    cache.forget(b"scope", b"key3")  # the last row moves into its place
    assert sorted(scope.keys) == [b"key2", b"key4"]
    assert scope.best(_unit(1.0, 4.0)) == (b"key4", pytest.approx(1.0))
    assert all(scope.rows[key] == row for row, key in enumerate(scope.keys))
    cache.add(Probe(b"scope", _unit(0.0, 1.0)), b"key4")  # the same key again: replaced
    assert cache.entries == 2
    cache.forget(b"scope", b"key2")
    cache.forget(b"scope", b"key4")
    assert cache.entries == 0 and b"scope" not in cache._scopes
    cache.forget(b"scope", b"key4")  # twice: nothing happens


def test_an_unset_key_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelmeter import SpecError

    monkeypatch.delenv("MM_TEST_EMBED_KEY", raising=False)
    settings = SemanticCacheConfig(
        url="http://127.0.0.1:9/v1/embeddings",
        model="e",
        threshold=0.9,
        api_key_env="MM_TEST_EMBED_KEY",
    )
    with pytest.raises(
        SpecError, match=r"cache\.semantic: the environment variable MM_TEST_EMBED_KEY"
    ):
        SemanticCache(settings, print)


def test_the_threshold_must_be_chosen() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="threshold"):
        SemanticCacheConfig(url="http://127.0.0.1:9/v1/embeddings", model="e")  # type: ignore[call-arg]


def test_a_gateway_without_a_semantic_cache_does_not_load_numpy() -> None:
    """NumPy costs the gateway 10 MiB of memory and 0.1 s of start (its goals: 60 MiB, 0.5 s);
    only a semantic cache needs it."""
    import subprocess
    import sys

    code = (
        "import sys, modelmeter.gateway.foreground, modelmeter.gateway.server, "
        "modelmeter.gateway.proxy; print('numpy' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "False"
