"""`calibrate` drives the built-in loopback server and stores the ceiling per host."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from modelmeter.calibrate.measure import calibrate
from modelmeter.calibrate.store import load_calibration, save_calibration


def test_calibration_measures_requests_and_streams(tmp_path: Path) -> None:
    result = calibrate(connections=4, duration_s=0.5)
    assert result.requests_per_s > 0 and result.stream_events_per_s > 0
    assert result.cpu_us_per_request > 0
    path = save_calibration(result, tmp_path / "calibration.json")
    assert load_calibration(path) == result
    other_host = dataclasses.replace(result, host=result.host + "-elsewhere")
    save_calibration(other_host, path)
    assert load_calibration(path) is None  # a ceiling measured elsewhere says nothing here
    path.write_text("{not json", encoding="utf-8")
    assert load_calibration(path) is None
