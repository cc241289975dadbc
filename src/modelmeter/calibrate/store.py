"""The calibrated ceiling of this host, stored per host in the user's data folder."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Calibration:
    requests_per_s: float
    cpu_us_per_request: float
    stream_events_per_s: float
    connections: int
    duration_s: float
    measured_at: str
    host: str
    python: str
    server_core: int | None
    client_core: int | None


def calibration_path() -> Path:
    return Path(platformdirs.user_data_dir("modelmeter", appauthor=False)) / "calibration.json"


def load_calibration(path: Path | None = None) -> Calibration | None:
    """The stored ceiling of this host, or None when `modelmeter calibrate` never ran here."""
    path = path or calibration_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        stored = Calibration(**data)
    except (OSError, ValueError, TypeError):
        return None
    return stored if stored.host == platform.node() else None


def save_calibration(calibration: Calibration, path: Path | None = None) -> Path:
    path = path or calibration_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(calibration), indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return path
