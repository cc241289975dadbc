"""The CLI as a user runs it: bad input gets one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def modelmeter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelmeter", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_bad_spec_field_exit_2(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"text": "hi", "label": "greet"}\n', encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: s\ndataset: {path: d.jsonl}\ntargets:\n"
        "  - {name: a, kind: oip, url: http://127.0.0.1:1, model: a, timeout_s: -1}\n",
        encoding="utf-8",
    )
    result = modelmeter("run", str(spec), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "targets[0].oip.timeout_s" in result.stderr and "line 4" in result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_dataset_row_exit_2_names_line(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text(
        '{"text": "hi", "label": "greet"}\n{"text": "yo"}\n', encoding="utf-8"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: s\ndataset: {path: d.jsonl}\ntargets:\n"
        "  - {name: a, kind: oip, url: http://127.0.0.1:1, model: a}\n",
        encoding="utf-8",
    )
    result = modelmeter("run", str(spec), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "d.jsonl:2: missing field 'label'" in result.stderr.replace("\n", "")
    assert not (tmp_path / "out").exists()


_BOMB = "".join(
    f"      {name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['lol'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
)


@pytest.mark.parametrize(
    ("url", "body", "dataset", "expected"),
    [
        # A port typo: found when the spec is read, not as a traceback at the first request.
        (
            "http://127.0.0.1:80800/",
            "",
            b'{"text": "hi", "label": "greet"}\n',
            "line 6, targets[0].http.url: has port '80800'; a port is a number from 1 to 65535",
        ),
        # A key in the URL: refused, and the message does not repeat it.
        (
            "http://user:s3cret@127.0.0.1:8000/",
            "",
            b'{"text": "hi", "label": "greet"}\n',
            "must not carry a user name or key before the host (user:key@host)",
        ),
        # A 570-byte alias bomb in body: refused when read, not expanded at the first request.
        (
            "http://127.0.0.1:8000/",
            "    body:\n" + _BOMB,
            b'{"text": "hi", "label": "greet"}\n',
            "the file holds more than 100,000 values",
        ),
        # A dataset in Latin-1: the line and the byte where it stops being UTF-8.
        (
            "http://127.0.0.1:8000/",
            "",
            b'{"text": "hi", "label": "greet"}\n{"text": "h\xe9", "label": "x"}\n',
            "d.jsonl:2: not UTF-8 text at byte 44 (byte 0xe9: invalid continuation byte)",
        ),
    ],
    ids=["port-typo", "key-in-url", "alias-bomb", "latin-1"],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, url: str, body: str, dataset: bytes, expected: str
) -> None:
    (tmp_path / "d.jsonl").write_bytes(dataset)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: s\ndataset: {path: d.jsonl}\ntargets:\n"
        f"  - name: a\n    kind: http\n    url: '{url}'\n{body}",
        encoding="utf-8",
    )
    result = modelmeter("run", str(spec), "--out", "out", "--no-store", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in " ".join(result.stderr.split())
    assert "s3cret" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_a_csv_cell_longer_than_128_kib_is_read(tmp_path: Path) -> None:
    # A long document in one cell: the csv module's default limit refused it with a traceback.
    document = "word " * 60_000
    (tmp_path / "d.csv").write_text(f'text,label\n"{document}",long\nhi,short\n', "utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: s\ndataset: {path: d.csv}\ntargets:\n"
        "  - {name: a, kind: http, url: 'http://127.0.0.1:8000/'}\n",
        encoding="utf-8",
    )
    result = modelmeter("run", str(spec), "--check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ready to run: 2 items" in " ".join((result.stdout + result.stderr).split())


def test_unknown_run_id_and_version(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.sqlite3")
    result = modelmeter("report", "nope", "--db", db, cwd=tmp_path)
    assert result.returncode == 1 and "no run 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    listed = modelmeter("runs", "list", "--db", db, cwd=tmp_path)
    assert listed.returncode == 0 and "no runs" in listed.stderr
    version = modelmeter("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("modelmeter ")


def _echo_study(tmp_path: Path) -> Path:
    """A study of an in-process target that answers each text with itself."""
    (tmp_path / "echo_model.py").write_text("def label(text):\n    return text\n", "utf-8")
    (tmp_path / "d.jsonl").write_text(
        '{"text": "hi", "label": "hi"}\n{"text": "yo", "label": "greet"}\n', encoding="utf-8"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: s\ndataset: {path: d.jsonl}\ntargets:\n"
        "  - {name: echo, kind: python, function: 'echo_model:label'}\n"
        "load: {mode: concurrency, concurrency: 1, duration_s: 0.2, warmup_s: 0}\n",
        encoding="utf-8",
    )
    return spec


def test_an_out_that_is_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    spec = _echo_study(tmp_path)
    (tmp_path / "taken").write_text("not a folder", encoding="utf-8")
    db = str(tmp_path / "runs.sqlite3")
    result = modelmeter("run", str(spec), "--out", "taken/report", "--db", db, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "--out" in message and "is a file" in message
    listed = modelmeter("runs", "list", "--db", db, cwd=tmp_path)
    assert "no runs" in listed.stderr  # refused before anything was measured or stored


def test_a_report_that_cannot_be_written_leaves_the_run_stored(tmp_path: Path) -> None:
    spec = _echo_study(tmp_path)
    out = tmp_path / "out"
    (out / "report.html").mkdir(parents=True)  # a folder where the report's file must go
    db = str(tmp_path / "runs.sqlite3")
    result = modelmeter("run", str(spec), "--out", str(out), "--db", db, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "cannot write the report" in message
    found = re.search(r"modelmeter report (\S+) --out", message)
    assert found, message
    listed = modelmeter("runs", "list", "--db", db, cwd=tmp_path)
    assert listed.returncode == 0 and found.group(1) in " ".join(listed.stdout.split())


def test_a_target_that_cannot_be_built_stops_the_run_before_any_is_measured(
    tmp_path: Path,
) -> None:
    spec = _echo_study(tmp_path)
    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "load:",
            "  - {name: gone, kind: python, function: 'no_such_module:label'}\n"
            "  - {name: text, kind: python, model_path: d.jsonl}\nload:",
        ),
        encoding="utf-8",
    )
    db = str(tmp_path / "runs.sqlite3")
    result = modelmeter("run", str(spec), "--out", "out", "--db", db, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "targets.gone.function" in message and "no_such_module" in message
    assert "echo: quality pass" not in message  # the first target was not measured
    assert "no runs" in modelmeter("runs", "list", "--db", db, cwd=tmp_path).stderr
    # --check finds the same without a run; a model file of the wrong kind is found too.
    checked = modelmeter("run", str(spec), "--check", cwd=tmp_path)
    assert checked.returncode == 2 and "targets.gone.function" in checked.stderr
    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "  - {name: gone, kind: python, function: 'no_such_module:label'}\n", ""
        ),
        encoding="utf-8",
    )
    checked = modelmeter("run", str(spec), "--check", cwd=tmp_path)
    assert checked.returncode == 2, checked.stderr
    assert "targets.text.model_path" in " ".join(checked.stderr.split())


def test_check_builds_every_target_and_sends_nothing(tmp_path: Path) -> None:
    spec = _echo_study(tmp_path)
    result = modelmeter("run", str(spec), "--check", "--out", "never", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    message = " ".join(result.stderr.split())
    assert "ready to run: 2 items; targets echo (python) built; nothing was sent" in message
    assert not (tmp_path / "never").exists()


class _Refusing(BaseHTTPRequestHandler):
    """/key answers 401 with a JSON error; /shape answers 200 without the label field."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = (
            (401, b'{"error": {"message": "Invalid API key"}}')
            if self.path == "/key"
            else (200, b'{"result": {"class": "greet"}}')
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_targets_that_refuse_the_preflight_stop_the_run_with_one_line_each(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        (tmp_path / "d.jsonl").write_text('{"text": "hi", "label": "greet"}\n', encoding="utf-8")
        spec = tmp_path / "spec.yaml"
        spec.write_text(
            "name: s\ndataset: {path: d.jsonl}\ntargets:\n"
            f"  - {{name: keyed, kind: http, url: 'http://127.0.0.1:{port}/key'}}\n"
            f"  - {{name: shaped, kind: http, url: 'http://127.0.0.1:{port}/shape', "
            "response_path: label}\n"
            "load: {mode: concurrency, concurrency: 1, duration_s: 1}\n",
            encoding="utf-8",
        )
        started = time.monotonic()
        result = modelmeter("run", str(spec), "--out", "out", "--no-store", cwd=tmp_path)
        took = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    err = " ".join(result.stderr.split())
    assert "2 targets did not answer the preflight request (nothing was measured" in err
    assert (
        f"target 'keyed' at http://127.0.0.1:{port}/key: HTTP 401, body: "
        '{"error": {"message": "Invalid API key"}}' in err
    )
    assert f"target 'shaped' at http://127.0.0.1:{port}/shape: protocol: " in err
    assert "label" in err.split("target 'shaped'")[1]
    assert not (tmp_path / "out").exists()
    assert took < 60  # seconds, not a full run of errors (a loose bound: CI may be busy)


def test_a_run_with_too_many_errors_writes_its_report_and_exits_1(tmp_path: Path) -> None:
    # A model that fails on 3 of every 10 inputs: 30% of the load phase's requests fail.
    (tmp_path / "flaky_model.py").write_text(
        "def answer(text):\n"
        "    if text.startswith('bad'):\n"
        "        raise ValueError('cannot read ' + text)\n"
        "    return 'ok'\n",
        encoding="utf-8",
    )
    rows = [
        f'{{"text": "{"bad" if i % 10 < 3 else "good"} {i}", "label": "ok"}}' for i in range(10)
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(rows[3:] + rows[:3]) + "\n", encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: s\ndataset: {path: d.jsonl}\ntargets:\n"
        "  - {name: flaky, kind: python, function: 'flaky_model:answer'}\n"
        "load: {mode: concurrency, concurrency: 1, duration_s: 0.5}\n",
        encoding="utf-8",
    )
    result = modelmeter("run", str(spec), "--out", "out", "--no-store", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out" / "report.json").is_file()
    err = " ".join(result.stderr.split())
    assert "flaky: " in err and "above the 5% allowed by --max-error-rate" in err
    assert "model; e.g. " in err and "cannot read bad" in err
    looser = modelmeter(
        "run", str(spec), "--out", "out2", "--no-store", "--max-error-rate", "0.5", cwd=tmp_path
    )
    assert looser.returncode == 0, looser.stderr
