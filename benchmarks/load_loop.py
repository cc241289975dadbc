"""CPU cost of the load loop itself, per request, with a target that answers at once.

What it measures: the load engine's own work per request (scheduling, phase marking, timing,
building the Outcome, handing it on), apart from any HTTP client or server. The target is an
in-process ``python`` target whose function returns its input, so nearly all CPU time is the
loop's. Each setting sends ``--requests`` requests; the figure is the process's CPU time divided
by the requests sent (median of ``--rounds``), for:

- ``closed``: ``run_plan`` with a closed loop at 64 concurrent requests (one process);
- ``open``: ``run_plan`` with an open loop at a constant rate far above what one core can send,
  so the loop runs flat out and every request is late (the rate only sets the schedule);
- ``closed x2`` / ``open x2``: the same through ``run_plan_in_processes`` with 2 worker
  processes (CPU of the workers, from their own accounting, plus the parent's).

    python benchmarks/load_loop.py --requests 200000 --rounds 3

The machine's load and CPU steal over the measurement are printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

from modelmeter._loop import run as run_on_fast_loop
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_plan
from modelmeter.load.multiprocess import run_plan_in_processes
from modelmeter.load.schedule import LoadPlan
from modelmeter.spec.targets import PythonTargetSpec
from modelmeter.targets.registry import create_target

SAMPLES = [Sample(id=f"s{i}", input=f"text {i}", label=None) for i in range(1_000)]


def echo(text: str) -> str:
    """The target's model: answers at once."""
    return text


SPEC = PythonTargetSpec(kind="python", name="echo", function="load_loop:echo")


def _plans(requests: int) -> dict[str, LoadPlan]:
    rate = 10_000_000.0
    return {
        "closed": LoadPlan(
            mode="concurrency", concurrency=64, duration_s=3600, warmup_s=0, max_requests=requests
        ),
        "open": LoadPlan(
            mode="constant",
            rate_rps=rate,
            duration_s=requests / rate,
            warmup_s=0,
            max_in_flight=64,
        ),
    }


async def _one_process(plan: LoadPlan) -> int:
    target = create_target(SPEC)
    await target.start()
    try:
        return len(await run_plan(target, SAMPLES, plan))
    finally:
        await target.close()


async def _two_processes(plan: LoadPlan, worker_cpu: list[float]) -> int:
    outcomes = await run_plan_in_processes(
        SPEC, SAMPLES, plan, processes=2, worker_cpu_s=worker_cpu, pin=False
    )
    return len(outcomes)


def _measure(name: str, plan: LoadPlan) -> float:
    """CPU µs per request of one run."""
    worker_cpu: list[float] = []
    cpu_before = time.process_time()
    if name.endswith("x2"):
        sent = run_on_fast_loop(_two_processes(plan, worker_cpu))
    else:
        sent = run_on_fast_loop(_one_process(plan))
    cpu = time.process_time() - cpu_before + sum(worker_cpu)
    return cpu / sent * 1e6


def _cpu_times() -> tuple[int, int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(fields[:3]) + sum(fields[5:7]), fields[7], sum(fields[:8])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    )
    plans = _plans(args.requests)
    settings: dict[str, Any] = {
        "closed": plans["closed"],
        "open": plans["open"],
        "closed x2": plans["closed"],
        "open x2": plans["open"],
    }
    results: dict[str, list[float]] = {name: [] for name in settings}
    busy0, steal0, total0 = _cpu_times()
    for _ in range(args.rounds):
        for name, plan in settings.items():
            results[name].append(_measure(name, plan))
    busy1, steal1, total1 = _cpu_times()
    print(f"{'setting':10} {'CPU µs/request (median)':>24} {'all rounds':>30}")
    for name, values in results.items():
        rounds = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:10} {statistics.median(values):24.2f} {rounds:>30}")
    span = max(1, total1 - total0)
    print(
        f"machine: {os.cpu_count()} cores, busy {100 * (busy1 - busy0) / span:.1f}% (this "
        f"benchmark included), steal {100 * (steal1 - steal0) / span:.2f}%, "
        f"load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
