"""The built-in scenario end to end, as a user runs it, and the examples that build on it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, f1_score

from modelmeter._money import format_money
from modelmeter.decide import inconsistencies
from modelmeter.results import Report
from tests.e2e.test_cli_errors import modelmeter

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the demo once: <tmp>/modelmeter-report, with examples/ copied beside it.

    ``--out`` is relative, as in the README's ``make demo``."""
    root = tmp_path_factory.mktemp("demo")
    result = modelmeter(
        "demo",
        "--out",
        "modelmeter-report",
        "--db",
        str(root / "runs.sqlite3"),
        "--cache-dir",
        str(root / "cache"),
        "--duration",
        "2",
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.copytree(REPO / "examples", root / "examples")
    return root


def _assert_consistent(path: Path) -> None:
    """No two sections of the report disagree (modelmeter.decide.inconsistencies)."""
    report = Report.model_validate_json(path.read_text(encoding="utf-8"))
    assert inconsistencies(report) == []


def test_demo_writes_the_contract(demo: Path) -> None:
    out = demo / "modelmeter-report"
    for name in ("report.html", "report.md", "report.json"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == 1
    names = [m["name"] for m in report["models"]]
    assert names == ["base", "optimised", "distilled"]
    for model in report["models"]:
        assert 0.5 < model["quality"]["f1_macro"] <= 1.0
        for language in ("en", "fr", "pt", "es", "de"):
            assert 0 <= model["quality"]["by_slice"]["language"][language]["f1_macro"] <= 1
        latency = model["latency_ms"]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
        assert model["throughput_rps"] > 0
        assert model["cost"]["per_1000_requests"] > 0
        assert model["cost"]["currency"] == "EUR"
        assert model["load"]["errors"] == {}
    assert set(report["pareto"]) <= set(names) and report["pareto"]
    recommendation = report["recommendation"]
    assert recommendation["chosen"] in names
    assert set(recommendation["by_priority"]) >= {"quality", "latency", "cost", "balanced"}
    # The text is written from the figures: the chosen model and the cost its rule
    # subtracted (balanced: the value of its answers minus its cost) appear in it.
    chosen = next(m for m in report["models"] if m["name"] == recommendation["chosen"])
    assert recommendation["chosen"] in recommendation["text"]
    cost = format_money(Decimal(str(chosen["cost"]["per_1000_requests"])), "EUR")
    assert f"− {cost} cost" in recommendation["text"]
    # Decisions a team can defend: intervals, paired tests, plan, case, advice.
    for model in report["models"]:
        ci = model["latency_ms"]["p95_ci"]
        assert ci["low"] <= model["latency_ms"]["p95"] <= ci["high"]
        assert len(model["items"]["ids"]) == model["quality"]["n"]
    assert len(report["comparisons"]) == 3
    assert sorted(name for group in report["tie_groups"] for name in group) == sorted(names)
    assert report["capacity"]["replicas"] >= 2
    assert report["capacity_model"] == recommendation["chosen"]
    assert (out / report["manifest_file"]).read_text().count("kind: ") >= 2
    assert {"weeks 1-2", "weeks 7-12"} <= {a["horizon"] for a in report["advice"]}
    if recommendation["chosen"] != "base":
        assert report["business_case"]["baseline"] == "base"
    _assert_consistent(out / "report.json")
    decision = report["decision"]
    assert decision["chosen"] == recommendation["chosen"]
    assert decision["value_source"] == "business.value_per_correct"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "How the choice is made" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert html.count("<svg") >= 5


def test_stored_predictions_reproduce_the_reported_f1(demo: Path) -> None:
    """Independent check: scikit-learn on the stored per-request predictions."""
    report = json.loads((demo / "modelmeter-report" / "report.json").read_text(encoding="utf-8"))
    truth = {}
    for line in (demo / "modelmeter-report" / "data" / "test.jsonl").read_text().splitlines():
        row = json.loads(line)
        truth[row["id"]] = row["label"]
    with sqlite3.connect(demo / "runs.sqlite3") as db:
        for model in report["models"]:
            rows = db.execute(
                "select sample_id, prediction from outcomes where run_id = ? and target = ? "
                "and phase = 'quality'",
                (report["run_id"], model["name"]),
            ).fetchall()
            assert len(rows) == len(truth)
            y_true = [truth[sample_id] for sample_id, _ in rows]
            y_pred = [prediction for _, prediction in rows]
            quality = model["quality"]
            assert quality["f1_macro"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
            assert quality["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))


def test_stored_run_lists_and_rerenders(demo: Path) -> None:
    report = json.loads((demo / "modelmeter-report" / "report.json").read_text(encoding="utf-8"))
    db = str(demo / "runs.sqlite3")
    listed = modelmeter("runs", "list", "--db", db, cwd=demo)
    assert listed.returncode == 0 and report["run_id"] in listed.stdout
    again = modelmeter("report", report["run_id"][:17], "--db", db, "--out", "again", cwd=demo)
    assert again.returncode == 0, again.stderr
    again_report = json.loads((demo / "again" / "report.json").read_text())
    # The same report, except that it no longer links the manifests it does not write again.
    assert report["manifest_file"] == "kubernetes.yaml" and again_report["manifest_file"] is None
    assert not (demo / "again" / "kubernetes.yaml").exists()
    # Notes about the unwritten file go with it; one note says why it is not there.
    about_file = [note for note in report["notes"] if "kubernetes.yaml" in note]
    assert about_file
    kept = [note for note in report["notes"] if note not in about_file]
    assert again_report["notes"][:-1] == kept
    assert "not when its report is rendered again" in again_report["notes"][-1]
    assert not any("kubernetes.yaml" in note for note in again_report["notes"])
    for changed in ("manifest_file", "notes"):
        del report[changed], again_report[changed]
    assert again_report == report


def test_inprocess_example_runs(demo: Path) -> None:
    spec = demo / "examples" / "python-inprocess.yaml"
    text = spec.read_text().replace("duration_s: 5", "duration_s: 1")
    spec.write_text(text)
    result = modelmeter("run", str(spec), "--out", "inprocess", "--no-store", cwd=demo)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((demo / "inprocess" / "report.json").read_text())
    demo_report = json.loads((demo / "modelmeter-report" / "report.json").read_text())
    demo_f1 = {m["name"]: m["quality"]["f1_macro"] for m in demo_report["models"]}
    in_process = {m["name"]: m["quality"]["f1_macro"] for m in report["models"]}
    # The same model files give the same answers in-process and behind the server.
    assert in_process["base-sklearn"] == pytest.approx(demo_f1["base"])
    assert in_process["distilled-onnx"] == pytest.approx(demo_f1["distilled"])
    _assert_consistent(demo / "inprocess" / "report.json")


def test_oip_example_runs_against_modelmeter_serve(demo: Path) -> None:
    from modelmeter.serve.server import start_server_process

    models = demo / "modelmeter-report" / "models"
    spec = demo / "examples" / "serve-oip.yaml"
    with (
        start_server_process({"base": models / "base.joblib"}) as base,
        start_server_process({"distilled": models / "distilled.onnx"}, max_batch_size=16) as dist,
    ):
        text = (
            spec.read_text()
            .replace("http://127.0.0.1:8101", base.url)
            .replace("http://127.0.0.1:8102", dist.url)
            .replace("duration_s: 10", "duration_s: 1")
        )
        spec.write_text(text)
        result = modelmeter("run", str(spec), "--out", "oip", "--no-store", cwd=demo)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((demo / "oip" / "report.json").read_text())
    for model in report["models"]:
        load = model["load"]
        assert load["mode"] == "poisson" and load["rate_rps"] == 200
        assert load["completed"] > 0 and model["latency_ms"]["p95"] > 0
    _assert_consistent(demo / "oip" / "report.json")
