"""The gateway's semantic cache with a real embeddings endpoint (`modelmeter serve` running
all-MiniLM-L6-v2) in front of a `simulate` backend: a paraphrase gets the cached answer, with
its similarity; another question, another key, another conversation or other numbers do not;
a stream is replayed as a stream; an endpoint that is down makes misses, never errors."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelmeter.client import Endpoint, HttpClient, PreparedRequest, Response
from modelmeter.serve import ServerProcess, start_server_process
from tests._embeddings import minilm_folder
from tests._gateway import call, gateway, gateway_process, simulator
from tests._lines import wait_for_line


@pytest.fixture(scope="module")
def embeddings() -> Iterator[ServerProcess]:
    with start_server_process({"minilm": minilm_folder()}) as running:
        yield running


def _ask(
    url: str, text: str, *, key: str = "key-a", system: str | None = None, stream: bool = False
) -> Response:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    body = json.dumps({"model": "chat", "stream": stream, "messages": messages}).encode()

    async def go() -> Response:
        endpoint = Endpoint.from_url(url)
        headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
        request = PreparedRequest.build(
            "POST", endpoint, "/v1/chat/completions", headers=headers, body=body
        )
        async with HttpClient(endpoint, timeout_s=30) as client:
            return await client.request(request)

    return asyncio.run(go())


def _config(backend: str, embeddings_url: str) -> dict[str, Any]:
    return {
        "backends": [{"name": "sim", "url": backend}],
        "routes": [{"model": "chat", "backends": ["sim"]}],
        "cache": {
            "ttl_s": 600,
            "semantic": {"url": embeddings_url, "model": "minilm", "threshold": 0.9},
        },
    }


def _counted(metrics: bytes, result: str) -> float:
    found = re.search(
        rb'modelmeter_gateway_semantic_cache_total\{result="%s"\} (\S+)' % result.encode(), metrics
    )
    return float(found.group(1)) if found else 0.0


def test_a_paraphrase_gets_the_cached_answer_and_nothing_else_does(
    tmp_path: Path, embeddings: ServerProcess
) -> None:
    backend = simulator("chat", tokens=6)
    try:
        with gateway(tmp_path, _config(backend.url, embeddings.url + "/v1/embeddings")) as url:
            first = _ask(url, "What is the capital of France?")
            paraphrase = _ask(url, "Which city is the capital of France?")  # cosine 0.94
            other_city = _ask(url, "What is the capital of Australia?")  # 0.66
            other_key = _ask(url, "Which city is the capital of France?", key="key-b")
            other_system = _ask(url, "Which city is the capital of France?", system="In French.")
            five = _ask(url, "How many miles is 5 km?")
            ten = _ask(url, "How many miles is 10 km?")  # 0.97, but not the same numbers
            streamed = _ask(url, "Write a python function to reverse a string", stream=True)
            restreamed = _ask(url, "Write a Python function that reverses a string.", stream=True)
            metrics = call(url, "GET", "/metrics").body
        seen = len(backend.timings())
    finally:
        backend.stop()
    cache = [
        r.header("x-modelmeter-cache")
        for r in (first, paraphrase, other_city, other_key, other_system, five, ten)
    ]
    assert cache == [b"miss", b"semantic", b"miss", b"miss", b"miss", b"miss", b"miss"]
    assert paraphrase.body == first.body
    similarity = float(paraphrase.header("x-modelmeter-cache-similarity") or 0)
    assert 0.9 <= similarity < 1.0
    assert [streamed.header("x-modelmeter-cache"), restreamed.header("x-modelmeter-cache")] == [
        b"miss",
        b"semantic",
    ]
    assert restreamed.header("transfer-encoding") == b"chunked"  # replayed as a stream
    assert restreamed.body == streamed.body and restreamed.body.rstrip().endswith(b"[DONE]")
    assert seen == 7  # every miss, and only the misses, reached the backend
    assert (_counted(metrics, "hit"), _counted(metrics, "miss")) == (2.0, 7.0)


def test_an_endpoint_that_is_down_makes_misses_not_errors(tmp_path: Path) -> None:
    backend = simulator("chat")
    try:
        config = _config(backend.url, "http://127.0.0.1:9/v1/embeddings")  # nothing listens
        with gateway_process(tmp_path, config) as (url, process):
            answers = [_ask(url, "What is the capital of France?") for _ in range(3)]
            metrics = call(url, "GET", "/metrics").body
            assert process.stderr is not None
            warned = wait_for_line(process.stderr, r"semantic cache: the embeddings endpoint")
    finally:
        backend.stop()
    assert [a.status for a in answers] == [200] * 3
    # the exact cache still works: the second and third are exact hits, never embedded
    assert [a.header("x-modelmeter-cache") for a in answers] == [b"miss", b"hit", b"hit"]
    assert _counted(metrics, "unavailable") == 1.0
    assert "did not answer" in warned.string
