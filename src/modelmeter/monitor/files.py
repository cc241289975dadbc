"""The files ``modelmeter monitor`` writes, and Prometheus's own checks of them."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelmeter.monitor.alertmanager import alertmanager_config
from modelmeter.monitor.dashboard import dashboard
from modelmeter.monitor.rule_tests import Scenario, rule_tests
from modelmeter.monitor.rules import rule_groups
from modelmeter.monitor.slos import Slo, budget_slo, slos_from_sla, unwatched
from modelmeter.monitor.sources import Source
from modelmeter.spec.objectives import Sla

__all__ = [
    "ALERTMANAGER",
    "DASHBOARD",
    "RULES",
    "TESTS",
    "MonitorFiles",
    "monitoring_files",
    "promtool",
]

RULES = "rules.yml"
TESTS = "rules.test.yml"
DASHBOARD = "dashboard.json"
ALERTMANAGER = "alertmanager.yml"


@dataclass
class MonitorFiles:
    slos: list[Slo]
    unwatched: list[str]  # limits of the SLA these files do not watch, with why
    rules: str  # YAML text
    tests: str
    scenarios: dict[str, list[Scenario]]
    dashboard: dict[str, Any] = field(default_factory=dict)  # Grafana's classic JSON
    alertmanager: str = ""  # YAML text

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        board = json.dumps(self.dashboard, indent=2) + "\n" if self.dashboard else ""
        for name, text in (
            (RULES, self.rules),
            (TESTS, self.tests),
            (DASHBOARD, board),
            (ALERTMANAGER, self.alertmanager),
        ):
            if not text:
                continue
            path = folder / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written


def _yaml(content: object, header: str) -> str:
    body = yaml.safe_dump(content, sort_keys=False, width=100, allow_unicode=True)
    return header + body


def monitoring_files(
    sla: Sla,
    source: Source,
    *,
    spec_name: str = "",
    time_scale: float = 1.0,
    budget: tuple[float, str] | None = None,
) -> MonitorFiles:
    """The rules and their tests for ``sla`` on ``source``'s metrics; ValueError when the SLA
    sets nothing that can be watched, or a limit ``source`` cannot express. ``time_scale``
    below 1 shrinks every window, to try the alerts on a live server in minutes (the tests are
    then not written: they are for the real windows)."""
    slos = slos_from_sla(sla, source)
    skipped = unwatched(sla, source)
    if budget is not None:
        if source.spend is None:
            skipped.append(f"monthly_budget: not watched ({source.name} exports no spend)")
        else:
            slos.append(budget_slo(budget[0], budget[1], source))
    if not slos:
        raise ValueError(
            "the spec sets none of objectives.sla's max_error_rate, p95_ms, p99_ms, "
            "ttft_p95_ms nor a watched economics.monthly_budget: there is nothing to alert on"
        )
    made = (
        f"# Made by modelmeter monitor from {spec_name or 'a spec'} for {source.name}'s metrics.\n"
    )
    notes = "".join(f"# {slo.name}: {slo.note}\n" for slo in slos if slo.note)
    notes += "".join(f"# {line}\n" for line in skipped)
    if time_scale != 1.0:
        made += f"# Every window shrunk {1 / time_scale:g} times, to try the alerts quickly.\n"
    tests, scenarios = rule_tests(slos, source, RULES)
    routes = (
        "# An example to adapt: replace the two webhook URLs with your pager and ticket queue.\n"
        "# Check it with: amtool check-config " + ALERTMANAGER + "\n"
    )
    return MonitorFiles(
        slos,
        skipped,
        _yaml(rule_groups(slos, source, time_scale), made + notes),
        _yaml(tests, made + "# promtool test rules " + TESTS + "\n") if time_scale == 1 else "",
        scenarios,
        dashboard(slos, source, title=f"{spec_name or 'modelmeter'}: objectives on {source.name}"),
        _yaml(alertmanager_config(), made + routes),
    )


def amtool(folder: Path, executable: str | None = None) -> tuple[str, bool, str] | None:
    """``amtool check-config`` on the Alertmanager example: (command, passed, output); None
    when amtool (Debian: prometheus-alertmanager) is not installed."""
    tool = executable or shutil.which("amtool")
    if tool is None or not (folder / ALERTMANAGER).is_file():
        return None
    done = subprocess.run(
        [tool, "check-config", ALERTMANAGER],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return f"amtool check-config {ALERTMANAGER}", done.returncode == 0, done.stdout + done.stderr


def promtool(folder: Path, executable: str | None = None) -> list[tuple[str, bool, str]] | None:
    """``promtool check rules`` and ``promtool test rules`` on the files in ``folder``:
    (command, passed, output) each; None when promtool is not installed."""
    tool = executable or shutil.which("promtool")
    if tool is None:
        return None
    results = []
    for args in (["check", "rules", RULES], ["test", "rules", TESTS]):
        if not (folder / args[2]).is_file():
            continue
        done = subprocess.run(
            [tool, *args], cwd=folder, capture_output=True, text=True, timeout=300, check=False
        )
        results.append(
            (" ".join(["promtool", *args]), done.returncode == 0, done.stdout + done.stderr)
        )
    return results
