"""`modelmeter run --metrics-port` as a user scrapes it: while the load phase runs, /metrics on
127.0.0.1 carries the OpenTelemetry GenAI client metrics of the requests so far, with the SLA's
thresholds among the histogram boundaries and the conventions' version; the opt-in switches
the token metrics to the drafted counters. The terminal shows the live line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from modelmeter.simulate import SimulatorConfig, start_simulator
from tests._lines import wait_for_line

EXAMPLES = Path(__file__).parents[2] / "examples"


def _spec(folder: Path, url: str) -> Path:
    shutil.copy(EXAMPLES / "data" / "prompts.jsonl", folder / "prompts.jsonl")
    spec = {
        "name": "metered",
        "dataset": {"path": "prompts.jsonl", "label_field": None},
        "targets": [
            {"name": "llm", "kind": "openai", "url": url + "/v1", "model": "m", "max_tokens": 6}
        ],
        "load": {"mode": "poisson", "rate_rps": 20, "duration_s": 6, "warmup_s": 0.2},
        "objectives": {"sla": {"p95_ms": 300, "ttft_p95_ms": 130, "itl_p95_ms": 7}},
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _scrape_while_running(spec: Path, tmp_path: Path, env: dict[str, str]) -> tuple[dict, str]:
    command = [sys.executable, "-m", "modelmeter", "run", str(spec), "--no-store"]
    command += ["--out", str(tmp_path / "out"), "--metrics-port", "0"]
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "250", **env},
    ) as process:
        try:
            assert process.stderr is not None
            found = wait_for_line(process.stderr, r"metrics at (http://127\.0\.0\.1:\d+/metrics)")
            rest: list[str] = []
            reader = threading.Thread(target=lambda: rest.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
            reader.start()
            families = _wait_for_requests(found.group(1), process)
            process.wait(timeout=120)
            reader.join(timeout=30)
            assert process.returncode == 0, "".join(rest)
            return families, "".join(rest)
        finally:
            if process.poll() is None:
                process.kill()


def _wait_for_requests(url: str, process: subprocess.Popen[str]) -> dict:
    """The metric families once 40 requests are counted, read while the run goes on."""
    deadline = time.monotonic() + 120
    while True:
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        duration = families.get("gen_ai_client_operation_duration_seconds")
        counts = (
            [s.value for s in duration.samples if s.name.endswith("_count")] if duration else []
        )
        if sum(counts) >= 40:
            return families
        assert process.poll() is None, "the run ended before the metrics showed its requests"
        assert time.monotonic() < deadline
        time.sleep(0.3)


def _boundaries(family: object) -> set[float]:
    return {float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")}  # type: ignore[attr-defined]


@pytest.fixture
def simulator_url() -> object:
    handle = start_simulator(
        SimulatorConfig(model="m", ttft_ms={"mean_ms": 20}, itl_ms={"mean_ms": 2}, output_tokens=6)
    )
    try:
        yield handle.url
    finally:
        handle.stop()


def test_the_running_study_exports_genai_metrics(tmp_path: Path, simulator_url: str) -> None:
    spec = _spec(tmp_path, simulator_url)
    families, stderr = _scrape_while_running(spec, tmp_path, {})
    duration = families["gen_ai_client_operation_duration_seconds"]
    assert {0.3} <= _boundaries(duration)  # p95_ms: 300 is a boundary
    assert 0.13 in _boundaries(families["gen_ai_client_operation_time_to_first_chunk_seconds"])
    assert 0.007 in _boundaries(families["gen_ai_client_operation_time_per_output_chunk_seconds"])
    sample = next(s for s in duration.samples if s.name.endswith("_count"))
    assert sample.labels["gen_ai_request_model"] == "llm"
    assert sample.labels["gen_ai_operation_name"] == "chat"
    tokens = families["gen_ai_client_token_usage"]
    assert {s.labels["gen_ai_token_type"] for s in tokens.samples} == {"input", "output"}
    (info,) = families["modelmeter_semconv_info"].samples
    assert info.labels == {"version": "1.41.0", "opt_in": ""}
    assert "gen_ai_client_inference_usage_output_tokens" not in families
    assert "req/s · ≈" in stderr and "P95" in stderr  # the live line


def test_the_opt_in_switches_to_the_drafted_token_counters(
    tmp_path: Path, simulator_url: str
) -> None:
    spec = _spec(tmp_path, simulator_url)
    opted = {"OTEL_SEMCONV_STABILITY_OPT_IN": "http,gen_ai_latest_experimental"}
    families, _ = _scrape_while_running(spec, tmp_path, opted)
    assert "gen_ai_client_token_usage" not in families
    output = families["gen_ai_client_inference_usage_output_tokens"]
    (total,) = [s for s in output.samples if s.name.endswith("_total")]
    assert total.labels["gen_ai_token_modality"] == "text" and total.value >= 6 * 40
    assert "gen_ai_client_inference_operation_input_tokens" in families
    (info,) = families["modelmeter_semconv_info"].samples
    assert info.labels["opt_in"] == "gen_ai_latest_experimental"
