"""Helpers of the gateway's tests: `simulate` backends and the gateway command in a process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from modelmeter.client import Endpoint, HttpClient, PreparedRequest, Response
from modelmeter.simulate import SimulatorConfig, SimulatorHandle, start_simulator
from tests._lines import wait_for_line


def simulator(
    model: str, ttft_ms: float = 5, itl_ms: float = 1, tokens: int = 4
) -> SimulatorHandle:
    return start_simulator(
        SimulatorConfig(
            model=model,
            ttft_ms={"mean_ms": ttft_ms},
            itl_ms={"mean_ms": itl_ms},
            output_tokens=tokens,
            busy_wait_us=0,
        )
    )


@contextmanager
def gateway_process(
    tmp_path: Path,
    config: dict[str, Any] | Path | None,
    *args: str,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run `modelmeter gateway` on ``config`` (port 0, written to ``tmp_path/gateway.yaml``;
    or a file of the caller's, or None for ``args`` alone, given --port 0): its URL and
    process (stderr still to read, for what it logs). ``env`` is added to its environment."""
    if isinstance(config, dict):
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump({"listen": {"port": 0}, **config}))
        args = (str(path), *args)
    else:
        args = (*([str(config)] if config is not None else []), *args, "--port", "0")
    process = subprocess.Popen(
        [sys.executable, "-m", "modelmeter", "gateway", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1", **(env or {})},
    )
    try:
        assert process.stderr is not None
        found = wait_for_line(process.stderr, r"Gateway at (http://\S+):")
        yield found.group(1), process
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


@contextmanager
def gateway(tmp_path: Path, config: dict[str, Any], *args: str) -> Iterator[str]:
    with gateway_process(tmp_path, config, *args) as (url, _process):
        yield url


def chat(model: str, *, stream: bool = False, text: str = "hello") -> bytes:
    return json.dumps(
        {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}
    ).encode()


async def send(
    url: str, method: str, path: str, body: bytes | None = None, pieces: list[Any] | None = None
) -> Response:
    """One request on a connection of its own; ``pieces`` collects (body piece, arrival)."""
    endpoint = Endpoint.from_url(url)
    request = PreparedRequest.build(
        method, endpoint, path, headers={"content-type": "application/json"}, body=body
    )
    async with HttpClient(endpoint, timeout_s=30) as client:
        if pieces is None:
            return await client.request(request)
        return await client.request(request, lambda piece, at: pieces.append((piece, at)))


def call(url: str, method: str, path: str, body: bytes | None = None) -> Response:
    return asyncio.run(send(url, method, path, body))
