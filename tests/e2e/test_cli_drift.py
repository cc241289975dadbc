"""`modelmeter drift` as a user runs it: JSONL against CSV, the table, the JSON, the errors."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelmeter", "drift", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


def test_a_changed_column_is_found_between_jsonl_and_csv(tmp_path: Path) -> None:
    rng = random.Random(4)
    reference = tmp_path / "reference.jsonl"
    with reference.open("w") as out:
        for _ in range(3000):
            row = {"latency": rng.gauss(100, 10), "language": rng.choice(["en", "fr"])}
            out.write(json.dumps(row) + "\n")
    current = tmp_path / "current.csv"
    with current.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["latency", "language"])
        for n in range(3000):
            writer.writerow([rng.gauss(110, 10), rng.choice(["en", "fr"]) if n % 10 else ""])
    done = _run(str(reference), str(current), "--json", str(tmp_path / "drift.json"))
    assert done.returncode == 0, done.stderr
    assert "1 of 2 columns drifted: latency" in done.stdout
    written = json.loads((tmp_path / "drift.json").read_text())
    by_column = {c["column"]: c for c in written["columns"]}
    assert by_column["latency"]["drifted"] and by_column["latency"]["kind"] == "numeric"
    assert not by_column["language"]["drifted"]
    assert by_column["language"]["missing_current"] == pytest.approx(0.1)  # empty CSV cells


def test_bad_input_is_named(tmp_path: Path) -> None:
    good = tmp_path / "a.jsonl"
    good.write_text('{"x": 1}\n{"x": 2}\n')
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"x": 1}\n{"x": \n')
    done = _run(str(good), str(broken))
    assert done.returncode == 2 and "b.jsonl:2" in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr
    other = tmp_path / "c.jsonl"
    other.write_text('{"y": 1}\n{"y": 2}\n')
    done = _run(str(good), str(other))
    assert done.returncode == 2 and "share no column" in done.stderr
    done = _run(str(good), str(good), "--columns", "x,z")
    assert done.returncode == 2 and "'z' is not in the reference data" in done.stderr
