"""`modelmeter watch` as cron runs it: a baseline run, then one-shot cycles against a simulated
model whose first chunk slows down and recovers; a local receiver gets the Alertmanager-style
notifications (firing, then resolved), the exit codes say what was found, and a receiver that
is down is an error that leaves the state to send again."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelmeter.simulate import SimulatorConfig, SimulatorHandle, start_simulator
from modelmeter.store import RunStore
from tests._alerts import Receiver, receiver_running

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_running() as server:
        yield server


def _simulator(ttft_ms: float, port: int = 0) -> SimulatorHandle:
    config = SimulatorConfig(
        model="watched",
        ttft_ms={"mean_ms": ttft_ms},
        itl_ms={"mean_ms": 1},
        output_tokens=4,
        busy_wait_us=0,
    )
    return start_simulator(config, port=port)


def _spec(folder: Path, url: str) -> Path:
    shutil.copy(EXAMPLES / "data" / "prompts.jsonl", folder / "prompts.jsonl")
    spec = {
        "name": "watched study",
        "seed": 3,
        "dataset": {"path": "prompts.jsonl", "label_field": None},
        "targets": [
            {
                "name": "llm",
                "kind": "openai",
                "url": url + "/v1",
                "model": "watched",
                "max_tokens": 4,
            }
        ],
        "load": {"mode": "poisson", "rate_rps": 10, "duration_s": 4, "warmup_s": 0.3},
        "objectives": {"sla": {"ttft_p95_ms": 100}},
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _cli(*args: str, db: Path, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "MODELMETER_DB": str(db)}
    env.pop("MODELMETER_WEBHOOK_TOKEN", None)
    if token is not None:
        env["MODELMETER_WEBHOOK_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "modelmeter", *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def test_a_slowed_model_fires_then_resolves_through_the_webhook(
    tmp_path: Path, receiver: Receiver
) -> None:
    db = tmp_path / "runs.db"
    fast = _simulator(ttft_ms=5)
    port = fast.port
    spec = _spec(tmp_path, fast.url)
    try:
        done = _cli("run", str(spec), "--out", str(tmp_path / "baseline"), db=db)
        assert done.returncode == 0, done.stdout + done.stderr
        baseline = json.loads((tmp_path / "baseline" / "report.json").read_text())["run_id"]
        watch = ("watch", str(spec), "--baseline", baseline, "--webhook", receiver.url)
        quiet = _cli(*watch, "--out", str(tmp_path / "w"), db=db, token="s3cret")
        assert quiet.returncode == 0, quiet.stdout + quiet.stderr
        # nothing to act on; on a busy host a warning (severity info) may be sent
        assert all(_severities(body) <= {"info"} for body in receiver.bodies), receiver.bodies
    finally:
        fast.stop()
    sent_before = len(receiver.bodies)

    slow = _simulator(ttft_ms=250, port=port)
    try:
        fired = _cli(*watch, "--out", str(tmp_path / "w"), db=db, token="s3cret")
    finally:
        slow.stop()
    assert "Traceback" not in fired.stderr
    assert len(receiver.bodies) == sent_before + 1, fired.stdout + fired.stderr
    body = receiver.bodies[-1]
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["groupLabels"] == {"study": "watched study"}
    firing = _alerts(body, "firing")
    assert "sla" in firing, body
    sla = firing["sla"]
    assert sla["labels"]["alertname"] == "ModelmeterRegression"
    # A ticket (exit 1) when the run paced the target; on a host too busy to pace it, the
    # missed SLA is still sent, as information (the gate cannot call it a regression: exit 0).
    assert sla["labels"]["severity"] in ("ticket", "info")
    assert fired.returncode == (1 if sla["labels"]["severity"] == "ticket" else 0), fired.stdout
    assert sla["endsAt"] == "0001-01-01T00:00:00Z"
    assert "ttft" in sla["annotations"]["description"].lower()
    assert receiver.headers_seen[-1]["authorization"] == "Bearer s3cret"
    assert "s3cret" not in fired.stdout + fired.stderr
    sent_before = len(receiver.bodies)

    again = _simulator(ttft_ms=5, port=port)
    try:
        resolved = _cli(*watch, "--out", str(tmp_path / "w"), db=db)
    finally:
        again.stop()
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    assert len(receiver.bodies) == sent_before + 1
    body = receiver.bodies[-1]
    gone = _alerts(body, "resolved")
    # the SLA is met again, and every ticket of the slow cycle is resolved (a warning, sent as
    # information, may come and go with the machine's load)
    tickets = {check for check, a in firing.items() if a["labels"]["severity"] != "info"}
    assert "sla" in gone and tickets <= set(gone), body
    assert all(a["endsAt"] != "0001-01-01T00:00:00Z" for a in gone.values())
    assert _severities(body) <= {"info"}  # nothing still to act on
    assert "authorization" not in receiver.headers_seen[-1]


def _alerts(body: dict[str, Any], status: str) -> dict[str, dict[str, Any]]:
    """A body's alerts of ``status``, by their check."""
    return {
        a["labels"].get("check", a["labels"]["alertname"]): a
        for a in body["alerts"]
        if a["status"] == status
    }


def _severities(body: dict[str, Any]) -> set[str]:
    return {a["labels"]["severity"] for a in body["alerts"] if a["status"] == "firing"}


def test_a_target_that_is_down_pages_and_a_receiver_that_is_down_is_an_error(
    tmp_path: Path, receiver: Receiver
) -> None:
    db = tmp_path / "runs.db"
    fast = _simulator(ttft_ms=5)
    spec = _spec(tmp_path, fast.url)
    try:
        done = _cli("run", str(spec), "--out", str(tmp_path / "baseline"), db=db)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        fast.stop()
    baseline = json.loads((tmp_path / "baseline" / "report.json").read_text())["run_id"]
    watch = ("watch", str(spec), "--baseline", baseline, "--out", str(tmp_path / "w"))
    closed = receiver.url.replace(str(receiver.server_address[1]), "9")  # discard port: closed
    nobody = _cli(*watch, "--webhook", closed, db=db)
    assert nobody.returncode == 1
    assert "Traceback" not in nobody.stderr
    assert f"webhook {closed}: cannot be reached" in nobody.stderr
    assert "ModelmeterWatchRunFailed" in nobody.stdout
    # not sent, so not remembered: the next cycle sends it
    sent = _cli(*watch, "--webhook", receiver.url, db=db)
    assert sent.returncode == 1
    (body,) = receiver.bodies
    (alert,) = body["alerts"]
    assert alert["labels"] == {
        "alertname": "ModelmeterWatchRunFailed",
        "study": "watched study",
        "severity": "page",
    }
    assert "llm" in alert["annotations"]["description"]


def test_bad_options_are_named(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    spec = _spec(tmp_path, "http://127.0.0.1:9")
    wrong = _cli("watch", str(spec), "--baseline", "nope", db=db)
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    assert "--baseline 'nope'" in wrong.stderr and "Traceback" not in wrong.stderr
    every = _cli("watch", str(spec), "--baseline", "x", "--every", "soon", db=db)
    assert every.returncode == 2 and "'soon' is not an interval" in every.stderr
    current = _cli("watch", str(spec), "--baseline", "x", "--current", "a.jsonl", db=db)
    assert current.returncode == 2 and "needs a --reference" in current.stderr


def _log_rows(
    start_ns: int, count: int, latency_ms: float, rng: random.Random
) -> list[dict[str, Any]]:
    step = 3_000_000_000_000 // count  # spread over 50 minutes
    return [
        {
            "at_ns": start_ns + n * step,
            "request_id": f"r{start_ns}-{n}",
            "route": rng.choice(["chat", "chat", "summarise"]),
            "key_name": None,
            "status": 200,
            "failed": 0,
            "latency_ns": int(rng.gauss(latency_ms, latency_ms / 10) * 1e6),
            "input_tokens": rng.randint(10, 30),
            "output_tokens": 4,
            "cost_pico": None,
            "cache": "miss",
            "request_body": None,
            "response_body": None,
        }
        for n in range(count)
    ]


def test_every_cycle_checks_the_gateways_latest_window_and_repeats_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    db = tmp_path / "runs.db"
    hour = 3_600_000_000_000
    now = time.time_ns()
    rng = random.Random(5)
    store = RunStore(str(db))
    try:  # the hour before the last: 40 ms answers; the last hour: 60 ms
        store.append_gateway_log(_log_rows(now - 2 * hour + 60_000_000_000, 300, 40, rng), 10_000)
        store.append_gateway_log(_log_rows(now - hour + 60_000_000_000, 300, 60, rng), 10_000)
    finally:
        store.close()
    fast = _simulator(ttft_ms=5)
    spec = _spec(tmp_path, fast.url)
    try:
        done = _cli("run", str(spec), "--out", str(tmp_path / "baseline"), db=db)
        assert done.returncode == 0, done.stdout + done.stderr
        baseline = json.loads((tmp_path / "baseline" / "report.json").read_text())["run_id"]
        watched = _cli(
            "watch", str(spec), "--baseline", baseline, "--out", str(tmp_path / "w"),
            "--webhook", receiver.url, "--current", "gateway", "--window", "1h",
            "--every", "1s", "--times", "2", db=db,
        )  # fmt: skip
    finally:
        fast.stop()
    assert watched.returncode == 1, watched.stdout + watched.stderr
    assert watched.stdout.count("drift in the gateway's last 1 h against the 1 h before") == 2
    assert "watch cycle 2" in watched.stderr
    (body,) = receiver.bodies  # the second cycle found the same: nothing new to send
    drifted = {a["labels"].get("column") for a in body["alerts"]}
    assert "latency_ms" in drifted and "status" not in drifted
    assert len(list((tmp_path / "w").iterdir())) == 2
