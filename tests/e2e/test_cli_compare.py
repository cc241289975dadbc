"""`modelmeter compare` as CI runs it: report files and stored run ids, exit codes 0, 1 and 2,
and the JUnit, Markdown and JSON files it leaves for the CI system."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from modelmeter.cli.compare import register
from modelmeter.compare import ComparisonResult
from modelmeter.results import Report, SlaCheck
from modelmeter.store import RunStore
from tests.unit.test_compare_builders import item_ids, model, paired_grades, regression_pair, report


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """modelmeter, with only the compare command."""

    register(app)
    return app


def compare(*args: str) -> Result:
    return CliRunner().invoke(_app(), ["compare", *args])


def _write(report_: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_.model_dump_json(indent=2), encoding="utf-8")
    return path


def _files(tmp_path: Path, baseline: Report, new: Report) -> tuple[str, str]:
    return (
        str(_write(baseline, tmp_path / "main" / "report.json")),
        str(_write(new, tmp_path / "branch" / "report.json")),
    )


def test_regression_in_report_files_exits_1_and_writes_outputs(tmp_path: Path) -> None:
    base_file, new_file = _files(tmp_path, *regression_pair())
    junit, markdown, json_out = (tmp_path / "out" / name for name in ("j.xml", "s.md", "r.json"))
    result = compare(
        base_file,
        new_file,
        "--junit",
        str(junit),
        "--markdown",
        str(markdown),
        "--json",
        str(json_out),
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "1 regression(s) or breach(es)" in result.output
    assert "FAIL" in result.output
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "1", "1")
    failure = root.find("./testsuite/testcase[@name='quality']/failure")
    assert failure is not None and failure.get("message", "").startswith("regression: accuracy")
    assert "**❌ 1 regression(s) or breach(es).**" in markdown.read_text(encoding="utf-8")
    gate = ComparisonResult.model_validate_json(json_out.read_text(encoding="utf-8"))
    assert not gate.passed and gate.models[0].quality is not None
    assert gate.models[0].quality.verdict == "regression"


def test_tie_exits_0(tmp_path: Path) -> None:
    base, new = paired_grades(both=170, baseline_only=10, new_only=9, neither=11)
    base_file, new_file = _files(
        tmp_path, report("r1", [model("clf", base)]), report("r2", [model("clf", new)])
    )
    junit = tmp_path / "junit.xml"
    result = compare(base_file, new_file, "--junit", str(junit))
    assert result.exit_code == 0, result.output
    assert "no regression" in result.output
    assert ET.parse(junit).getroot().get("failures") == "0"


def test_drop_within_a_wider_tolerance_exits_0(tmp_path: Path) -> None:
    base_file, new_file = _files(tmp_path, *regression_pair())
    result = compare(base_file, new_file, "--tolerance", "0.2", "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    gate = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert gate["models"][0]["quality"]["verdict"] == "decrease_within_tolerance"
    assert gate["tolerance"] == 0.2


def test_sla_breach_exits_1(tmp_path: Path) -> None:
    base, new = paired_grades(both=170, baseline_only=10, new_only=9, neither=11)
    missed = model("clf", new, p95=180.0)
    missed.sla = SlaCheck(met=False, violations=["P95 180 ms > limit 150 ms"])
    base_file, new_file = _files(
        tmp_path,
        report("r1", [model("clf", base)], sla={"p95_ms": 150.0}),
        report("r2", [missed], sla={"p95_ms": 150.0}),
    )
    md = tmp_path / "summary.md"
    result = compare(base_file, new_file, "--markdown", str(md))
    assert result.exit_code == 1, result.output
    text = md.read_text(encoding="utf-8")
    assert "| clf | sla | ❌ fail | breach: the SLA was met in BASELINE" in text
    assert (
        "| clf | latency | ❌ fail | regression: P95 100.0 [95.0–105.0] ms → 180.0 [171.0–189.0] ms"
        in text
    )


def test_run_ids_in_a_sqlite_store(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.sqlite3")
    baseline, new = regression_pair()
    base, tie = paired_grades(both=170, baseline_only=10, new_only=9, neither=11)
    store = RunStore(db)
    try:
        store.save(baseline)
        store.save(new)
        store.save(report("20260107-090000-cccccc", [model("clf", base)]))
        store.save(report("20260108-090000-dddddd", [model("clf", tie)]))
    finally:
        store.close()
    regressed = compare("20260105", "20260106-120000-bbbbbb", "--db", db)
    assert regressed.exit_code == 1, regressed.output
    assert "20260105-120000-aaaaaa → 20260106-120000-bbbbbb" in regressed.output
    tied = compare("20260107", "20260108", "--db", db, "--model", "clf")
    assert tied.exit_code == 0, tied.output
    mixed = compare(str(_write(baseline, tmp_path / "report.json")), "20260106", "--db", db)
    assert mixed.exit_code == 1, mixed.output  # a file and a run id, in one gate


def test_two_models_of_one_run(tmp_path: Path) -> None:
    base, new = paired_grades(both=155, baseline_only=25, new_only=5, neither=15)
    path = _write(
        report("r1", [model("current", base), model("candidate", new)]), tmp_path / "r.json"
    )
    result = compare(
        str(path), str(path), "--baseline-model", "current", "--new-model", "candidate"
    )
    assert result.exit_code == 1, result.output
    assert "current → candidate" in result.output
    itself = compare(str(path), str(path))
    assert itself.exit_code == 2 and "with itself" in itself.output


def _bad_input(result: Result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    flat = " ".join(result.output.replace("│", " ").split())  # usage errors come boxed
    for text in expected:
        assert text in flat, flat


def test_bad_inputs_exit_2_with_a_message(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.sqlite3")
    baseline, new = regression_pair()
    store = RunStore(db)
    try:
        store.save(baseline)
    finally:
        store.close()
    base_file, new_file = _files(tmp_path, baseline, new)
    junit = tmp_path / "never.xml"
    _bad_input(
        compare("nope", "20260105", "--db", db, "--junit", str(junit)),
        "BASELINE 'nope' is not a report.json file",
        "no run 'nope'",
        "recent runs: 20260105-120000-aaaaaa",
    )
    assert not junit.exists()
    _bad_input(
        compare(str(tmp_path / "gone" / "report.json"), new_file),
        "report.json: no such file",
    )
    _bad_input(compare(str(tmp_path), new_file), "the folder holds no report.json")
    _bad_input(
        compare(base_file, new_file, "--model", "nope"),
        "model 'nope' is not in BASELINE run 20260105-120000-aaaaaa; its models are: 'clf'",
    )
    _bad_input(compare(base_file, new_file, "--baseline-model", "clf"), "go together")
    _bad_input(
        compare(base_file, new_file, "--model", "clf", "--baseline-model", "clf"),
        "not both",
    )
    _bad_input(compare(base_file, new_file, "--alpha", "1.5"), "strictly between 0 and 1")
    _bad_input(compare(base_file, new_file, "--tolerance", "-1"), "give a number ≥ 0")
    elsewhere = model("clf", [True] * 5, ids=item_ids(5, start=700))
    other_file = str(_write(report("r9", [elsewhere]), tmp_path / "other.json"))
    _bad_input(compare(base_file, other_file), "share no item id")
    broken = tmp_path / "broken.json"
    broken.write_text('{"models": 3}', encoding="utf-8")
    _bad_input(compare(str(broken), new_file), "not a modelmeter report.json", "run_id")


def test_python_m_modelmeter_compare(tmp_path: Path) -> None:
    from modelmeter.cli.app import app

    names = {command.name for command in app.registered_commands}
    if "compare" not in names:
        pytest.skip(
            "modelmeter.cli.app does not register 'compare' yet; the lead wires "
            "modelmeter.cli.compare.register into cli/app.py"
        )
    base_file, new_file = _files(tmp_path, *regression_pair())
    junit = tmp_path / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "modelmeter", "compare", base_file, new_file, "--junit", str(junit)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert ET.parse(junit).getroot().get("failures") == "1"
    missing = subprocess.run(
        [sys.executable, "-m", "modelmeter", "compare", "gone.json", new_file],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_every_option_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "compare.md").read_text(encoding="utf-8")
    command = typer.main.get_command(_app()).commands["compare"]  # type: ignore[attr-defined]
    options = [name for param in command.params for name in param.opts if name.startswith("--")]
    assert "--junit" in options and "--latency-tolerance" in options
    missing = [name for name in options if f"`{name}" not in doc]
    assert not missing, f"docs/compare.md does not mention {missing}"
