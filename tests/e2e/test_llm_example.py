"""The streaming LLM example, as a user runs it: `modelmeter simulate`, then `modelmeter run`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from modelmeter.decide import inconsistencies
from modelmeter.results import Report
from tests.e2e.test_cli_errors import modelmeter

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_llm_example_finds_the_highest_rate_within_the_sla(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    port = _free_port()
    spec = tmp_path / "examples" / "llm-simulate.yaml"
    spec.write_text(
        spec.read_text()
        .replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        .replace("duration_s: 4", "duration_s: 1")
        .replace("max_steps: 10", "max_steps: 6")
    )
    # 4 slots of 64 tokens at 10 ms each: about 6 requests/s fit before the queue grows.
    command = [sys.executable, "-m", "modelmeter", "simulate", "--port", str(port)]
    command += ["--ttft-ms", "50", "--itl-ms", "10", "--output-tokens", "64", "--slots", "4"]
    command += ["--busy-wait-us", "0"]
    simulator = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert simulator.poll() is None, simulator.stderr.read() if simulator.stderr else ""
                assert time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
        result = modelmeter("run", str(spec), "--out", "llm", "--no-store", cwd=tmp_path)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
        if simulator.stderr:
            simulator.stderr.close()
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "llm" / "report.json").read_text())
    model = report["models"][0]
    assert model["quality"] is None  # unlabelled prompts: serving only
    llm = model["load"]["llm"]
    assert llm["token_source"] == {"usage": model["load"]["completed"]}
    assert llm["ttft_ms"]["p50"] >= 50 and llm["itl_ms"]["p50"] >= 5
    series = model["sweep"]
    assert series["kind"] == "sla_search" and series["points"]
    capacity = 4 / (0.050 + 63 * 0.010)  # slots / seconds per request
    if series["best"] is not None:
        assert series["best"]["value"] <= capacity * 1.5
    html = (tmp_path / "llm" / "report.html").read_text()
    assert "TTFT" in html
    parsed = Report.model_validate_json((tmp_path / "llm" / "report.json").read_text())
    assert inconsistencies(parsed) == []
