"""A third-party target kind, installed as a distribution with a ``modelmeter.targets`` entry
point, measured from a YAML spec like any built-in kind, its settings validated by its own model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGIN = '''
"""An in-process target that answers a fixed reply, or echoes the input."""

from typing import Literal

from modelmeter import Prediction
from modelmeter.spec import TargetKind, TargetSettings


class EchoSettings(TargetSettings):
    kind: Literal["echo"]
    reply: str | None = None
    shout: bool = False


class EchoTarget:
    kind = "echo"

    def __init__(self, settings: EchoSettings) -> None:
        self.name = settings.name
        self._settings = settings

    async def start(self) -> None:
        pass

    async def predict(self, sample):
        text = self._settings.reply or sample.input
        return Prediction(label=text.upper() if self._settings.shout else text)

    async def close(self) -> None:
        pass


class HostedSettings(TargetSettings):
    kind: Literal["hosted"]


KIND = TargetKind("echo", EchoSettings, EchoTarget)
# A kind whose SDK is imported only when a target of it is built, and is not installed here.
HOSTED = TargetKind(
    "hosted", HostedSettings, "hosted_sdk_not_installed:build", install_hint="pip install hosted"
)
'''


def _install_plugin(tmp_path: Path) -> Path:
    """Lay the plugin out as an installed distribution (a module and its dist-info) in a
    folder of its own, returned for PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "echo_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "echo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: echo-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[modelmeter.targets]\necho = echo_plugin:KIND\nhosted = echo_plugin:HOSTED\n"
        "broken = echo_plugin_gone:KIND\n",
        encoding="utf-8",
    )
    return site


def _run(spec: Path, tmp_path: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "MODELMETER_DB": str(tmp_path / "runs.sqlite3"),
    }
    return subprocess.run(
        [sys.executable, "-m", "modelmeter", "run", str(spec), "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _spec(tmp_path: Path, targets: str) -> Path:
    rows = [("billing", "billing"), ("refund", "refund"), ("hello", "greeting")]
    (tmp_path / "d.jsonl").write_text(
        "".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in rows),
        encoding="utf-8",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: plugin study\ndataset: {path: d.jsonl}\ntargets:\n"
        + targets
        + "load: {mode: concurrency, concurrency: 1, duration_s: 0.3, warmup_s: 0}\n",
        encoding="utf-8",
    )
    return spec


def test_an_entry_point_kind_runs_from_a_spec(tmp_path: Path) -> None:
    site = _install_plugin(tmp_path)
    spec = _spec(
        tmp_path,
        "  - {name: parrot, kind: echo}\n  - {name: fixed, kind: echo, reply: billing}\n",
    )
    result = _run(spec, tmp_path, site)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    models = {model["name"]: model for model in report["models"]}
    assert models["parrot"]["target_kind"] == "echo"
    # The echo answers the input: right on the two items whose label is their text.
    assert models["parrot"]["quality"]["accuracy"] == 2 / 3
    assert models["fixed"]["quality"]["accuracy"] == 1 / 3
    assert models["parrot"]["load"]["requests"] > 0


def test_a_plugin_kind_is_validated_by_its_own_model(tmp_path: Path) -> None:
    site = _install_plugin(tmp_path)
    spec = _spec(tmp_path, "  - {name: parrot, kind: echo, shout: maybe}\n")
    result = _run(spec, tmp_path, site)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "line 4" in result.stderr and "targets[0].echo.shout" in result.stderr
    assert not (tmp_path / "out").exists()


def test_without_the_plugin_the_kind_is_unknown_and_the_known_ones_are_listed(
    tmp_path: Path,
) -> None:
    spec = _spec(tmp_path, "  - {name: parrot, kind: echo}\n")
    result = _run(spec, tmp_path, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "'echo'" in result.stderr and "'openai'" in result.stderr


def test_a_kind_whose_sdk_is_missing_says_what_to_install(tmp_path: Path) -> None:
    site = _install_plugin(tmp_path)
    spec = _spec(tmp_path, "  - {name: remote, kind: hosted}\n")
    result = _run(spec, tmp_path, site)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "target kind 'hosted' needs hosted_sdk_not_installed" in message
    assert "pip install hosted" in message


def test_a_plugin_that_cannot_load_is_named_when_a_spec_uses_its_kind(tmp_path: Path) -> None:
    site = _install_plugin(tmp_path)
    spec = _spec(tmp_path, "  - {name: b, kind: broken}\n")
    result = _run(spec, tmp_path, site)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "target kind 'broken' is installed but its plugin could not be loaded" in message
    assert "echo_plugin_gone" in message
