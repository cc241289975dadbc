"""A real Prometheus server for a test: Debian's ``prometheus`` on a port of its own, scraping
127.0.0.1 targets every second with the rules given, its data in a temporary folder."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests._system import require


def _free_port() -> int:
    # Prometheus cannot report a port it picked itself; the race with another process taking
    # this one in between is the test's to lose, not the product's.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def prometheus_server(
    targets: list[str], rules: Path, alertmanager: str | None = None
) -> Iterator[str]:
    """Prometheus scraping ``targets`` (host:port) each second, evaluating ``rules`` each
    second, sending alerts to ``alertmanager`` (its URL) when given; its URL."""
    executable = require("prometheus", "prometheus")
    folder = Path(tempfile.mkdtemp(prefix="mm-prometheus-", dir="/tmp"))
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "modelmeter", "static_configs": [{"targets": targets}]}],
    }
    if alertmanager is not None:
        where = alertmanager.removeprefix("http://")
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [where]}]}]}
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    command = [
        executable,
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with _daemon(command, folder, f"http://127.0.0.1:{port}") as url:
        yield url


@contextmanager
def alertmanager_server(config: Path) -> Iterator[str]:
    """Debian's Alertmanager on ``config``, on a port of its own with clustering off; its URL."""
    executable = require("prometheus-alertmanager", "prometheus-alertmanager")
    folder = Path(tempfile.mkdtemp(prefix="mm-alertmanager-", dir="/tmp"))
    port = _free_port()
    command = [
        executable,
        f"--config.file={config}",
        f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    with _daemon(command, folder, f"http://127.0.0.1:{port}") as url:
        yield url


@contextmanager
def _daemon(command: list[str], folder: Path, url: str) -> Iterator[str]:
    """Run ``command`` (its log in ``folder``) until its /-/ready answers; stop it after."""
    name = Path(command[0]).name
    log = open(folder / "daemon.log", "w")  # noqa: SIM115 (closed when it stops)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"{name} exited: " + (folder / "daemon.log").read_text()[-2000:]
                )
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} was not ready within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def api(url: str, path: str) -> Any:
    with urllib.request.urlopen(url + path, timeout=10) as answer:
        return json.loads(answer.read())["data"]


def spec_with_sla(folder: Path, sla: str) -> Path:
    """A spec (and its one-row dataset) in ``folder`` whose objectives.sla is ``sla``."""
    (folder / "data.jsonl").write_text('{"text": "hi", "label": "a"}\n')
    spec = folder / "spec.yaml"
    spec.write_text(
        "name: watched\n"
        "dataset: {path: data.jsonl, input_field: text, label_field: label}\n"
        "targets:\n"
        "  - {name: m, kind: oip, url: 'http://127.0.0.1:9', model: m}\n"
        f"objectives: {{sla: {sla}}}\n"
    )
    return spec
