"""A server that stops answering fails its load phase; it never passes the SLA.

Before: against a server that answered the preflight and the quality pass and then hung, the
default closed loop's warm-up requests were still hanging when the window closed, and the report
said "requests: 0", "errors 0.0%", "SLA met", and could recommend the dead server.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

ANSWERED_BEFORE_HANGING = 3  # the preflight and the two items of the quality pass


@pytest.fixture
def servers() -> Iterator[tuple[int, int]]:
    """Two label APIs: one that always answers, one that hangs after its first answers."""
    answered = [0]

    async def good(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"label": "greet"})

    async def hangs(request: web.Request) -> web.Response:
        await request.read()
        answered[0] += 1
        if answered[0] > ANSWERED_BEFORE_HANGING:
            await asyncio.sleep(60)
        return web.json_response({"label": "greet"})

    loop = asyncio.new_event_loop()
    runners = []
    for handler in (good, hangs):
        app = web.Application()
        app.router.add_post("/", handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        runners.append(runner)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield runners[0].addresses[0][1], runners[1].addresses[0][1]
    finally:

        async def stop() -> None:
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            for runner in runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def test_a_server_that_hangs_in_the_load_phase_fails_it(
    tmp_path: Path, servers: tuple[int, int]
) -> None:
    good, dead = servers
    (tmp_path / "d.jsonl").write_text(
        '{"text": "hi", "label": "greet"}\n{"text": "yo", "label": "greet"}\n', encoding="utf-8"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: hung\ndataset: {path: d.jsonl}\ntargets:\n"
        f"  - {{name: good, kind: http, url: 'http://127.0.0.1:{good}/', response_path: label}}\n"
        f"  - {{name: dead, kind: http, url: 'http://127.0.0.1:{dead}/', response_path: label, "
        "timeout_s: 1}\n"
        # No SLA at all: a phase that completed nothing fails whatever limits are set.
        "load: {mode: concurrency, concurrency: 3, warmup_s: 0.2, duration_s: 0.5}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "modelmeter", "run", str(spec), "--out", "out", "--no-store"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr  # the dead target's errors pass the default 5%
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    models = {m["name"]: m for m in report["models"]}
    load = models["dead"]["load"]
    # The three warm-up requests held the three workers through the window: they count in it.
    assert (load["requests"], load["completed"], load["errors"]) == (3, 0, {"timeout": 3})
    assert load["error_rate"] == 1.0
    assert models["dead"]["sla"] == {
        "met": False,
        "violations": ["load phase: none of the 3 requests in the measured window completed"],
    }
    assert models["good"]["sla"]["met"] is True
    assert report["decision"]["chosen"] == "good"
    assert "dead" in report["decision"]["ineligible"]
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "Every model meets the SLA" not in markdown
