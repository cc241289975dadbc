"""`modelmeter drift` as a user runs it: JSONL against CSV, the table, the JSON, the errors."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelmeter", "drift", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


def test_a_changed_column_is_found_between_jsonl_and_csv(tmp_path: Path) -> None:
    rng = random.Random(4)
    reference = tmp_path / "reference.jsonl"
    with reference.open("w") as out:
        for _ in range(3000):
            row = {"latency": rng.gauss(100, 10), "language": rng.choice(["en", "fr"])}
            out.write(json.dumps(row) + "\n")
    current = tmp_path / "current.csv"
    with current.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["latency", "language"])
        for n in range(3000):
            writer.writerow([rng.gauss(110, 10), rng.choice(["en", "fr"]) if n % 10 else ""])
    done = _run(str(reference), str(current), "--json", str(tmp_path / "drift.json"))
    assert done.returncode == 0, done.stderr
    assert "1 of 2 columns drifted: latency" in done.stdout
    written = json.loads((tmp_path / "drift.json").read_text())
    by_column = {c["column"]: c for c in written["columns"]}
    assert by_column["latency"]["drifted"] and by_column["latency"]["kind"] == "numeric"
    assert not by_column["language"]["drifted"]
    assert by_column["language"]["missing_current"] == pytest.approx(0.1)  # empty CSV cells


def test_bad_input_is_named(tmp_path: Path) -> None:
    good = tmp_path / "a.jsonl"
    good.write_text('{"x": 1}\n{"x": 2}\n')
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"x": 1}\n{"x": \n')
    done = _run(str(good), str(broken))
    assert done.returncode == 2 and "b.jsonl:2" in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr
    other = tmp_path / "c.jsonl"
    other.write_text('{"y": 1}\n{"y": 2}\n')
    done = _run(str(good), str(other))
    assert done.returncode == 2 and "share no column" in done.stderr
    done = _run(str(good), str(good), "--columns", "x,z")
    assert done.returncode == 2 and "'z' is not in the reference data" in done.stderr


def _scored_rows(
    n: int, rng: random.Random, labelled: float, sharpness: float = 3.0
) -> list[dict[str, object]]:
    """Rows of a calibrated classifier: each label is drawn from its row's probabilities
    (less sharp ones: harder inputs, a lower F1)."""
    classes = ["billing", "delivery", "refund"]
    rows = []
    for _ in range(n):
        weights = [rng.expovariate(1.0) ** sharpness for _ in classes]
        total = sum(weights)
        probabilities = {c: w / total for c, w in zip(classes, weights, strict=True)}
        label = rng.choices(classes, weights=list(probabilities.values()))[0]
        row: dict[str, object] = {"length": rng.gauss(40, 5), "probabilities": probabilities}
        row["label"] = label if rng.random() < labelled else None
        rows.append(row)
    return rows


def test_quality_is_estimated_without_the_current_labels(tmp_path: Path) -> None:
    rng = random.Random(8)
    reference, current = tmp_path / "reference.jsonl", tmp_path / "current.jsonl"
    for path, rows in (
        (reference, _scored_rows(3000, rng, 1.0)),
        (current, _scored_rows(4000, rng, 0.25)),
    ):
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "drift.json"
    done = _run(
        str(reference), str(current), "--probabilities", "probabilities", "--json", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "Quality without labels (CBPE): estimated macro F1" in done.stdout
    assert "current rows have their label already: realised macro F1" in done.stdout
    figures = json.loads(out.read_text())
    quality = figures["quality"]
    assert [c["column"] for c in figures["columns"]] == ["length", "label"]
    late = quality["labelled_current"]
    low, high = late["f1_macro_ci95"]
    assert 900 < late["n"] < 1100 and low < late["f1_macro"] < high
    # calibrated by construction: the estimate lands inside the labelled rows' interval
    assert low - 0.01 < quality["estimated_f1_macro"] < high + 0.01
    assert quality["reference_ece_calibrated"] < 0.03


def test_quality_estimation_errors_name_the_file_and_row(tmp_path: Path) -> None:
    rng = random.Random(9)
    reference, current = tmp_path / "reference.jsonl", tmp_path / "current.jsonl"
    rows = _scored_rows(300, rng, 1.0)
    reference.write_text("".join(json.dumps(row) + "\n" for row in rows))
    rows[4]["probabilities"] = "high"
    current.write_text("".join(json.dumps(row) + "\n" for row in rows))
    done = _run(str(reference), str(current), "--probabilities", "probabilities")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{current}: probabilities: row 5: not a mapping of class to probability" in done.stderr
    missing = _run(str(reference), str(current), "--probabilities", "scores")
    assert missing.returncode == 2 and "no field 'scores' (--probabilities)" in missing.stderr


def _log(path: Path, days: int, shifted_from: int, rng: random.Random) -> None:
    """A month of traffic log: 400 requests a day; from ``shifted_from`` on, latency is 20%
    higher and French twice as common."""
    start = 1_794_096_000  # 2026-11-08 00:00 UTC
    with path.open("w") as out:
        for day in range(days):
            late = day >= shifted_from
            for n in range(400):
                row = {
                    "at": start + day * 86_400 + n * 200,
                    "latency_ms": rng.gauss(120 if late else 100, 15),
                    "language": rng.choice(["en", "fr", "fr"] if late else ["en", "en", "fr"]),
                    "prompt": " ".join(
                        rng.choices(["where", "is", "my", "order"], k=rng.randint(2, 9))
                    ),
                }
                out.write(json.dumps(row) + "\n")


def test_a_month_of_windows_is_charted_and_profiled(tmp_path: Path) -> None:
    from tests._browser import distinct_colours, rendered_dom, screenshot

    rng = random.Random(11)
    reference, current = tmp_path / "reference.jsonl", tmp_path / "month.jsonl"
    _log(reference, 7, 99, rng)
    _log(current, 30, 20, rng)
    page, out, profiles = tmp_path / "drift.html", tmp_path / "drift.json", tmp_path / "profiles"
    done = _run(
        str(reference), str(current), "--time-field", "at", "--window", "1d",
        "--html", str(page), "--json", str(out), "--save-profiles", str(profiles),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    windows = figures["windows"]
    assert len(windows) == 30 and all(w["rows"] == 400 for w in windows)
    assert windows[0]["start"] == "2026-11-08T00:00:00+00:00"
    early = [set(w["drifted"]) for w in windows[:20]]
    late = [set(w["drifted"]) for w in windows[20:]]
    assert sum(1 for d in early if d) <= 2  # ≤ 5% family-wise per window: rarely anything
    assert all({"latency_ms", "language"} <= d for d in late)
    assert "prompt" not in set().union(*late)
    # one profile per window and the reference's, each far under 100 KB
    saved = sorted(profiles.iterdir())
    assert len(saved) == 31 and all(p.stat().st_size < 100_000 for p in saved)
    again = _run(str(profiles / "reference.profile.json"), str(saved[-2]), "--json", str(out))
    assert again.returncode == 0, again.stderr
    assert set(json.loads(out.read_text())["drifted"]) >= {"latency_ms", "language"}
    # the page: a chart of the windows, in a real browser
    dom = rendered_dom(page)
    assert "Evidence of drift per window, last 30" in dom
    assert dom.count("<tr>") == 31  # the header and 30 windows
    assert "latency_ms" in dom and "<script" not in page.read_text()
    assert distinct_colours(screenshot(page, tmp_path / "drift.png", "1000,1400")) > 8


def test_window_errors_name_the_row(tmp_path: Path) -> None:
    reference, current = tmp_path / "reference.jsonl", tmp_path / "current.jsonl"
    reference.write_text("".join(json.dumps({"x": n, "at": n}) + "\n" for n in range(50)))
    current.write_text(
        json.dumps({"x": 1, "at": 5}) + "\n" + json.dumps({"x": 2, "at": "soon"}) + "\n"
    )
    done = _run(str(reference), str(current), "--time-field", "at")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "current.jsonl, row 2: 'soon' is not a time" in done.stderr
    missing = _run(str(reference), str(current), "--time-field", "when")
    assert missing.returncode == 2 and "no field 'when' (--time-field)" in missing.stderr
    chart = _run(str(reference), str(current), "--html", str(tmp_path / "x.html"))
    assert chart.returncode == 2 and "give --time-field" in chart.stderr


def _stored_run(store: object, run_id: str, predictions: list[str], right: list[bool]) -> None:
    from modelmeter.load.outcome import Outcome
    from tests.unit.test_compare_builders import item_ids, model, report

    ids = item_ids(len(predictions))
    outcomes = [
        Outcome(i, "clf", intended_at=n * 10**6, sent_at=n * 10**6, done_at=n * 10**6 + 4 * 10**6,
                prediction=p)
        for n, (i, p) in enumerate(zip(ids, predictions, strict=True))
    ]  # fmt: skip
    store.save(report(run_id, [model("clf", right, ids=ids)]), {("clf", "quality"): outcomes})  # type: ignore[attr-defined]


def test_stored_runs_and_the_gateway_log_are_sources(tmp_path: Path) -> None:
    import time

    from modelmeter.store import RunStore

    rng = random.Random(12)
    db = tmp_path / "runs.db"
    store = RunStore(str(db))
    try:
        before = [rng.choice(["billing", "refund", "delivery"]) for _ in range(600)]
        after = [rng.choice(["billing", "refund", "refund", "refund"]) for _ in range(600)]
        _stored_run(store, "20261201-000000-aaaaaa", before, [rng.random() < 0.9 for _ in before])
        _stored_run(store, "20261202-000000-bbbbbb", after, [rng.random() < 0.7 for _ in after])
        now, day = time.time_ns(), 86_400 * 10**9
        rows = [
            {
                "at_ns": now - (13 if n < 300 else 3) * day + n * 10**9, "request_id": f"r{n}",
                "route": "chat", "key_name": None, "status": 200, "failed": 0,
                "latency_ns": int(rng.gauss(100 if n < 300 else 150, 10) * 1e6),
                "input_tokens": 10, "output_tokens": 5, "cost_pico": None, "cache": "miss",
                "request_body": None, "response_body": None,
            }
            for n in range(600)
        ]  # fmt: skip
        store.append_gateway_log(rows, 10_000)
    finally:
        store.close()
    out = tmp_path / "drift.json"
    runs = _run("run:20261201", "run:20261202:clf", "--db", str(db), "--json", str(out))
    assert runs.returncode == 0, runs.stderr
    figures = json.loads(out.read_text())
    assert set(figures["drifted"]) == {"prediction", "correct"}
    assert "latency_ms" in [c["column"] for c in figures["columns"]]
    logged = _run("gateway:14d..7d", "gateway:7d", "--db", str(db), "--json", str(out))
    assert logged.returncode == 0, logged.stderr
    figures = json.loads(out.read_text())
    assert figures["drifted"] == ["latency_ms"]
    by_column = {c["column"]: c for c in figures["columns"]}
    assert by_column["latency_ms"]["n_reference"] == 300 == by_column["latency_ms"]["n_current"]
    daily = _run("gateway:14d", "gateway:14d", "--db", str(db), "--time-field", "at")
    assert daily.returncode == 0, daily.stderr
    assert "latency_ms" in daily.stdout  # the later days' windows drift against the fortnight
    wrong = _run("run:nope", "gateway:7d", "--db", str(db))
    assert wrong.returncode == 1 and "no run 'nope'" in wrong.stderr
    span = _run("gateway:7d..14d", "gateway:7d", "--db", str(db))
    assert span.returncode == 2 and "must end after it starts" in span.stderr


def test_slices_find_what_the_whole_hides(tmp_path: Path) -> None:
    """French latency rises while English falls as much: the whole looks the same, the
    slices do not; a slice too small is named and left out."""
    rng = random.Random(13)
    reference, current = tmp_path / "reference.jsonl", tmp_path / "current.jsonl"
    for path, shift in ((reference, 0), (current, 15)):
        with path.open("w") as out:
            for n in range(4000):
                language = "fr" if n % 2 else "en"
                mean = 100 + (shift if language == "fr" else -shift)
                out.write(
                    json.dumps({"language": language, "latency_ms": rng.gauss(mean, 40)}) + "\n"
                )
            out.write(json.dumps({"language": "de", "latency_ms": 100.0}) + "\n")
    out = tmp_path / "drift.json"
    done = _run(str(reference), str(current), "--slice-field", "language", "--json", str(out))
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    slices = figures["slices"]
    assert sorted(slices["slices"]) == ["en", "fr"]
    assert slices["slices"]["fr"]["drifted"] == ["latency_ms"]
    assert slices["slices"]["en"]["drifted"] == ["latency_ms"]
    assert "de" in slices["left_out"] and "fewer than 30" in slices["left_out"]["de"]
    assert "slice de: left out" in done.stdout
    missing = _run(str(reference), str(current), "--slice-field", "customer")
    assert missing.returncode == 2 and "no field 'customer'" in missing.stderr


def test_quality_per_window_with_late_labels(tmp_path: Path) -> None:
    """Two weeks of a calibrated classifier's answers, harder inputs in the second (flatter
    probabilities, labels drawn from them); labels arrive for a fifth of the first week only:
    each window has an estimate, the labelled ones a realised F1 that agrees with it, the
    second week's estimate falls, and the chart shows both."""
    from tests._browser import rendered_dom

    rng = random.Random(14)
    reference = tmp_path / "reference.jsonl"
    reference.write_text("".join(json.dumps(r) + "\n" for r in _scored_rows(3000, rng, 1.0)))
    current = tmp_path / "current.jsonl"
    start = 1_794_096_000  # 2026-11-08
    with current.open("w") as out:
        for day in range(14):
            # the second week's inputs are harder: flatter probabilities, calibrated still
            rows = _scored_rows(600, rng, 0.2, 3.0) if day < 7 else _scored_rows(600, rng, 0.0, 1.5)
            for n, row in enumerate(rows):
                row["at"] = start + day * 86_400 + n * 60
                out.write(json.dumps(row) + "\n")
    out, page = tmp_path / "drift.json", tmp_path / "drift.html"
    done = _run(
        str(reference), str(current), "--time-field", "at", "--probabilities", "probabilities",
        "--json", str(out), "--html", str(page),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    windows = json.loads(out.read_text())["windows"]
    assert len(windows) == 14
    first, later = windows[:7], windows[7:]
    outside = 0
    for window in first:
        quality = window["quality"]
        low, high = quality["realised_ci95"]
        assert 90 < quality["labelled"] < 150
        outside += not low <= quality["estimated_f1_macro"] <= high
    assert outside <= 2  # 95% intervals of ~120 rows each: one or two may miss by chance
    assert all(w["quality"]["realised_f1_macro"] is None for w in later)
    mean = sum(w["quality"]["estimated_f1_macro"] for w in first) / 7
    labelled = sum(w["quality"]["labelled"] for w in first)
    realised = sum(w["quality"]["realised_f1_macro"] * w["quality"]["labelled"] for w in first)
    assert abs(mean - realised / labelled) < 0.03  # over the week, estimate and labels agree
    assert all(w["quality"]["estimated_f1_macro"] < mean - 0.02 for w in later)
    assert "probabilities" not in {c["column"] for w in windows for c in w["columns"]}
    dom = rendered_dom(page)
    assert "Macro F1 per window" in dom and "realised on late labels" in dom
