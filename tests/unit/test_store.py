"""Runs round-trip through a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from modelmeter._exceptions import ErrorKind, StoreError
from modelmeter.load.outcome import Outcome
from modelmeter.results import (
    CostResult,
    HostFacts,
    ModelResult,
    Recommendation,
    Report,
    SlaCheck,
)
from modelmeter.store import RunStore


def _report(run_id: str, name: str = "study") -> Report:
    model = ModelResult(
        name="base",
        target_kind="oip",
        quality=None,
        latency_ms=None,
        throughput_rps=120.5,
        load=None,
        cost=CostResult(
            currency="EUR",
            per_1000_requests=Decimal("0.000207"),
            basis="instance",
            explanation="0.09 / (120.5 × 3600) × 1000",
        ),
        sla=SlaCheck(met=True),
    )
    return Report(
        tool_version="0",
        run_id=run_id,
        name=name,
        created_at=datetime.now(UTC),
        spec_hash="abc",
        seed=1,
        host=HostFacts(python="3.11", platform="linux", cpu_count=2, machine="x86_64"),
        task="classification",
        models=[model],
        pareto=["base"],
        ranking=[],
        recommendation=Recommendation(
            text="base", by_priority={"cost": "base"}, chosen="base", priority="cost"
        ),
    )


def test_save_list_load_round_trip(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path / "sub" / "runs.sqlite3"))
    outcome = Outcome("s1", "base", 10, 12, 20, prediction="x")
    failed = Outcome("s2", "base", 10, 12, 30, error=ErrorKind.TIMEOUT)
    store.save(_report("20260101-000000-aaaaaa"), {("base", "load"): [outcome, failed]})
    store.save(_report("20260101-000001-bbbbbb", name="second"))
    runs = store.list_runs()
    assert [r.run_id for r in runs] == ["20260101-000001-bbbbbb", "20260101-000000-aaaaaa"]
    assert runs[0].chosen == "base" and runs[0].models == "base"
    report = store.load_report("20260101-000000")
    assert report.models[0].cost.per_1000_requests == Decimal("0.000207")
    assert store.count_outcomes("20260101-000000-aaaaaa") == 2
    store.close()
    assert (tmp_path / "sub" / "runs.sqlite3").is_file()


def test_unknown_and_ambiguous_ids(tmp_path: Path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'runs.sqlite3'}")
    store.save(_report("20260101-000000-aaaaaa"))
    store.save(_report("20260101-000000-aaaabb"))
    with pytest.raises(StoreError, match="no run 'zzz'"):
        store.load_report("zzz")
    with pytest.raises(StoreError, match="matches several runs"):
        store.load_report("20260101-000000-aaaa")


def test_url_password_is_hidden() -> None:
    store = RunStore.__new__(RunStore)
    store.url = "postgresql://user:hunter2@127.0.0.1/db"
    assert "hunter2" not in store.display_url


def test_a_report_rendered_again_links_no_file_it_does_not_write(tmp_path: Path) -> None:
    """Router configs and manifests are written with a run; `report RUN_ID` renders only the
    report, so the report it writes must not point at files that are not there."""
    from typer.testing import CliRunner

    from modelmeter.cli.app import app

    db = str(tmp_path / "runs.sqlite3")
    stored = _report("run-files").model_copy(
        update={"manifest_file": "kubernetes.yaml", "routing_files": ["litellm-config.yaml"]}
    )
    store = RunStore(db)
    store.save(stored, {})
    store.close()
    out = tmp_path / "again"
    result = CliRunner().invoke(app, ["report", "run-files", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    written = (out / "report.md").read_text(encoding="utf-8")
    again = Report.model_validate_json((out / "report.json").read_text(encoding="utf-8"))
    assert again.manifest_file is None and again.routing_files == []
    assert "written with a run, not when its report is rendered again" in written
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
