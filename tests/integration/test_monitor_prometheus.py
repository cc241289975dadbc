"""The generated alerts in a real Prometheus: it scrapes a running gateway; while the backend
answers, the availability alert stays inactive; once the backend is killed and the gateway
answers 5xx, Prometheus's own API shows the page firing within the time the rules state (the
windows shrunk 60 times, so an hour is a minute). It may fire sooner: a few seconds into the
test the long windows hold only those seconds, not an hour's healthy traffic (the promtool
tests check the timing on full windows).

The page then travels on: a real Alertmanager, on the generated alertmanager.yml, routes it to
the page receiver in the same webhook body `modelmeter watch` sends; and the generated
dashboard's panels, queried on this Prometheus and drawn as static HTML, render in headless
Chromium with data and no panel error."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.monitor import SOURCES, MonitorFiles, monitoring_files
from modelmeter.monitor.alertmanager import alertmanager_config
from modelmeter.monitor.preview import query_panels, render_preview
from modelmeter.monitor.rules import detection_minutes
from modelmeter.simulate import SimulatorHandle
from modelmeter.spec.objectives import Sla
from modelmeter.watch import Finding, webhook_payload
from tests._alerts import WEBHOOK_SCHEMA, Receiver, receiver_running
from tests._browser import distinct_colours, rendered_dom, screenshot
from tests._gateway import call, chat, gateway, simulator
from tests._prometheus import alertmanager_server, api, prometheus_server, spec_with_sla

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


def _errors(schema: dict[str, object], document: object) -> list[str]:
    return [e.message for e in Draft202012Validator(schema).iter_errors(document)]


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
    with receiver_running() as receiver:
        routes = alertmanager_config(receiver.url + "/page", receiver.url + "/ticket")
        (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(routes))
        try:
            fired_after, stated_s, statuses = _watch(tmp_path, backend, files, receiver)
        finally:
            backend.stop()
    assert any(status >= 500 for status in statuses)
    assert 0 < fired_after < stated_s + 60


def _watch(
    tmp_path: Path, backend: SimulatorHandle, files: MonitorFiles, receiver: Receiver
) -> tuple[float, float, list[int]]:
    config = {
        "backends": [{"name": "sim", "url": backend.url}],
        "routes": [{"model": "chat", "backends": ["sim"]}],
    }
    with (
        gateway(tmp_path, config) as url,
        alertmanager_server(tmp_path / "alertmanager.yml") as alertmanager,
        prometheus_server(
            [url.removeprefix("http://")], tmp_path / "rules.yml", alertmanager
        ) as prometheus,
    ):
        traffic = _Traffic(url)
        try:
            # healthy for longer than the short window: the ratios exist and are 0
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                ratios = api(prometheus, "/api/v1/query?query=modelmeter:slo_error_ratio:rate5m")
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
            _paged_through_alertmanager(receiver)
            _dashboard_renders(tmp_path, files, prometheus)
        finally:
            traffic.stop()
    return fired_after, stated_s, traffic.statuses


def _paged_through_alertmanager(receiver: Receiver) -> None:
    """Alertmanager routes the page to the page receiver (its group_wait is 10 s), in the
    webhook body whose shape `modelmeter watch` copies: the same schema, the same keys."""
    deadline = time.monotonic() + 90
    while "/alerts/page" not in receiver.paths:
        assert time.monotonic() < deadline, f"no page reached the receiver: {receiver.paths}"
        time.sleep(0.5)
    body = receiver.bodies[receiver.paths.index("/alerts/page")]
    assert _errors(WEBHOOK_SCHEMA, body) == []
    assert body["status"] == "firing"
    alert = body["alerts"][0]
    assert alert["labels"]["alertname"] == "ModelmeterSLOBurn"
    assert alert["labels"]["severity"] == "page" and alert["labels"]["slo"] == "availability"
    ours = webhook_payload([Finding({"alertname": "A"}, "s")])
    assert set(ours) == set(body)
    assert set(ours["alerts"][0]) == set(alert)  # type: ignore[index]


def _dashboard_renders(folder: Path, files: MonitorFiles, prometheus: str) -> None:
    """Every panel's queries run on this Prometheus; the static render loads in Chromium, and
    each panel that has data draws its lines there."""
    end = time.time()
    panels = query_panels(files.dashboard, prometheus, start=end - 120, end=end, step=1)
    states = {data.panel["title"]: data.state for data in panels}
    assert "error" not in states.values(), [d.errors for d in panels]
    # a non-streaming gateway has no time-to-first-chunk series yet: that panel may be empty
    assert all(state == "ok" for title, state in states.items() if "first chunk" not in title)
    page = folder / "dashboard.html"
    html = render_preview(files.dashboard, panels, source=prometheus)
    # measure in the browser: each chart's drawn width and the length of its lines
    probe = (
        "<script>for (const s of document.querySelectorAll('section.panel svg')) {"
        "let n = 0; for (const p of s.querySelectorAll('path')) n += p.getTotalLength();"
        "s.dataset.width = Math.round(s.getBoundingClientRect().width);"
        "s.dataset.ink = Math.round(n); }</script></body>"
    )
    page.write_text(html.replace("</body>", probe), encoding="utf-8")
    dom = rendered_dom(page)
    assert dom.count('<section class="panel"') == len(panels)
    assert 'data-state="error"' not in dom
    widths = [int(w) for w in re.findall(r'data-width="(\d+)"', dom)]
    inks = [int(n) for n in re.findall(r'data-ink="(\d+)"', dom)]
    charts = sum(1 for d in panels if d.state == "ok" and d.panel["type"] == "timeseries")
    assert len(widths) == charts and all(w > 200 for w in widths), dom[:3000]
    assert all(n > 100 for n in inks), inks
    assert distinct_colours(screenshot(page, folder / "dashboard.png")) > 8


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
