"""The LLM tasks example, as a user runs it: two `modelmeter simulate` servers answering from
answer books, then `modelmeter run examples/llm-tasks.yaml`; and a run interrupted with Ctrl-C
and resumed from the store without re-sending what it had received.

The expected scores are read from the answer books directly (which letter, which answer, which
code each model gives) and checked against the sample files, independently of the scoring code.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from modelmeter.client import Response
from modelmeter.decide import inconsistencies
from modelmeter.economics import builtin_catalogue
from modelmeter.results import Report
from modelmeter.routing import validate_claude_code_router, validate_litellm_config
from modelmeter.simulate import load_answer_book
from modelmeter.tasks.multiple_choice import load_mmlu
from tests._gateway import call, chat, gateway_process
from tests._lines import wait_for_line
from tests._processes import processes_with
from tests.e2e.test_cli_errors import modelmeter
from tests.e2e.test_llm_example import _free_port

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def simulator(book: Path, port: int, *extra: str) -> Iterator[None]:
    command = [sys.executable, "-m", "modelmeter", "simulate", "--port", str(port)]
    command += ["--answers", str(book), "--busy-wait-us", "0", *extra]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def _example(tmp_path: Path, ports: tuple[int, int]) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    spec = tmp_path / "examples" / "llm-tasks.yaml"
    text = spec.read_text()
    text = text.replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}")
    text = text.replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
    spec.write_text(text.replace("duration_s: 3", "duration_s: 1"))
    return spec


def _expected_mc_accuracy(book: Path) -> float:
    rules = load_answer_book(book)
    samples = load_mmlu(REPO / "examples" / "data" / "mmlu-sample")
    right = 0
    for sample in samples:
        rule = rules.find(sample.input)
        assert rule is not None, sample.id
        right += rule.answer == f"The answer is {sample.label}."
    return right / len(samples)


def _expected_humaneval_pass(book: Path) -> float:
    rules = load_answer_book(book)
    rows = [
        json.loads(line)
        for line in (REPO / "examples" / "data" / "humaneval-sample.jsonl").read_text().splitlines()
        if line.strip()
    ]
    passed = 0
    for row in rows:
        rule = rules.find(f"def {row['entry_point']}(")
        assert rule is not None
        passed += row["canonical_solution"] in rule.answer
    return passed / len(rows)


def test_llm_tasks_example_scores_prices_and_routes(tmp_path: Path) -> None:
    ports = (_free_port(), _free_port())
    spec = _example(tmp_path, ports)
    books = tmp_path / "examples" / "data"
    with (
        simulator(books / "answers-strong.jsonl", ports[0], "--ttft-ms", "20", "--itl-ms", "2"),
        simulator(books / "answers-weak.jsonl", ports[1], "--ttft-ms", "5", "--itl-ms", "1"),
    ):
        result = modelmeter(
            "run", str(spec), "--out", "out", "--db", str(tmp_path / "runs.db"), cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        served = _served_from_the_run(tmp_path, report["run_id"])
    models = {m["name"]: m for m in report["models"]}
    for name in ("strong", "weak"):
        book = books / f"answers-{name}.jsonl"
        tasks = {t["name"]: t for t in models[name]["tasks"]}
        assert set(tasks) == {"mmlu", "qa", "humaneval", "mbpp"}
        mmlu = tasks["mmlu"]["quality"]
        assert mmlu["accuracy"] == _expected_mc_accuracy(book)
        assert mmlu["accuracy_ci"]["low"] <= mmlu["accuracy"] <= mmlu["accuracy_ci"]["high"]
        assert set(mmlu["by_slice"]["subject"]) == {
            "computer_security",
            "elementary_mathematics",
            "high_school_geography",
        }
        humaneval = tasks["humaneval"]
        assert humaneval["pass_at_k"]["1"] == _expected_humaneval_pass(book)
        assert all(t["failed"] == 0 and t["sent"] == t["answers"] for t in tasks.values())
        # Cost per correct answer: the tokens' cost over the right answers, from the catalogue.
        cost = models[name]["llm_cost"]
        assert cost["correct_answers"] > 0
        assert abs(cost["per_correct_answer"] - cost["total"] / cost["correct_answers"]) < 1e-9
        assert models[name]["budget"]["total"] > 0
        key = next(t for t in yaml.safe_load(spec.read_text())["targets"] if t["name"] == name)
        entry = builtin_catalogue().models[key["pricing"]["model"]]
        assert models[name]["context_window"] == entry.context_window
    assert models["strong"]["task_score"] > models["weak"]["task_score"]
    assert report["pricing_source"].startswith("LiteLLM")
    assert {r["route"] for r in report["routing"]} == {
        "default",
        "background",
        "think",
        "longContext",
        "webSearch",
    }
    router = json.loads((tmp_path / "out" / "claude-code-router.json").read_text())
    assert validate_claude_code_router(router) == []
    litellm = yaml.safe_load((tmp_path / "out" / "litellm-config.yaml").read_text())
    assert validate_litellm_config(litellm) == []
    # `modelmeter gateway --from-run` serves the routes the run recommended, from the store
    default = next(r for r in report["routing"] if r["route"] == "default")["model"]
    assert served.status == 200 and json.loads(served.body)["choices"]
    upstream = next(m for m in litellm["model_list"] if m["model_name"] == "default")
    assert json.loads(served.body)["model"] == upstream["litellm_params"]["model"].split("/", 1)[1]
    assert default in ("strong", "weak")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "humaneval" in html and "Routing" in html
    # The strong model answers about 30 points more right for a few cents more per 1,000
    # requests: balanced weighs that in money and chooses it, and the default route agrees.
    assert report["recommendation"]["chosen"] == "strong"
    assert next(r for r in report["routing"] if r["route"] == "default")["model"] == "strong"
    parsed = Report.model_validate_json((tmp_path / "out" / "report.json").read_text())
    assert inconsistencies(parsed) == []


def _served_from_the_run(tmp_path: Path, run_id: str) -> Response:
    """One request for the ``default`` route through `modelmeter gateway --from-run`."""
    litellm = yaml.safe_load((tmp_path / "out" / "litellm-config.yaml").read_text())
    keys = {
        m["litellm_params"]["api_key"].removeprefix("os.environ/"): "sk-test"
        for m in litellm["model_list"]
    }
    db = str(tmp_path / "runs.db")
    with gateway_process(tmp_path, None, "--from-run", run_id[:12], "--db", db, env=keys) as (
        url,
        _process,
    ):
        return call(url, "POST", "/v1/chat/completions", chat("default"))


def _cached_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as connection:
            return int(connection.execute("select count(*) from responses").fetchone()[0])
    except sqlite3.OperationalError:  # table not created yet
        return 0


def test_interrupted_llm_run_resumes_without_resending(tmp_path: Path) -> None:
    ports = (_free_port(), _free_port())
    spec = _example(tmp_path, ports)
    books = tmp_path / "examples" / "data"
    data = yaml.safe_load(spec.read_text())
    data["targets"] = data["targets"][:1]  # the strong model only
    data["evaluation"]["concurrency"] = 1
    spec.write_text(yaml.safe_dump(data))
    db = tmp_path / "runs.db"
    total = 30 + 20 + 8 + 8
    # Slow answers (~0.3 s each, one at a time): Ctrl-C arrives part-way through the tasks.
    with simulator(books / "answers-strong.jsonl", ports[0], "--ttft-ms", "300"):
        process = subprocess.Popen(
            [sys.executable, "-m", "modelmeter", "run", str(spec), "--out", "first", "--db", db],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
            # A shell that started these tests in the background passes SIGINT on ignored;
            # the run must see Ctrl-C as a user's terminal sends it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 120
        while _cached_rows(db) < 5:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no answers were stored"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err.decode()[-2000:]
    first = json.loads((tmp_path / "first" / "report.json").read_text())
    run_id = first["run_id"]
    # Partial measurements write no deployable router configuration.
    assert first["routing_files"] == [] and first["manifest_file"] is None
    assert not (tmp_path / "first" / "claude-code-router.json").exists()
    assert not (tmp_path / "first" / "litellm-config.yaml").exists()
    received = _cached_rows(db)
    assert 5 <= received < total
    with simulator(books / "answers-strong.jsonl", ports[0], "--ttft-ms", "5"):
        resumed = modelmeter(
            "run", str(spec), "--out", "second", "--db", str(db), "--resume", run_id, cwd=tmp_path
        )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    report = json.loads((tmp_path / "second" / "report.json").read_text())
    assert report["run_id"] == run_id
    assert (tmp_path / "second" / "claude-code-router.json").exists()  # complete: written
    tasks = report["models"][0]["tasks"]
    assert sum(t["answers"] for t in tasks) == total
    assert sum(t["cached"] for t in tasks) == received
    assert sum(t["sent"] for t in tasks) == total - received
    # Every answer stored once: nothing that had arrived was asked for again.
    assert _cached_rows(db) == total
    listing = modelmeter("runs", "list", "--db", str(db), cwd=tmp_path)
    assert listing.stdout.count(run_id) == 1


def _stored_answers(db: Path, run_id: str) -> set[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("select key from responses where run_id = ?", (run_id,))
        return {key for (key,) in rows}


@dataclass
class _LlmRun:
    spec: Path
    db: Path
    books: Path
    ports: tuple[int, int]
    run_id: str = ""


@contextmanager
def _llm_run_until_stored(tmp_path: Path, answers: int, ttft_ms: int) -> Iterator[_LlmRun]:
    """The strong model's tasks as a run (2 requests at a time, answers ``ttft_ms`` apart),
    stored in ``tmp_path/runs.db``; yields once ``answers`` answers are stored, with the run
    still going, and kills it (SIGKILL) when the block ends."""
    ports = (_free_port(), _free_port())
    spec = _example(tmp_path, ports)
    books = tmp_path / "examples" / "data"
    data = yaml.safe_load(spec.read_text())
    data["targets"] = data["targets"][:1]
    data["evaluation"]["concurrency"] = 2
    spec.write_text(yaml.safe_dump(data))
    run = _LlmRun(spec, tmp_path / "runs.db", books, ports)
    with simulator(books / "answers-strong.jsonl", ports[0], "--ttft-ms", str(ttft_ms)):
        command = [sys.executable, "-m", "modelmeter", "run", str(spec), "--out", "first"]
        process = subprocess.Popen(
            [*command, "--db", str(run.db)],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        )
        assert process.stderr is not None
        drain = threading.Thread(target=process.stderr.read, daemon=True)
        try:
            # Printed before anything is measured: a killed run leaves no report to read it from.
            started = wait_for_line(
                process.stderr, r"^run (\S+) started; if it is interrupted, continue it with"
            )
            run.run_id = started.group(1)
            drain.start()  # keep reading, so that the run never blocks on a full pipe
            deadline = time.monotonic() + 120
            while _cached_rows(run.db) < answers:
                assert process.poll() is None
                assert time.monotonic() < deadline, "no answers were stored"
                time.sleep(0.05)
            yield run
        finally:
            process.kill()
            process.wait(timeout=30)
            if drain.is_alive():
                drain.join(timeout=30)
            process.stderr.close()


def test_a_killed_llm_run_is_resumed_without_losing_a_stored_answer(tmp_path: Path) -> None:
    # kill -9 leaves no partial report: before, the run id was only printed at the end, resume
    # needed that report, and answers were written 64 at a time, so they were lost.
    total = 30 + 20 + 8 + 8
    with _llm_run_until_stored(tmp_path, answers=7, ttft_ms=200) as run:
        pass  # killed here, with 7 or more answers stored
    spec, db, books, ports, run_id = run.spec, run.db, run.books, run.ports, run.run_id
    stored = _stored_answers(db, run_id)
    assert 7 <= len(stored) < total
    assert not (tmp_path / "first").exists()  # killed: no report
    listing = modelmeter("runs", "list", "--db", str(db), cwd=tmp_path)
    assert run_id in listing.stdout
    unfinished = modelmeter("report", run_id, "--db", str(db), "--out", "x", cwd=tmp_path)
    assert unfinished.returncode != 0 and "Traceback" not in unfinished.stderr
    assert "was started but has no report" in " ".join(unfinished.stderr.split())
    with simulator(books / "answers-strong.jsonl", ports[0], "--ttft-ms", "5"):
        resumed = modelmeter(
            "run", str(spec), "--out", "second", "--db", str(db), "--resume", run_id, cwd=tmp_path
        )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    report = json.loads((tmp_path / "second" / "report.json").read_text())
    assert report["run_id"] == run_id
    tasks = report["models"][0]["tasks"]
    assert sum(t["answers"] for t in tasks) == total
    assert sum(t["cached"] for t in tasks) == len(stored)  # every stored answer was used
    assert stored <= _stored_answers(db, run_id)
    assert len(_stored_answers(db, run_id)) == total
    listing = modelmeter("runs", "list", "--db", str(db), cwd=tmp_path)
    assert listing.stdout.count(run_id) == 1


def _power_cut_copy(db: Path, to: Path, how: str, seed: int) -> None:
    """What a power cut mid-write could leave on disk: the database and its write-ahead log as
    they are now, the log's last frame torn (cut short, or its tail overwritten with noise)."""
    to.mkdir()
    shutil.copyfile(db, to / db.name)
    wal = db.with_name(db.name + "-wal").read_bytes()
    assert len(wal) > 32, "no write-ahead log to tear"
    page_size = int.from_bytes(wal[8:12], "big")
    frame = 24 + page_size
    cut = random.Random(seed).randrange(1, frame)
    noise = random.Random(seed).randbytes(cut) if how == "garbled" else b""
    torn = wal[:-cut] + noise
    (to / (db.name + "-wal")).write_bytes(torn)


@pytest.mark.parametrize("how", ["truncated", "garbled"])
def test_a_run_cut_off_mid_write_is_resumed_from_what_reached_the_disk(
    tmp_path: Path, how: str
) -> None:
    total = 30 + 20 + 8 + 8
    with _llm_run_until_stored(tmp_path, answers=9, ttft_ms=100) as run:
        # The power goes out while the run is writing answers.
        _power_cut_copy(run.db, tmp_path / "disk", how, seed=len(how))
    spec, books, ports, run_id = run.spec, run.books, run.ports, run.run_id
    survived = tmp_path / "disk" / "runs.db"
    with sqlite3.connect(survived) as connection:
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
    stored = _stored_answers(survived, run_id)
    assert 1 <= len(stored) < total
    with simulator(books / "answers-strong.jsonl", ports[0], "--ttft-ms", "5"):
        resumed = modelmeter(
            "run",
            str(spec),
            "--out",
            "second",
            "--db",
            str(survived),
            "--resume",
            run_id,
            cwd=tmp_path,
        )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    tasks = json.loads((tmp_path / "second" / "report.json").read_text())["models"][0]["tasks"]
    assert sum(t["answers"] for t in tasks) == total
    assert sum(t["cached"] for t in tasks) == len(stored)  # nothing that survived is re-sent
    assert len(_stored_answers(survived, run_id)) == total
    with sqlite3.connect(survived) as connection:
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)


def test_judged_generation_task_counts_the_judge_apart(tmp_path: Path) -> None:
    ports = (_free_port(), _free_port())
    spec = _example(tmp_path, ports)
    books = tmp_path / "examples" / "data"
    data = yaml.safe_load(spec.read_text())
    data["targets"] = data["targets"][:1]
    qa = next(t for t in data["tasks"] if t["name"] == "qa")
    qa["scoring"] = "judge"
    data["tasks"] = [qa]
    judge_port = _free_port()
    data["evaluation"]["judge"] = {
        "target": {
            "name": "judge",
            "kind": "openai",
            "url": f"http://127.0.0.1:{judge_port}/v1",
            "model": "judge-model",
            "pricing": {"kind": "api", "currency": "USD", "per_1m_input_tokens": 10},
        },
        "rubric": "Is the answer correct?",
        "scale_min": 1,
        "scale_max": 5,
        "pass_threshold": 0.75,
    }
    data.pop("routing")
    spec.write_text(yaml.safe_dump(data))
    verdicts = tmp_path / "verdicts.jsonl"
    # The judge grades 4/5 when the answer it sees is the weak fallback, else 5/5.
    verdicts.write_text(
        json.dumps({"match": "I am not sure.", "answer": "Unsure answer.\nScore: 2"}) + "\n"
    )
    with (
        simulator(books / "answers-strong.jsonl", ports[0], "--ttft-ms", "5"),
        simulator(verdicts, judge_port, "--default-answer", "Correct.\nScore: 5"),
    ):
        result = modelmeter("run", str(spec), "--out", "out", "--no-store", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    task = report["models"][0]["tasks"][0]
    book = load_answer_book(books / "answers-strong.jsonl")
    unsure = sum(1 for rule in book.rules if rule.answer == "I am not sure.")
    assert task["quality"]["metric"] == "judge"
    assert task["judge_requests"] == 20
    assert task["quality"]["n_correct"] == 20 - unsure
    # Graded 5 → 1.0, graded 2 → (2 − 1) / 4 = 0.25.
    expected = ((20 - unsure) * 1.0 + unsure * 0.25) / 20
    assert abs(task["quality"]["mean_score"] - expected) < 1e-9
    assert task["judge_input_tokens"] > 0
    assert abs(task["judge_cost"] - task["judge_input_tokens"] * 10 / 1e6) < 1e-12


def test_ctrl_c_twice_during_code_scoring_stops_the_programs_and_keeps_the_report(
    tmp_path: Path,
) -> None:
    # Before: the loop waited for the scoring thread, which ran every remaining program to its
    # timeout (here 300 s each), and a second Ctrl-C then lost the partial report.
    ports = (_free_port(), _free_port())
    spec = _example(tmp_path, ports)
    data = yaml.safe_load(spec.read_text())
    data["targets"] = data["targets"][:1]
    data["tasks"] = [task for task in data["tasks"] if task["name"] == "humaneval"]
    data["evaluation"]["sandbox"] = {"timeout_s": 300, "cpu_s": 60, "workers": 2}
    spec.write_text(yaml.safe_dump(data))
    marker = f"modelmeter-scoring-{os.getpid()}-{time.monotonic_ns()}"
    nap = "import time; time.sleep(600)"
    code = f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', {nap!r}, {marker!r}])"
    book = tmp_path / "sleepy.jsonl"
    book.write_text(json.dumps({"regex": ".", "answer": f"```python\n{code}\n```"}) + "\n")
    with simulator(book, ports[0]):
        process = subprocess.Popen(
            [sys.executable, "-m", "modelmeter", "run", str(spec), "--out", "out", "--no-store"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + 120
            while len(processes_with(marker)) < 2:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the generated programs never ran"
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)
            # An impatient second Ctrl-C, while the partial report is on its way.
            assert process.stderr is not None
            wait_for_line(process.stderr, r"interrupted: reporting what was measured so far")
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=120)
        finally:
            process.kill()
            process.wait()
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any("interrupted" in note for note in report["notes"])
    assert processes_with(marker) == []
