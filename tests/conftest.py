"""Shared fixtures: a real JSON HTTP server on 127.0.0.1 with injectable delays and faults."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web


@dataclass
class FaultServer:
    """A JSON API on 127.0.0.1 whose behaviour each test sets per path.

    ``POST /label?delay_ms=N`` answers ``{"prediction": {"label": <text upper-cased>}, "usage":
    {...}}`` after N ms; ``/status/{code}`` answers that status; ``/not-json`` answers text;
    ``/hang`` never answers within a test's timeout; ``/serial?delay_ms=N`` answers one
    request at a time after N ms, so its capacity is exactly 1000/N requests per second;
    ``/sse-no-usage`` and ``/sse-garbage`` stream chat chunks without usage, and broken.
    ``served`` counts answered requests.
    """

    url: str
    served: list[float] = field(default_factory=list)


SERVED = web.AppKey("served", list)


async def _label(request: web.Request) -> web.Response:
    delay_ms = float(request.query.get("delay_ms", "0"))
    payload = await request.json()
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    request.app[SERVED].append(delay_ms)
    text = str(payload.get("input", ""))
    return web.json_response(
        {
            "prediction": {"label": text.upper()},
            "usage": {"input_tokens": len(text.split()), "output_tokens": 1},
        }
    )


SERIAL = web.AppKey("serial", asyncio.Lock)


async def _serial(request: web.Request) -> web.Response:
    """One request at a time, ``delay_ms`` each: a server whose capacity is known exactly."""
    delay_ms = float(request.query.get("delay_ms", "10"))
    payload = await request.json()
    async with request.app[SERIAL]:
        await asyncio.sleep(delay_ms / 1000)
    return web.json_response({"prediction": {"label": str(payload.get("input", "")).upper()}})


async def _sse(request: web.Request, events: list[bytes]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for event in events:
        await response.write(event)
        await asyncio.sleep(0.002)
    await response.write_eof()
    return response


def _chunk(text: str) -> bytes:
    body = json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})
    return f"data: {body}\n\n".encode()


async def _sse_no_usage(request: web.Request) -> web.StreamResponse:
    """Three content chunks of two words each, no usage: counts must come from elsewhere."""
    role = b'data: {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}\n\n'
    words = [_chunk("alpha beta "), _chunk("gamma alpha "), _chunk("beta gamma")]
    return await _sse(request, [role, *words, b"data: [DONE]\n\n"])


async def _sse_garbage(request: web.Request) -> web.StreamResponse:
    return await _sse(request, [_chunk("ok"), b"data: {not json\n\n", b"data: [DONE]\n\n"])


async def _status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.json_response({"error": f"injected {code}"}, status=code)


async def _not_json(request: web.Request) -> web.Response:
    return web.Response(text="<html>oops</html>", content_type="text/html")


async def _hang(request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.json_response({})


async def _shutdown(runner: web.AppRunner) -> None:
    # Handlers still sleeping (the /hang route) are cancelled, not left for the interpreter.
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    await runner.cleanup()


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    app = web.Application()
    app[SERVED] = []
    app.router.add_post("/label", _label)
    app.router.add_post("/serial", _serial)
    app.router.add_post("/sse-no-usage/chat/completions", _sse_no_usage)
    app.router.add_post("/sse-garbage/chat/completions", _sse_garbage)
    app.router.add_post("/status/{code}", _status)
    app.router.add_post("/not-json", _not_json)
    app.router.add_post("/hang", _hang)
    loop = asyncio.new_event_loop()
    app[SERIAL] = asyncio.Lock()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield FaultServer(url=f"http://127.0.0.1:{port}", served=app[SERVED])
    finally:
        asyncio.run_coroutine_threadsafe(_shutdown(runner), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def write_jsonl(path, rows) -> None:  # type: ignore[no-untyped-def]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
