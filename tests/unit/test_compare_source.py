"""read_report: a report.json from disk, and clear errors for files that are not one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelmeter.compare import CompareError, read_report
from tests.unit.test_compare_builders import regression_pair


def test_reads_a_file_and_a_report_folder(tmp_path: Path) -> None:
    baseline, _ = regression_pair()
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "report.json").write_text(baseline.model_dump_json(indent=2), encoding="utf-8")
    assert read_report(folder / "report.json") == baseline
    assert read_report(folder) == baseline


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CompareError) as caught:
        read_report(tmp_path / "nope.json")
    assert str(caught.value).startswith(f"{tmp_path / 'nope.json'}: no such file")
    assert "modelmeter runs list" in str(caught.value)


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"run_id": ', encoding="utf-8")
    with pytest.raises(CompareError, match=r"report\.json: not valid JSON"):
        read_report(path)


def test_wrong_fields_name_their_path(tmp_path: Path) -> None:
    baseline, _ = regression_pair()
    data = json.loads(baseline.model_dump_json())
    del data["models"][0]["sla"]
    data["models"][0]["items"]["correct"][3] = "maybe"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CompareError) as caught:
        read_report(path)
    message = str(caught.value)
    assert "not a modelmeter report.json" in message
    assert "models[0].sla: Field required" in message
    assert "models[0].items.correct[3]:" in message


def test_binary_file_and_newer_schema(tmp_path: Path) -> None:
    binary = tmp_path / "model.onnx"
    binary.write_bytes(b"\x80\x81\xfe\xff" * 8)
    with pytest.raises(CompareError, match=r"model\.onnx: not a text file"):
        read_report(binary)
    baseline, _ = regression_pair()
    data = json.loads(baseline.model_dump_json())
    data["schema_version"] = 99
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CompareError, match=r"schema_version 99 is newer"):
        read_report(newer)
