"""Running the simulator: in the foreground until stopped, or as a child process for tests."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

from modelmeter._exceptions import ServerError
from modelmeter._loop import loop_factory, stop_signals, wait_for_stop
from modelmeter._process import ChildServer, answers_ok, start_child_server, stderr_tail
from modelmeter.simulate.answers import load_answer_book
from modelmeter.simulate.config import SimulatorConfig
from modelmeter.simulate.server import Simulator
from modelmeter.simulate.timings import RequestTiming

STOP_TIMEOUT_S = 10.0


def run_simulator(
    config: SimulatorConfig,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    timings_log: Path | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM (from the main thread); blocks.

    Runs on uvloop when it is installed. ``port=0`` picks a free port; ``on_ready(url)`` is
    called once the server listens. Raises `ServerError` when it cannot listen or cannot write
    ``timings_log``.
    """
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_serve(config, host, port, timings_log, on_ready, stop_signals()))


async def _serve(
    config: SimulatorConfig,
    host: str,
    port: int,
    timings_log: Path | None,
    on_ready: Callable[[str], None] | None,
    signals: tuple[signal.Signals, ...],
) -> None:
    simulator = Simulator(config, timings_log=timings_log)
    url = await simulator.start(host, port)
    try:
        await wait_for_stop(signals, (lambda: on_ready(url)) if on_ready else None)
    finally:
        await simulator.stop()


class SimulatorHandle(ChildServer):
    """A simulator running as a child process; stop it with `stop` or a ``with`` block.

    A process of its own, not a thread: the server polls the clock before each due chunk and
    would otherwise compete for the interpreter lock with the client whose timing it checks.
    """

    stop_timeout_s = STOP_TIMEOUT_S

    def timings(self, request_id: str | None = None) -> list[RequestTiming]:
        """The server's timing records (all it keeps, or those of ``request_id``)."""
        path = "/debug/timings"
        if request_id is not None:
            path += "?request_id=" + quote(request_id, safe="")
        status, body = self._request("GET", path)
        if status != 200:
            raise ServerError(f"GET {path} answered {status}: {body[:200]!r}")
        return [RequestTiming.from_json(record) for record in json.loads(body)]

    def clear_timings(self) -> None:
        """Forget the timing records so far (e.g. those of a warm-up)."""
        status, body = self._request("DELETE", "/debug/timings")
        if status != 204:
            raise ServerError(f"DELETE /debug/timings answered {status}: {body[:200]!r}")

    def _request(self, method: str, path: str) -> tuple[int, bytes]:
        # http.client rather than urllib: no proxy settings from the environment apply to it.
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30.0)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as exc:
            raise ServerError(f"{method} {self.url}{path} failed: {exc}") from exc
        finally:
            connection.close()


def start_simulator(
    config: SimulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    timings_log: Path | None = None,
    ready_timeout_s: float = 30.0,
) -> SimulatorHandle:
    """Start ``python -m modelmeter.simulate`` and return once ``/health`` answers 200.

    ``port=0`` lets the server pick a free port (it binds it and reports it: no race). Raises
    `ServerError`, with the end of the server's stderr, if it exits or is not ready within
    ``ready_timeout_s``; `DatasetError` (``path:line``), before starting, if ``config.answers``
    is a bad answer book.
    """
    config = config or SimulatorConfig()
    if config.answers is not None:
        load_answer_book(config.answers)  # fail here, with the typed error, not in the child
        config = config.model_copy(update={"answers": config.answers.resolve()})
    workdir = Path(tempfile.mkdtemp(prefix="modelmeter-simulate-"))
    ready_file = workdir / "ready.json"
    config_file = workdir / "config.json"
    config_file.write_text(config.model_dump_json())
    command = [
        sys.executable,
        "-m",
        "modelmeter.simulate",
        f"--config={config_file}",
        f"--host={host}",
        f"--port={port}",
        f"--ready-file={ready_file}",
    ]
    if timings_log is not None:
        command.append(f"--timings-log={timings_log}")
    process, stderr, parent_end = start_child_server(command, workdir)
    handle = SimulatorHandle(process, workdir, stderr, parent_end=parent_end)
    try:
        handle.url = _await_ready(process, ready_file, ready_timeout_s)
        handle.port = urlsplit(handle.url).port or 0
    except ServerError as exc:
        tail = stderr_tail(stderr)
        handle.stop()
        raise ServerError(f"{exc}; its stderr ends with:\n{tail}" if tail else str(exc)) from None
    except BaseException:
        handle.stop()
        raise
    return handle


def write_ready_file(path: Path, url: str) -> None:
    """Announce ``url`` in ``path`` atomically (what `start_simulator` waits for)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"url": url}))
    os.replace(partial, path)


def _await_ready(process: subprocess.Popen[bytes], ready_file: Path, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        code = process.poll()
        if code is not None:
            raise ServerError(f"the simulator exited with code {code} before it was ready")
        if ready_file.exists():
            url = str(json.loads(ready_file.read_text())["url"])
            if answers_ok(url, "/health"):
                return url
        if time.monotonic() > deadline:
            raise ServerError(f"the simulator was not ready within {timeout_s} s")
        time.sleep(0.02)
