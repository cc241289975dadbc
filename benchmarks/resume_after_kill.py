"""kill -9 an LLM run at random moments, then `--resume` it: no stored answer may be lost.

Each trial (default 20): a fresh run store and a fresh `modelmeter simulate` answering from
examples/data/answers-strong.jsonl (TTFT 40 ms, ITL 2 ms, its timings log on); `modelmeter run`
of examples/llm-tasks.yaml with the strong model only (66 task items at evaluation concurrency
4, then a 3 s load phase) is killed with SIGKILL after a random delay (uniform, 0.3 s to 8 s:
before the first answer, during the tasks, or during the load phase). Then:

* stored: the answers the killed run had committed (``responses`` rows of its run id);
* answered: the completions the server finished before the kill (its timings log, the
  preflight request left out), at most the 66 task items: what a perfect store would hold;
* unstored = answered − stored: answers lost with the process (must stay within the requests
  in flight, at most the evaluation concurrency);
* the run is resumed (`--resume RUN_ID`, a new simulator) and must end with exit 0, use every
  stored answer (``cached`` = stored), keep every stored key, and hold all 66 answers.

Run on demand: ``python benchmarks/resume_after_kill.py [--trials N] [--seed S]`` (about 5 s a
trial). Prints one line per trial and a summary; exits 1 if any trial lost a stored answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import yaml
from _peers import free_port

from modelmeter.simulate import SimulatorConfig, start_simulator

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TOTAL = 30 + 20 + 8 + 8  # items of the four example tasks
CONCURRENCY = 4


def _spec(folder: Path, port: int) -> Path:
    data = yaml.safe_load((EXAMPLES / "llm-tasks.yaml").read_text(encoding="utf-8"))
    for task in data["tasks"]:
        task["dataset"]["path"] = str(EXAMPLES / task["dataset"]["path"])
    strong = data["targets"][0]
    strong["url"] = f"http://127.0.0.1:{port}/v1"
    data["targets"] = [strong]
    data["evaluation"]["concurrency"] = CONCURRENCY
    data.pop("routing", None)
    spec = folder / "spec.yaml"
    spec.write_text(yaml.safe_dump(data), encoding="utf-8")
    return spec


def _stored(db: Path, run_id: str) -> set[str]:
    if not db.exists():
        return set()
    with sqlite3.connect(db) as connection:
        try:
            rows = connection.execute("select key from responses where run_id = ?", (run_id,))
            return {key for (key,) in rows}
        except sqlite3.OperationalError:
            return set()


def _answered(log: Path) -> int:
    """Completions the server finished (not cancelled by the client going away)."""
    if not log.exists():
        return 0
    done = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["status"] == 200 and not record["cancelled"] and record["finished_ns"]:
            done += 1
    return done


def _simulator(port: int, log: Path | None, ttft_ms: float):  # type: ignore[no-untyped-def]
    config = SimulatorConfig(
        answers=EXAMPLES / "data" / "answers-strong.jsonl", ttft_ms=ttft_ms, itl_ms=2
    )
    return start_simulator(config, port=port, timings_log=log)


def _run_id(stderr: IO[str]) -> str:
    """The id the run prints before it measures anything (other lines may come first)."""
    for line in stderr:
        if found := re.match(r"run (\S+) started", line):
            return found.group(1)
    raise RuntimeError("the run ended without printing its id")


def trial(number: int, delay_s: float, folder: Path) -> dict[str, object]:
    db, log = folder / "runs.sqlite3", folder / "timings.jsonl"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    port = free_port()  # the same for the resumed run: the URL is part of the spec's identity
    spec = _spec(folder, port)
    with _simulator(port, log, 40):
        command = [sys.executable, "-m", "modelmeter", "run", str(spec), "--db", str(db)]
        process = subprocess.Popen(
            [*command, "--out", str(folder / "first")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stderr is not None
        run_id = _run_id(process.stderr)
        drain = threading.Thread(target=process.stderr.read, daemon=True)  # never a full pipe
        drain.start()
        time.sleep(delay_s)
        finished_first = process.poll() is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        drain.join(timeout=30)
        process.stderr.close()
        time.sleep(0.3)  # the server notices the client is gone and logs the cancellations
    stored = _stored(db, run_id)
    answered = min(max(_answered(log) - 1, 0), TOTAL)  # the preflight is not an answer
    with _simulator(port, None, 5):
        resumed = subprocess.run(
            [*command, "--resume", run_id, "--out", str(folder / "second")],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    report_path = folder / "second" / "report.json"
    cached = -1
    if resumed.returncode == 0 and report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        cached = sum(t["cached"] for t in report["models"][0]["tasks"])
    final = _stored(db, run_id)
    return {
        "trial": number,
        "kill_after_s": round(delay_s, 2),
        "ended_before_kill": finished_first,
        "stored": len(stored),
        "answered": answered,
        "unstored": answered - len(stored),
        "resume_exit": resumed.returncode,
        "cached_on_resume": cached,
        "stored_kept": stored <= final,
        "final_answers": len(final),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = []
    for number in range(1, args.trials + 1):
        with tempfile.TemporaryDirectory() as name:
            result = trial(number, rng.uniform(0.3, 8.0), Path(name))
        results.append(result)
        print(json.dumps(result), flush=True)
    lost = [
        r
        for r in results
        if not r["stored_kept"]
        or r["cached_on_resume"] != r["stored"]
        or r["resume_exit"] != 0
        or r["final_answers"] != TOTAL
    ]
    worst = max(int(r["unstored"]) for r in results)  # type: ignore[call-overload]
    print(
        f"{len(results)} trials: {len(lost)} lost a stored answer or failed to resume; at most "
        f"{worst} answers the server had sent were not yet stored at a kill (evaluation "
        f"concurrency {CONCURRENCY})"
    )
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
