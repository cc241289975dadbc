"""`modelmeter monitor` as a user runs it, and Prometheus's own promtool on what it writes: the
rules load, every generated unit test passes, and a rule made wrong makes them fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from modelmeter.monitor import SOURCES, amtool, monitoring_files, promtool
from modelmeter.spec.objectives import Sla
from tests._prometheus import spec_with_sla
from tests._system import require


def test_the_command_writes_rules_that_promtool_loads_and_whose_tests_pass(
    tmp_path: Path,
) -> None:
    require("promtool", "prometheus")
    require("amtool", "prometheus-alertmanager")
    spec = spec_with_sla(
        tmp_path, "{max_error_rate: 0.01, p95_ms: 250, p99_ms: 1000, ttft_p95_ms: 300}"
    )
    out = tmp_path / "monitoring"
    done = subprocess.run(
        [sys.executable, "-m", "modelmeter", "monitor", str(spec), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "promtool check rules rules.yml: passed" in done.stdout
    assert "promtool test rules rules.test.yml: passed" in done.stdout
    assert "after 9 min" in done.stdout  # a total outage pages in 9 minutes on a 1% budget
    assert "300 ms is not a bucket boundary" in done.stderr
    assert "amtool check-config alertmanager.yml: passed" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "alertmanager.yml",
        "dashboard.json",
        "rules.test.yml",
        "rules.yml",
    ]


def test_amtool_refuses_a_broken_route(tmp_path: Path) -> None:
    """The check is not decoration either: a route to a receiver that is not defined fails."""
    executable = require("amtool", "prometheus-alertmanager")
    files = monitoring_files(Sla(max_error_rate=0.01), SOURCES["gateway"])
    files.write(tmp_path)
    passed = amtool(tmp_path, executable)
    assert passed is not None and passed[:2] == ("amtool check-config alertmanager.yml", True)
    text = (tmp_path / "alertmanager.yml").read_text()
    (tmp_path / "alertmanager.yml").write_text(
        text.replace("receiver: modelmeter-page", "receiver: pager")
    )
    checked = amtool(tmp_path, executable)
    assert checked is not None and not checked[1]
    assert "pager" in checked[2]


def test_a_wrong_rule_fails_the_generated_tests(tmp_path: Path) -> None:
    """The tests are not decoration: an alert ten times slower to fire is caught."""
    executable = require("promtool", "prometheus")
    files = monitoring_files(Sla(max_error_rate=0.01), SOURCES["gateway"])
    files.write(tmp_path)
    rules = (tmp_path / "rules.yml").read_text()
    assert "> 0.144" in rules
    (tmp_path / "rules.yml").write_text(rules.replace("> 0.144", "> 1.44"))
    results = promtool(tmp_path, executable)
    assert results is not None
    (_, loaded, _), (_, passed, output) = results
    assert loaded  # still valid rules
    assert not passed and "ModelmeterSLOBurn" in output


def test_a_monthly_budget_becomes_a_spend_burn_that_promtool_proves(tmp_path: Path) -> None:
    """economics.monthly_budget on the gateway: a runaway at 20 times the budget's even rate
    pages within the hour's arithmetic, twice the rate opens a ticket, and a trickle stays
    silent (the generated tests, run by promtool)."""
    executable = require("promtool", "prometheus")
    files = monitoring_files(Sla(max_error_rate=0.01), SOURCES["gateway"], budget=(500.0, "USD"))
    assert [slo.name for slo in files.slos] == ["availability", "spend"]
    spend = {s.name: s for s in files.scenarios["spend"]}
    assert spend["outage"].first_minutes["page"] == 44  # 14.4 / 20 of an hour, next minute
    assert "page" not in spend["slow burn"].first_minutes
    assert spend["slow burn"].first_minutes["ticket"] in (36 * 60, 36 * 60 + 1)
    assert not spend["background"].first_minutes
    files.write(tmp_path)
    assert 'modelmeter_gateway_spend_total{currency="USD"}' in (tmp_path / "rules.yml").read_text()
    results = promtool(tmp_path, executable)
    assert results is not None and all(passed for _c, passed, _o in results), results
    # and served without a spend counter, the budget is named as not watched
    served = monitoring_files(Sla(max_error_rate=0.01), SOURCES["serve"], budget=(500.0, "USD"))
    assert served.unwatched == ["monthly_budget: not watched (serve exports no spend)"]
