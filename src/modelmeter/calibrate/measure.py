"""``calibrate``: how many requests and stream events per second this host's load generator can
drive, measured against the built-in loopback server (the cheapest possible answers).

A later run whose throughput comes near this ceiling is limited by the client, and its report
says so. The figure is stored per host in the user's data folder.
"""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from modelmeter._exceptions import ServerError
from modelmeter._loop import run as run_on_fast_loop
from modelmeter.calibrate.store import Calibration
from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.client.sse import SseParser

T = TypeVar("T")


def _cores() -> tuple[int | None, int | None]:
    """Server on one core and client on another when the host has two or more."""
    try:
        available = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return None, None
    if len(available) < 2:
        return None, None
    return available[0], available[1]


class _LoopbackProcess:
    def __init__(self, core: int | None) -> None:
        command = [sys.executable, "-m", "modelmeter.calibrate.loopback_server", "127.0.0.1", "0"]
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise ServerError(f"the loopback server did not start: {line!r}")
        # Nothing more is read from it; a pipe left open could fill and stall the server.
        self._process.stdout.close()
        self.port = int(line)
        if core is not None:
            os.sched_setaffinity(self._process.pid, {core})

    def stop(self) -> None:
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


async def _requests(port: int, connections: int, duration_s: float) -> tuple[int, float, float]:
    """(answers, wall seconds, client CPU seconds) of a closed loop on ``connections``."""
    endpoint = Endpoint.from_url(f"http://127.0.0.1:{port}")
    client = HttpClient(endpoint, timeout_s=10, max_connections=connections)
    request = PreparedRequest.build("GET", endpoint, "/")
    deadline = time.monotonic() + duration_s
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await client.request(request)
            done += 1

    cpu = time.process_time()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(connections)))
    finally:
        await client.close()
    return done, time.perf_counter() - started, time.process_time() - cpu


async def _drive_streams(port: int, connections: int, duration_s: float) -> float:
    endpoint = Endpoint.from_url(f"http://127.0.0.1:{port}")
    client = HttpClient(endpoint, timeout_s=30, max_connections=connections)
    request = PreparedRequest.build("GET", endpoint, "/stream?events=1000")
    deadline = time.monotonic() + duration_s
    events = 0

    async def worker() -> None:
        nonlocal events
        while time.monotonic() < deadline:
            parser = SseParser()

            def count(data: bytes, received_at: int, parser: SseParser = parser) -> None:
                nonlocal events
                events += len(parser.feed(data, received_at))

            await client.request(request, on_body=count)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(connections)))
    finally:
        await client.close()
    return events / (time.perf_counter() - started)


def calibrate(
    *,
    connections: int = 64,
    duration_s: float = 5.0,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Measure this host's ceiling; takes about ``2 × duration_s`` plus start-up."""
    server_core, client_core = _cores()
    previous_affinity = os.sched_getaffinity(0) if client_core is not None else None
    server = _LoopbackProcess(server_core)
    try:
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})
        if progress:
            progress(f"requests: {connections} connections for {duration_s:g} s")
        done, wall, cpu = run_on_fast_loop(_requests(server.port, connections, duration_s))
        if progress:
            progress(f"streams: {min(connections, 16)} streams for {duration_s:g} s")
        events_per_s = run_on_fast_loop(
            _drive_streams(server.port, min(connections, 16), duration_s)
        )
    finally:
        server.stop()
        if previous_affinity is not None:
            os.sched_setaffinity(0, previous_affinity)
    return Calibration(
        requests_per_s=done / wall if wall else 0.0,
        cpu_us_per_request=cpu / done * 1e6 if done else 0.0,
        stream_events_per_s=events_per_s,
        connections=connections,
        duration_s=duration_s,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        host=platform.node(),
        python=platform.python_version(),
        server_core=server_core,
        client_core=client_core,
    )
