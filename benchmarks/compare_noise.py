"""Does `modelmeter compare` cry wolf? Ten pairs of runs of one spec, and one planted slowdown.

What it measures: the exit code and the latency verdict of `modelmeter compare BASELINE NEW`
when nothing changed between the two runs (the same spec against the same server, run back to
back, `--pairs` times), and when NEW's server is slower by `--slowdown` (every time to first
token and inter-token gap 30% longer). A gate that does not cry wolf exits 0 on every unchanged
pair and 1 on the slowed one.

A pair whose load phases were not both paced by the target alone (a busy host: other processes,
or CPU steal of 10% or more on a shared VM) gets an inconclusive latency check by design; such a
pair is run again, up to `--retries` times, so that the figures are of conclusive pairs, and the
number of reruns is reported.

The server is `modelmeter simulate` (an OpenAI-compatible server whose timing is set, not
measured: fixed TTFT and inter-token gaps), so the planted slowdown is known exactly. The host's
load average and CPU steal over the whole benchmark are printed with the result, as is each
run's load-phase verdict (a busy host makes the latency check inconclusive, by design).

    python benchmarks/compare_noise.py --pairs 10 --seconds 4 --out compare_noise.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _peers import free_port

PROMPTS = [f"Summarise ticket {i}: the app crashes when I upload a photo." for i in range(40)]


def _cpu() -> tuple[int, int]:
    """(total jiffies, steal jiffies) of all CPUs."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    values = [int(v) for v in fields]
    return sum(values), values[7]


def _spec(folder: Path, port: int, seconds: float) -> Path:
    data = folder / "prompts.jsonl"
    data.write_text("".join(json.dumps({"text": p}) + "\n" for p in PROMPTS))
    spec = folder / f"spec-{port}.yaml"
    spec.write_text(
        json.dumps(
            {
                "name": "compare noise",
                "seed": 1,
                "dataset": {"path": str(data), "input_field": "text", "label_field": None},
                "targets": [
                    {
                        "name": "llm",
                        "kind": "openai",
                        "url": f"http://127.0.0.1:{port}/v1",
                        "model": "modelmeter-simulated",
                        "max_tokens": 16,
                    }
                ],
                "load": {
                    "mode": "concurrency",
                    "concurrency": 4,
                    "duration_s": seconds,
                    "warmup_s": 0.5,
                },
            }
        )
    )
    return spec


def _simulator(port: int, ttft_ms: float, itl_ms: float) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelmeter",
            "simulate",
            "--port",
            str(port),
            "--ttft-ms",
            str(ttft_ms),
            "--itl-ms",
            str(itl_ms),
            "--output-tokens",
            "16",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the simulator on port {port} did not start")


def _run(spec: Path, out: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "modelmeter", "run", str(spec), "--out", str(out), "--no-store"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads((out / "report.json").read_text())
    model = report["models"][0]
    load = model["load"]
    return {
        "p95_ms": model["latency_ms"]["p95"],
        "verdict": load["verdict"],
        "diagnosis": load["diagnosis"],
        "busy_before_percent": load["host_busy_before_percent"],
        "steal_percent": load["host_steal_percent"],
        "load_average": load["host_load_average"],
    }


def _compare(baseline: Path, new: Path, out: Path) -> tuple[int, str]:
    result = out / "compare.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelmeter",
            "compare",
            str(baseline / "report.json"),
            str(new / "report.json"),
            "--json",
            str(result),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    verdict = ""
    if result.exists():
        gate = json.loads(result.read_text())
        checks = gate["models"][0]["checks"]
        latency = next(c for c in checks if c["name"] == "latency")
        verdict = f"{latency['status']}: {latency['message']}"
    return done.returncode, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--ttft-ms", type=float, default=20.0)
    parser.add_argument("--itl-ms", type=float, default=2.0)
    parser.add_argument("--slowdown", type=float, default=0.30)
    parser.add_argument("--retries", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    started = _cpu()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fast_port, slow_port = free_port(), free_port()
        factor = 1.0 + args.slowdown
        fast = _simulator(fast_port, args.ttft_ms, args.itl_ms)
        slow = _simulator(slow_port, args.ttft_ms * factor, args.itl_ms * factor)
        try:
            fast_spec = _spec(folder, fast_port, args.seconds)
            slow_spec = _spec(folder, slow_port, args.seconds)
            cases = [("unchanged", fast_spec, fast_spec)] * args.pairs
            cases.append((f"{args.slowdown:.0%} slower", fast_spec, slow_spec))
            for index, (kind, base_spec, new_spec) in enumerate(cases):
                for attempt in range(1, args.retries + 2):
                    base_out = folder / f"b{index}-{attempt}"
                    new_out = folder / f"n{index}-{attempt}"
                    base = _run(base_spec, base_out)
                    new = _run(new_spec, new_out)
                    code, verdict = _compare(base_out, new_out, folder)
                    if base["verdict"] == new["verdict"] == "ok":
                        break
                    print(
                        f"   pair {index + 1}, try {attempt}: inconclusive, run again", flush=True
                    )
                row = {"pair": index + 1, "kind": kind, "baseline": base, "new": new}
                row |= {"exit": code, "latency": verdict, "tries": attempt}
                rows.append(row)
                print(
                    f"{index + 1:>2} {kind:<11} P95 {base['p95_ms']:.1f} → {new['p95_ms']:.1f} ms "
                    f"({base['verdict']}/{new['verdict']}) exit {code}  {verdict[:110]}",
                    flush=True,
                )
        finally:
            fast.kill()
            slow.kill()
    ended = _cpu()
    steal = 100.0 * (ended[1] - started[1]) / max(1, ended[0] - started[0])
    unchanged = [r for r in rows if r["kind"] == "unchanged"]
    summary = {
        "unchanged_exit_0": sum(1 for r in unchanged if r["exit"] == 0),
        "reruns": sum(int(str(r["tries"])) - 1 for r in rows),
        "unchanged_pairs": len(unchanged),
        "slowdown_exit": rows[-1]["exit"],
        "load_average": os.getloadavg(),
        "steal_percent": round(steal, 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))
    if args.out is not None:
        args.out.write_text(json.dumps({"summary": summary, "pairs": rows}, indent=2))


if __name__ == "__main__":
    main()
