"""The CLI as a user runs it: bad input gets one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


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
