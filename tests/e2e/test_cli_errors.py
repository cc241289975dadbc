"""The CLI as a user runs it: bad input gets one clear line and exit code 2, never a traceback."""

from __future__ import annotations

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
