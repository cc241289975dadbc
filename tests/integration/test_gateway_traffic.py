"""The traffic log: a sample of every request lands in the store (`gateway_log`) with its
route, key name, status, tokens and cache result; bodies only when asked for; at most
``max_rows`` kept; nothing of a user's text without ``bodies``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from modelmeter.client import Endpoint, HttpClient, PreparedRequest, Response
from modelmeter.store import RunStore
from tests._gateway import chat, gateway, simulator


def _send_all(url: str, bodies: list[bytes]) -> list[Response]:
    async def go() -> list[Response]:
        endpoint = Endpoint.from_url(url)
        async with HttpClient(endpoint, timeout_s=30) as client:
            answers = []
            for body in bodies:
                request = PreparedRequest.build(
                    "POST",
                    endpoint,
                    "/v1/chat/completions",
                    headers={"content-type": "application/json"},
                    body=body,
                )
                answers.append(await client.request(request))
            return answers

    return asyncio.run(go())


def _config(backend: str, **log: Any) -> dict[str, Any]:
    return {
        "backends": [{"name": "sim", "url": backend}],
        "routes": [{"model": "chat", "backends": ["sim"]}],
        "cache": {"ttl_s": 60},
        "log": log,
    }


def test_every_sampled_request_is_logged_with_its_outcome(tmp_path: Path) -> None:
    backend = simulator("chat", tokens=5)
    db = tmp_path / "store.db"
    try:
        config = _config(backend.url, sample=1.0, bodies=True, max_rows=100)
        bodies = [chat("chat", text=f"question {n}") for n in range(3)]
        bodies += [chat("chat", text="question 0"), chat("chat", text="s", stream=True)]
        with gateway(tmp_path, config, "--db", str(db)) as url:
            answers = _send_all(url, bodies)
        rows = RunStore(str(db)).gateway_log()  # written at stop at the latest
    finally:
        backend.stop()
    assert [a.status for a in answers] == [200] * 5
    assert len(rows) == 5
    assert [row["cache"] for row in rows] == ["miss", "miss", "miss", "hit", "miss"]
    assert all(row["route"] == "chat" and row["status"] == 200 for row in rows)
    # a hit used no tokens; a stream reports its usage only when asked (include_usage)
    assert [row["output_tokens"] for row in rows] == [5, 5, 5, None, None]
    assert json.loads(rows[0]["request_body"])["messages"][0]["content"] == "question 0"
    answer = json.loads(rows[0]["response_body"])
    assert answer["usage"]["completion_tokens"] == 5
    assert rows[4]["response_body"].rstrip().endswith("data: [DONE]")  # the stream as sent
    ids = [a.header("x-request-id") for a in answers]
    assert [row["request_id"].encode() for row in rows] == ids
    assert rows[0]["at_ns"] <= rows[-1]["at_ns"]


def test_without_bodies_no_text_is_kept_and_the_sample_and_bound_hold(tmp_path: Path) -> None:
    backend = simulator("chat", tokens=2)
    db = tmp_path / "store.db"
    try:
        config = _config(backend.url, sample=0.5, max_rows=100)
        with gateway(tmp_path, config, "--db", str(db)) as url:
            answers = _send_all(url, [chat("chat", text=f"secret {n}") for n in range(400)])
        rows = RunStore(str(db)).gateway_log()
    finally:
        backend.stop()
    assert all(a.status == 200 for a in answers)
    # 400 requests at 0.5: about 200 drawn (a binomial; 140..260 is over 8 standard
    # deviations wide), of which the store keeps the newest 100
    assert len(rows) == 100
    assert all(row["request_body"] is None and row["response_body"] is None for row in rows)
    with open(db, "rb") as stored:
        assert b"secret" not in stored.read()  # no user's text anywhere in the store


def test_logged_bodies_are_anonymised_by_the_same_engine(tmp_path: Path) -> None:
    """Bodies kept in the log have their personal data redacted (the default), with the same
    recognisers as `modelmeter anonymise`; the answer that echoes it too."""
    from modelmeter.privacy import Anonymiser

    backend = simulator("chat", tokens=3)
    db = tmp_path / "store.db"
    text = "my card is 4111 1111 1111 1111, mail jane@example.com"
    try:
        config = _config(backend.url, sample=1.0, bodies=True)
        with gateway(tmp_path, config, "--db", str(db)) as url:
            answers = _send_all(url, [chat("chat", text=text)])
        rows = RunStore(str(db)).gateway_log()
    finally:
        backend.stop()
    assert [a.status for a in answers] == [200]
    (row,) = rows
    content = json.loads(row["request_body"])["messages"][0]["content"]
    assert content == Anonymiser("redact").text(text)
    assert content == "my card is <CREDIT_CARD>, mail <EMAIL>"
    assert "4111" not in row["request_body"] and "jane@" not in row["request_body"]
