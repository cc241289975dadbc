"""A real Prometheus scraping `simulate` and `serve`, both run with the SLA's threshold among
their histogram boundaries (--bucket-ms): the simulator's first tokens are slowed past the
TTFT limit (the server restarted slower on the same port), and Prometheus's own API shows the
generated TTFT page firing within the time the rules state (windows shrunk 60 times); serve's
requests are counted at its SLA threshold exactly, its boundary there as the bucket check
reads it."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modelmeter.monitor import SOURCES, monitoring_files
from modelmeter.monitor.buckets import check_buckets
from modelmeter.monitor.rules import detection_minutes
from modelmeter.serve import start_server_process
from modelmeter.simulate import SimulatorConfig, SimulatorHandle, start_simulator
from modelmeter.spec.objectives import Sla
from tests._prometheus import api, prometheus_server

SCALE = 1 / 60


def _simulator(ttft_ms: float, port: int = 0) -> SimulatorHandle:
    config = SimulatorConfig(
        model="m",
        ttft_ms={"mean_ms": ttft_ms},
        itl_ms={"mean_ms": 1},
        output_tokens=3,
        slots=256,
        busy_wait_us=0,
        bucket_ms=(300,),
    )
    return start_simulator(config, port=port)


class _Streams:
    """Streamed chat requests at 20 a second, each in its own thread (a slow answer must not
    slow the schedule); failures while the server restarts are expected and counted."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/v1/chat/completions"
        self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def _one(self) -> None:
        body = json.dumps(
            {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
                self.answered += 1
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            pass

    def _send(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            threading.Thread(target=self._one, daemon=True).start()
            due += 0.05
            time.sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _state(prometheus: str, slo: str, severity: str) -> str:
    for alert in api(prometheus, "/api/v1/alerts")["alerts"]:
        labels = alert["labels"]
        if labels.get("slo") == slo and labels.get("severity") == severity:
            return str(alert["state"])
    return "inactive"


def _query(prometheus: str, expr: str) -> list[dict]:
    return api(prometheus, "/api/v1/query?query=" + urllib.parse.quote(expr))["result"]


def _serve_model(folder: Path) -> Path:
    texts, labels = ["good film", "bad film", "great plot", "awful plot"], ["p", "n", "p", "n"]
    path = folder / "sentiment.joblib"
    joblib.dump(make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, labels), path)
    return path


def _infer(url: str) -> int:
    body = json.dumps(
        {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["good"]}]}
    ).encode()
    request = urllib.request.Request(
        url + "/v2/models/sentiment/infer", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(answer.status)


def test_prometheus_pages_on_slow_first_tokens_and_counts_serve_at_its_threshold(
    tmp_path: Path,
) -> None:
    sla = Sla(ttft_p95_ms=300)
    files = monitoring_files(sla, SOURCES["simulate"].with_thresholds([0.3]), time_scale=SCALE)
    assert files.slos[0].threshold_s == 0.3 and not files.slos[0].note  # exact, no fallback
    files.write(tmp_path)
    fast = _simulator(20)
    port = fast.port
    served = start_server_process({"sentiment": _serve_model(tmp_path)}, bucket_ms=[0.7])
    slow: SimulatorHandle | None = None
    try:
        for _ in range(20):
            assert _infer(served.url) == 200
        info = 'modelmeter_semconv_info{opt_in="",version="1.41.0"} 1.0'
        for url in (served.url, fast.url):  # both say which conventions their names follow
            with urllib.request.urlopen(url + "/metrics", timeout=10) as answer:
                assert info in answer.read().decode()
        with urllib.request.urlopen(served.url + "/metrics", timeout=10) as answer:
            found = check_buckets(answer.read().decode(), {"p95_ms": 0.0007})
        assert any(f.exact for f in found), found  # 0.7 ms is a boundary of serve's histogram
        targets = [f"127.0.0.1:{port}", served.url.removeprefix("http://")]
        with prometheus_server(targets, tmp_path / "rules.yml") as prometheus:
            traffic = _Streams(port)
            try:
                deadline = time.monotonic() + 60
                while not _query(prometheus, 'modelmeter:slo_error_ratio:rate5m{slo="ttft_p95"}'):
                    assert time.monotonic() < deadline, "the recording rule never had a value"
                    time.sleep(0.5)
                time.sleep(5)
                assert _state(prometheus, "ttft_p95", "page") == "inactive"
                fast.stop()
                slow = _simulator(600, port=port)  # the same server, its first tokens slow
                slowed = time.monotonic()
                stated_s = (detection_minutes(files.slos[0], 1.0, "page") or 0) * 60 * SCALE
                while _state(prometheus, "ttft_p95", "page") != "firing":
                    assert time.monotonic() - slowed < stated_s + 60, "the page never fired"
                    time.sleep(0.5)
                assert traffic.answered > 50
                # serve, scraped too: every request so far under its 0.7 ms boundary or not,
                # counted by that bucket exactly
                # (the simulator exports the same GenAI name: serve's series by its instance)
                serve = f'instance="{served.url.removeprefix("http://")}"'
                counted = _query(
                    prometheus,
                    f'sum(gen_ai_server_request_duration_seconds_bucket{{le="0.0007",{serve}}})',
                )
                total = _query(
                    prometheus, f"sum(gen_ai_server_request_duration_seconds_count{{{serve}}})"
                )
                assert counted and total and float(total[0]["value"][1]) == 20
            finally:
                traffic.stop()
    finally:
        for handle in (fast, slow):
            if handle is not None:
                handle.stop()
        served.stop()
