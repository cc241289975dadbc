"""`modelmeter simulate` run as a user runs it: it serves until interrupted, then says so."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from modelmeter.simulate import RequestTiming
from tests._lines import wait_for_line

# The lead registers the command in the application; until then this builds the same app.
SCRIPT = """
import sys, typer
from modelmeter.cli.simulate import register
app = typer.Typer()
@app.callback()
def _root() -> None: ...
register(app)
app(sys.argv[1:])
"""


def test_the_command_serves_logs_timings_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    log = tmp_path / "timings.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SCRIPT,
            "simulate",
            "--port",
            "0",
            "--ttft-ms",
            "5",
            "--itl-ms",
            "1",
            "--output-tokens",
            "4",
            "--timings-log",
            str(log),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stderr is not None
        match = wait_for_line(process.stderr, r"http://127\.0\.0\.1:(\d+)")
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=30)
        body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
        connection.request("POST", "/v1/chat/completions", json.dumps(body))
        response = connection.getresponse()
        assert response.status == 200
        assert response.read().endswith(b"data: [DONE]\n\n")
        connection.close()
        time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)

    assert process.returncode == 0, err
    assert "Stopped." in err
    assert "Traceback" not in err
    (line,) = log.read_text().splitlines()
    timing = RequestTiming.from_json(json.loads(line))
    assert timing.output_tokens == 4
    assert [c.kind for c in timing.token_chunks] == ["content"] * 4


def test_a_host_other_than_loopback_is_warned_about_and_an_unusable_one_fails() -> None:
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: the warning, then exit code 1.
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, "simulate", "--port", "0", "--host", "192.0.2.1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )

    assert result.returncode == 1, result.stderr
    assert "no authentication" in result.stderr
    assert "cannot listen on 192.0.2.1:0" in result.stderr
    assert "Traceback" not in result.stderr
