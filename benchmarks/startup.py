"""Start-up time of the ``modelmeter`` command against a bare Python interpreter.

What it measures: the wall time from starting a process to its exit for ``python -c pass`` (the
floor every Python program pays), ``modelmeter --version`` and ``modelmeter --help``, each run
``--runs`` times in turns (one of each per round, so a burst of load hits all three alike), and
the CPU load and steal of the machine over the whole measurement. It reports each command's
median and the medians' difference to the bare interpreter: the time modelmeter itself adds
before it prints anything. The goal is at most 0.3 s added (issue 9).

    python benchmarks/startup.py --runs 30
    python benchmarks/startup.py --runs 30 --json startup.json

Run it with the interpreter of the environment modelmeter is installed in; ``modelmeter`` is
taken from beside that interpreter (the console script), else run as ``python -m modelmeter``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _cpu_times() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    steal = fields[7] if len(fields) > 7 else 0
    total = sum(fields[:8])
    return total - idle - steal, steal, total


def _time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def _modelmeter() -> list[str]:
    script = Path(sys.executable).with_name("modelmeter")
    return [str(script)] if script.exists() else [sys.executable, "-m", "modelmeter"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="rounds of the three commands")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "modelmeter --version": [*_modelmeter(), "--version"],
        "modelmeter --help": [*_modelmeter(), "--help"],
    }
    for command in commands.values():  # warm the file cache once; not timed
        _time(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    busy0, steal0, total0 = _cpu_times()
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(_time(command))
    busy1, steal1, total1 = _cpu_times()

    floor = statistics.median(times["python -c pass"])
    cores = os.cpu_count() or 1
    figures = {
        name: {
            "median_s": round(statistics.median(values), 4),
            "min_s": round(min(values), 4),
            "added_s": round(statistics.median(values) - floor, 4),
        }
        for name, values in times.items()
    }
    machine = {
        "cores": cores,
        "runs": args.runs,
        "busy_percent": round(100 * (busy1 - busy0) / max(1, total1 - total0), 1),
        "steal_percent": round(100 * (steal1 - steal0) / max(1, total1 - total0), 2),
        "load_average": os.getloadavg(),
    }
    print(f"{'command':24} {'median s':>9} {'min s':>7} {'added s':>8}")
    for name, row in figures.items():
        print(f"{name:24} {row['median_s']:9.3f} {row['min_s']:7.3f} {row['added_s']:8.3f}")
    print(
        f"machine: {cores} cores, busy {machine['busy_percent']}% (this benchmark included), "
        f"steal {machine['steal_percent']}%, load average {machine['load_average'][0]:.2f}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps({"commands": figures, "machine": machine}, indent=2))


if __name__ == "__main__":
    main()
