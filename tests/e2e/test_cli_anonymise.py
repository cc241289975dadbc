"""`modelmeter anonymise` as a user runs it: no identifier of the input is left in the output
(searched for, value by value), pseudonyms agree across rows, the counts are by kind and
never show a value, and the errors say what to fix."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.unit.test_privacy import FOUND

KEY = "a secret key for the tests, 32 b"


def _run(*args: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("MODELMETER_PSEUDONYM_KEY", None)
    if key is not None:
        env["MODELMETER_PSEUDONYM_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "modelmeter", "anonymise", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


def test_no_identifier_survives_and_pseudonyms_agree(tmp_path: Path) -> None:
    source, target = tmp_path / "log.jsonl", tmp_path / "clean.jsonl"
    with source.open("w") as out:
        for n, (_kind, value) in enumerate(FOUND):
            row = {
                "id": n,
                "messages": [{"role": "user", "content": f"my details: {value}, thanks"}],
                "note": f"again {value}",
            }
            out.write(json.dumps(row) + "\n")
    done = _run(str(source), str(target), "--operator", "pseudonym")
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    for _kind, value in FOUND:
        assert value not in text, value
        assert value not in done.stdout + done.stderr
    rows = [json.loads(line) for line in text.splitlines()]
    assert [row["id"] for row in rows] == list(range(len(FOUND)))
    for row, (kind, _value) in zip(rows, FOUND, strict=True):
        first = re.findall(rf"<{kind}_[0-9a-f]{{8}}>", row["messages"][0]["content"])
        again = re.findall(rf"<{kind}_[0-9a-f]{{8}}>", row["note"])
        assert first == again and len(first) == 1, row
    assert f"wrote {target}: {len(FOUND)} rows, {2 * len(FOUND)} values replaced" in done.stdout
    assert "EMAIL" in done.stdout and KEY not in done.stdout + done.stderr


def test_csv_fields_and_errors(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    with source.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["who", "ip"])
        writer.writerow(["jane@example.com", "10.0.0.1"])
    done = _run(str(source), str(target), "--fields", "ip", key=None)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(target.read_text().splitlines()))
    assert rows == [["who", "ip"], ["jane@example.com", "<IP_ADDRESS>"]]
    no_key = _run(str(source), str(target), "--operator", "pseudonym", key=None)
    assert no_key.returncode == 2 and "MODELMETER_PSEUDONYM_KEY" in no_key.stderr
    same = _run(str(source), str(source))
    assert same.returncode == 2 and "another file than IN" in same.stderr
    field = _run(str(source), str(target), "--fields", "phone")
    assert field.returncode == 2 and "no field(s) phone" in field.stderr
    assert "Traceback" not in no_key.stderr + same.stderr + field.stderr
