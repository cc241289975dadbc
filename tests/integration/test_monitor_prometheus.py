"""The generated alerts in a real Prometheus: it scrapes a running gateway; while the backend
answers, the availability alert stays inactive; once the backend is killed and the gateway
answers 5xx, Prometheus's own API shows the page firing within the time the rules state (the
windows shrunk 60 times, so an hour is a minute). It may fire sooner: a few seconds into the
test the long windows hold only those seconds, not an hour's healthy traffic (the promtool
tests check the timing on full windows)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.monitor import SOURCES, MonitorFiles, monitoring_files
from modelmeter.monitor.rules import detection_minutes
from modelmeter.simulate import SimulatorHandle
from modelmeter.spec.objectives import Sla
from tests._gateway import call, chat, gateway, simulator
from tests._prometheus import api, prometheus_server, spec_with_sla

SCALE = 1 / 60


class _Traffic:
    """Requests to the gateway at a steady 50 a second (on a schedule, whatever the answers
    do: failing fast must not send more), in a thread, until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._send()), daemon=True)
        self._thread.start()

    async def _send(self) -> None:
        endpoint = Endpoint.from_url(self.url)
        request = PreparedRequest.build(
            "POST",
            endpoint,
            "/v1/chat/completions",
            headers={"content-type": "application/json"},
            body=chat("chat"),
        )
        async with HttpClient(endpoint, timeout_s=10) as client:
            due = time.monotonic()
            while not self._stop.is_set():
                answer = await client.request(request)
                self.statuses.append(answer.status)
                due += 0.02
                await asyncio.sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _page_state(url: str) -> str:
    for alert in api(url, "/api/v1/alerts")["alerts"]:
        labels = alert["labels"]
        if labels.get("slo") == "availability" and labels.get("severity") == "page":
            return str(alert["state"])
    return "inactive"


def test_prometheus_fires_the_page_when_the_backend_dies(tmp_path: Path) -> None:
    sla = Sla(max_error_rate=0.01)
    files = monitoring_files(sla, SOURCES["gateway"], time_scale=SCALE)
    files.write(tmp_path)
    backend = simulator("chat", ttft_ms=1, itl_ms=0.1, tokens=2)
    try:
        fired_after, stated_s, statuses = _watch(tmp_path, backend, files)
    finally:
        backend.stop()
    assert any(status >= 500 for status in statuses)
    assert 0 < fired_after < stated_s + 60


def _watch(
    tmp_path: Path, backend: SimulatorHandle, files: MonitorFiles
) -> tuple[float, float, list[int]]:
    config = {
        "backends": [{"name": "sim", "url": backend.url}],
        "routes": [{"model": "chat", "backends": ["sim"]}],
    }
    with gateway(tmp_path, config) as url:
        target = url.removeprefix("http://")
        with prometheus_server([target], tmp_path / "rules.yml") as prometheus:
            traffic = _Traffic(url)
            try:
                # healthy for longer than the short window: the ratios exist and are 0
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    ratios = api(
                        prometheus, "/api/v1/query?query=modelmeter:slo_error_ratio:rate5m"
                    )
                    if ratios["result"]:
                        break
                    time.sleep(0.5)
                assert ratios["result"], "the recording rule never produced a value"
                time.sleep(6)
                assert _page_state(prometheus) == "inactive"
                assert all(status == 200 for status in traffic.statuses)
                backend.stop()
                killed = time.monotonic()
                stated_s = (detection_minutes(files.slos[0], 1.0, "page") or 0) * 60 * SCALE
                while _page_state(prometheus) != "firing":
                    # the stated time, plus scrapes and evaluations a second apart, plus room
                    # for a busy machine; a page that never comes fails here
                    assert time.monotonic() - killed < stated_s + 60, "the page never fired"
                    time.sleep(0.5)
                fired_after = time.monotonic() - killed
            finally:
                traffic.stop()
    return fired_after, stated_s, traffic.statuses


def test_the_bucket_check_reads_a_live_gateway(tmp_path: Path) -> None:
    """`--metrics-url` on a running gateway: 250 ms is one of its boundaries, 300 ms is not."""
    import os
    import subprocess
    import sys

    spec = spec_with_sla(tmp_path, "{p95_ms: 250, ttft_p95_ms: 300}")
    backend = simulator("chat", tokens=2)
    config = {
        "backends": [{"name": "sim", "url": backend.url}],
        "routes": [{"model": "chat", "backends": ["sim"]}],
    }
    try:
        with gateway(tmp_path, config) as url:
            # a histogram's series appear with its first request
            assert call(url, "POST", "/v1/chat/completions", chat("chat")).status == 200
            command = [sys.executable, "-m", "modelmeter", "monitor", str(spec)]
            command += [
                "--out",
                str(tmp_path / "m"),
                "--no-check",
                "--metrics-url",
                url + "/metrics",
            ]
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
            )
    finally:
        backend.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if "gen_ai_client_operation" in line]
    assert any("p95_ms" in row and "yes" in row for row in rows), done.stdout
    assert any(
        "ttft_p95_ms" in row and "between 250 ms and 500 ms" in row and "up to 250 ms" in row
        for row in rows
    ), done.stdout
