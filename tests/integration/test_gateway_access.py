"""The gateway's keys, limits and budgets, as a user meets them: keys made with `modelmeter keys
create` into a real store, the gateway command in its own process, `simulate` backends and
requests over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelmeter.client import Endpoint, HttpClient, PreparedRequest, Response
from tests._gateway import chat, gateway, gateway_process, simulator
from tests._lines import wait_for_line

# Prices chosen so that one answer costs a few millionths: 10,000 requests overrun the budgets
# below many times over.
PRICING = {"kind": "api", "currency": "USD", "per_1m_input_tokens": 3, "per_1m_output_tokens": 7}


def make_key(db: Path, name: str, *options: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "modelmeter", "keys", "create", name, "--db", str(db), *options],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert secret.startswith("mm-") and len(secret) > 40
    return secret


def _config(url: str, **route: Any) -> dict[str, Any]:
    return {
        "keys": {"required": True, "period": "month"},
        "backends": [{"name": "b0", "url": url}],
        "routes": [{"model": "big", "backends": ["b0"], **route}],
    }


async def _ask(
    url: str, key: str | None, body: bytes, path: str = "/v1/chat/completions"
) -> Response:
    endpoint = Endpoint.from_url(url)
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    request = PreparedRequest.build("POST", endpoint, path, headers=headers, body=body)
    async with HttpClient(endpoint, timeout_s=30) as client:
        return await client.request(request)


def ask(url: str, key: str | None, body: bytes | None = None) -> Response:
    return asyncio.run(_ask(url, key, body or chat("big")))


def _get(url: str, path: str, key: str) -> Response:
    async def go() -> Response:
        endpoint = Endpoint.from_url(url)
        request = PreparedRequest.build(
            "GET", endpoint, path, headers={"authorization": f"Bearer {key}"}
        )
        async with HttpClient(endpoint, timeout_s=30) as client:
            return await client.request(request)

    return asyncio.run(go())


def _settled_spend(url: str, admin: str) -> dict[str, Any]:
    """The spend once every answered request is settled: a worker settles a request just
    after its last byte went out, so another worker may answer this a moment before."""
    deadline = time.monotonic() + 10
    while True:
        spend: dict[str, Any] = json.loads(_get(url, "/gateway/spend", admin).body)
        if spend["models"]["big"]["in_flight"] == 0 or time.monotonic() > deadline:
            return spend
        time.sleep(0.01)


def _error(response: Response) -> dict[str, Any]:
    error = json.loads(response.body)["error"]
    assert isinstance(error, dict)
    return error


def _cost(answer: Response, stream: bool) -> Decimal:
    """What an answer cost by its own usage, in exact decimals."""
    if stream:
        events = [
            json.loads(line.removeprefix(b"data: "))
            for line in answer.body.splitlines()
            if line.startswith(b"data: {")
        ]
        usage = [event["usage"] for event in events if event.get("usage")][-1]
    else:
        usage = json.loads(answer.body)["usage"]
    million = Decimal(1_000_000)
    return (
        usage["prompt_tokens"] * Decimal(PRICING["per_1m_input_tokens"]) / million
        + usage["completion_tokens"] * Decimal(PRICING["per_1m_output_tokens"]) / million
    )


async def _flood(
    url: str, keys: list[str], total: int, concurrency: int
) -> list[tuple[int, bool, Response]]:
    """``total`` requests, ``concurrency`` at a time, the keys taking turns, half of them
    streamed. Returns (key index, streamed, answer) in the order they ended."""
    endpoint = Endpoint.from_url(url)
    kinds = [(n, stream) for stream in (False, True) for n in range(len(keys))]
    requests = [
        PreparedRequest.build(
            "POST",
            endpoint,
            "/v1/chat/completions",
            headers={"content-type": "application/json", "authorization": f"Bearer {keys[n]}"},
            body=json.dumps(
                {
                    "model": "big",
                    "stream": stream,
                    "max_tokens": 8,
                    "messages": [{"role": "user", "content": "how much is it?"}],
                }
            ).encode(),
        )
        for n, stream in kinds
    ]
    answers: list[tuple[int, bool, Response]] = []
    sent = 0

    async def worker(client: HttpClient) -> None:
        nonlocal sent
        while sent < total:
            which = sent % len(kinds)
            sent += 1
            answer = await client.request(requests[which])
            answers.append((*kinds[which], answer))

    async with HttpClient(endpoint, timeout_s=60, max_connections=concurrency) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return answers


@pytest.mark.parametrize("workers", [1, 2])
def test_budgets_admit_nothing_past_them_under_64_concurrent_requests(
    tmp_path: Path, workers: int
) -> None:
    """10,000 requests at 64 at a time from an admin key and a normal key, each with a budget,
    on a route with a budget of its own: the answers' own usage, priced, never passes a budget,
    and the gateway's figures match them to the picounit (with two worker processes too,
    which share the ledger)."""
    db = tmp_path / "store.sqlite3"
    admin = make_key(db, "ops", "--budget", "0.03", "--admin")
    team = make_key(db, "team", "--budget", "0.05")
    backend = simulator("big", ttft_ms=0, itl_ms=0, tokens=6)
    try:
        config = _config(backend.url, pricing=PRICING, budget=0.07, max_output_tokens=8)
        with gateway(tmp_path, config, "--db", str(db), "--workers", str(workers)) as url:
            answers = asyncio.run(_flood(url, [admin, team], total=10_000, concurrency=64))
            spend = _settled_spend(url, admin)
            metrics = _get(url, "/metrics", admin).body.decode()
    finally:
        backend.stop()
    assert len(answers) == 10_000
    spent = {0: Decimal(0), 1: Decimal(0)}
    statuses: Counter[tuple[int, int]] = Counter()
    for key, streamed, answer in answers:
        statuses[(key, answer.status)] += 1
        if answer.status == 200:
            spent[key] += _cost(answer, stream=streamed)
        else:
            assert answer.status == 429, answer.body
            assert _error(answer)["type"] == "insufficient_quota"
    print(f"workers {workers}: answered {dict(statuses)}, spent {spent}")
    # no key and not the route spent past its budget, the admin key included
    assert spent[0] <= Decimal("0.03")
    assert spent[1] <= Decimal("0.05")
    assert spent[0] + spent[1] <= Decimal("0.07")
    # the budgets were used, not refused early: what is left is under one request's worst case
    # for each request that can have been in flight
    worst = (Decimal(len(chat("big")) + 200) * 3 + 8 * 7) / 1_000_000
    assert spent[0] + spent[1] >= Decimal("0.07") - 64 * worst
    # the gateway's own figures are the answers' usage, priced, to the last digit
    assert Decimal(spend["keys"]["ops"]["spent"]) == spent[0]
    assert Decimal(spend["keys"]["team"]["spent"]) == spent[1]
    assert Decimal(spend["models"]["big"]["spent"]) == spent[0] + spent[1]
    assert spend["models"]["big"]["reserved"] == "0" and spend["models"]["big"]["in_flight"] == 0
    assert statuses[(0, 429)] > 0 and statuses[(1, 429)] > 0
    # the metrics count every worker's answers
    answered = sum(n for (_key, status), n in statuses.items() if status == 200)
    counted = 'modelmeter_gateway_requests_total{backend="b0",route="big",status="200"}'
    assert f"{counted} {answered}.0" in metrics
    tokens = (
        'gen_ai_client_token_usage_count{gen_ai_request_model="big",gen_ai_token_type="output"}'
    )
    assert f"{tokens} {answered}.0" in metrics  # every answer's usage, once
    # the spend counter (what budget burn alerts read) is the same money, to float precision
    found = re.search(
        r'modelmeter_gateway_spend_total\{currency="USD",route="big"\} (\S+)', metrics
    )
    assert found is not None, metrics[-3000:]
    assert float(found.group(1)) == pytest.approx(float(spent[0] + spent[1]), rel=1e-9)
    # and the store kept it when the gateway stopped
    with sqlite3.connect(db) as connection:
        stored = dict(connection.execute("SELECT entity, spent_pico FROM gateway_spend"))
    assert Decimal(stored["model:big"]) / 10**12 == spent[0] + spent[1]


def test_a_spent_budget_stays_spent_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    key = make_key(db, "team", "--budget", "0.002")
    backend = simulator("big", ttft_ms=0, itl_ms=0, tokens=6)
    try:
        config = _config(backend.url, pricing=PRICING, max_output_tokens=8)
        with gateway(tmp_path, config, "--db", str(db)) as url:
            first = [ask(url, key).status for _ in range(200)]
        with gateway(tmp_path, config, "--db", str(db)) as url:
            after = ask(url, key)
    finally:
        backend.stop()
    assert 200 in first and first[-1] == 429
    assert after.status == 429
    assert _error(after)["type"] == "insufficient_quota"
    listed = subprocess.run(
        [sys.executable, "-m", "modelmeter", "keys", "list", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    row = next(line for line in listed.stdout.splitlines() if " team " in line)
    months = {time.strftime("%Y-%m", time.gmtime(time.time() - ago)) for ago in (0, 600)}
    assert "0.002" in row  # its budget, and what it spent this month:
    assert any(f"({month})" in row for month in months)
    assert int(after.header("retry-after") or 0) > 0  # until the next month


def test_keys_are_needed_checked_and_never_echoed(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    key = make_key(db, "team")
    other = make_key(db, "other")
    backend = simulator("big")
    try:
        with gateway_process(tmp_path, _config(backend.url), "--db", str(db)) as (url, process):
            missing = ask(url, None)
            wrong = ask(url, "mm-not-a-key-of-this-gateway")
            right = ask(url, key)
            subprocess.run(
                [sys.executable, "-m", "modelmeter", "keys", "revoke", "other", "--db", str(db)],
                check=True,
                capture_output=True,
                timeout=60,
            )
            before_reload = ask(url, other)
            process.send_signal(signal.SIGHUP)
            assert process.stderr is not None
            wait_for_line(process.stderr, r"SIGHUP: reloaded")
            revoked = ask(url, other)
            spend_by_non_admin = _get(url, "/gateway/spend", key)
    finally:
        backend.stop()
    assert (missing.status, _error(missing)["type"]) == (401, "authentication_error")
    assert wrong.status == 401 and b"mm-not-a-key" not in wrong.body
    assert right.status == 200
    assert before_reload.status == 200 and revoked.status == 401
    assert spend_by_non_admin.status == 403
    with sqlite3.connect(db) as connection:
        stored = [row[0] for row in connection.execute("SELECT key_sha256 FROM gateway_keys")]
    files = [db, db.with_name(db.name + "-wal")]
    everything = b"".join(file.read_bytes() for file in files if file.exists())
    assert len(stored) == 2 and all(len(digest) == 64 for digest in stored)
    assert key.encode() not in everything  # hashed at rest, never the key itself


def test_rate_and_concurrency_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    rpm = make_key(db, "by-minute", "--rpm", "5")
    single = make_key(db, "one-at-a-time", "--concurrency", "1")
    slow = simulator("big", ttft_ms=400, itl_ms=1)
    try:
        with gateway(tmp_path, _config(slow.url), "--db", str(db)) as url:

            async def both() -> list[Response]:
                return list(
                    await asyncio.gather(
                        _ask(url, single, chat("big")), _ask(url, single, chat("big"))
                    )
                )

            concurrent = asyncio.run(both())
            by_minute = [ask(url, rpm).status for _ in range(5)]
            sixth = ask(url, rpm)
    finally:
        slow.stop()
    assert sorted(a.status for a in concurrent) == [200, 429]
    refused = next(a for a in concurrent if a.status == 429)
    assert _error(refused)["type"] == "rate_limit_error" and refused.header("retry-after")
    assert by_minute == [200] * 5
    assert sixth.status == 429 and "requests per minute" in _error(sixth)["message"]
    # the next request is one fifth of a minute away, less the time the five took
    assert 1 <= int(sixth.header("retry-after") or 0) <= 12


def test_low_priority_is_shed_first_when_the_backend_slows(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    high = make_key(db, "checkout", "--priority", "high")
    low = make_key(db, "batch", "--priority", "low")
    slow = simulator("big", ttft_ms=1500, itl_ms=1)
    config = _config(slow.url)
    config["backends"][0]["max_in_flight"] = 4
    try:
        with gateway(tmp_path, config, "--db", str(db)) as url:

            async def busy() -> tuple[list[Response], Response, Response]:
                held = [asyncio.create_task(_ask(url, high, chat("big"))) for _ in range(2)]
                await asyncio.sleep(0.5)  # two of four in flight: the route is half busy
                low_answer = await _ask(url, low, chat("big"))
                high_answer = await _ask(url, high, chat("big"))
                return list(await asyncio.gather(*held)), low_answer, high_answer

            held, low_answer, high_answer = asyncio.run(busy())
            idle_low = ask(url, low)
    finally:
        slow.stop()
    assert [a.status for a in held] == [200, 200]
    assert low_answer.status == 429 and int(low_answer.header("retry-after") or 0) >= 1
    assert "low-priority" in _error(low_answer)["message"]
    assert high_answer.status == 200
    assert idle_low.status == 200  # once the route is quiet again


def test_a_body_over_the_limit_is_a_json_413(tmp_path: Path) -> None:
    backend = simulator("big")
    try:
        config = {**_config(backend.url), "keys": None, "max_body_mb": 0.01}
        with gateway(tmp_path, config) as url:
            big = ask(url, None, chat("big", text="x" * 20_000))
            small = ask(url, None)
    finally:
        backend.stop()
    assert big.status == 413 and "request body over" in _error(big)["message"]
    assert small.status == 200
