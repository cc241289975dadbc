"""Drift report time on 100,000 rows × 25 mixed columns, and which columns it flags.

The data are generated here (seeded): 15 numeric columns (normal, lognormal, integer counts),
7 categorical (3 to 20 categories) and 3 text columns; the current table shifts three of
them (a numeric mean by 0.1 σ, a categorical mix, text lengths) and leaves 22 alone. Timed:
reading both files (JSONL) and comparing them, as `modelmeter drift` does, best of
``--repeats``. With ``--evidently PYTHON`` (a virtualenv's interpreter with
``evidently==0.7.23`` and ``pandas<3``, never this project's dependency) Evidently's
DataDriftPreset runs on the same files in that interpreter, and the two lists of drifted
columns are printed side by side; with ``--whylogs PYTHON`` (``whylogs[viz]==1.6.4`` with
``numpy<2`` and ``pandas<3``, its analytics off) whylogs profiles both files and scores drift
on its profiles (``calculate_drift_scores``, its thresholds). The profile path of modelmeter
(profile both tables, compare the profiles; the profiles' size) is timed too.

    python benchmarks/drift.py [--rows 100000] [--repeats 3] [--evidently PEER/bin/python]
                               [--whylogs PEER/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from modelmeter.data import read_columns
from modelmeter.drift import column_kind, compare_tables
from modelmeter.drift.profile import Profile, profile_table
from modelmeter.drift.windows import compare_profiles

SHIFTED = ["num0", "cat0", "text0"]
# A vocabulary with a long tail, as real text has (word k drawn with weight 1/k)
_WORDS = [f"w{k}" for k in range(2000)]
_WEIGHTS = 1 / np.arange(1, 2001)
_WEIGHTS /= _WEIGHTS.sum()


def make_table(rows: int, rng: np.random.Generator, shifted: bool) -> dict[str, list]:
    table: dict[str, list] = {}
    for i in range(15):
        if i % 3 == 0:
            values = rng.normal(0.1 if shifted and i == 0 else 0.0, 1.0, rows)
        elif i % 3 == 1:
            values = rng.lognormal(2.0, 0.5, rows)
        else:
            values = rng.poisson(4, rows).astype(float)
        table[f"num{i}"] = np.round(values, 5).tolist()
    for i in range(7):
        names = [f"c{k}" for k in range(3 + 3 * i)]
        weights = np.ones(len(names))
        if shifted and i == 0:
            weights[0] = 1.5
        table[f"cat{i}"] = rng.choice(names, rows, p=weights / weights.sum()).tolist()
    for i in range(3):
        lengths = rng.poisson(9 if shifted and i == 0 else 8, rows) + 1
        words = rng.choice(_WORDS, int(lengths.sum()), p=_WEIGHTS).tolist()
        ends = np.cumsum(lengths)
        table[f"text{i}"] = [" ".join(words[e - n : e]) for n, e in zip(lengths, ends, strict=True)]
    return table


def write_jsonl(table: dict[str, list], path: Path) -> None:
    names = list(table)
    with path.open("w") as out:
        for row in zip(*table.values(), strict=True):
            out.write(json.dumps(dict(zip(names, row, strict=True))) + "\n")


EVIDENTLY = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
start = time.perf_counter()
reference = pd.read_json(sys.argv[1], lines=True)
current = pd.read_json(sys.argv[2], lines=True)
report = Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
seconds = time.perf_counter() - start
drifted = []
for metric in report.dict()["metrics"]:
    config = metric.get("config", {})
    if not config.get("type", "").endswith("ValueDrift"):
        continue
    method, threshold, value = config["method"], config["threshold"], metric["value"]
    flagged = value < threshold if "p_value" in method else value >= threshold
    drifted.append([config["column"], method, value, bool(flagged)])
print(json.dumps({"seconds": seconds, "values": drifted}))
"""


WHYLOGS = """
import json, sys, time
start = time.perf_counter()
import pandas as pd
import whylogs as why
from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores
imported = time.perf_counter()
reference = pd.read_json(sys.argv[1], lines=True)
current = pd.read_json(sys.argv[2], lines=True)
read = time.perf_counter()
ref_view = why.log(reference).view()
cur_view = why.log(current).view()
profiled = time.perf_counter()
scores = calculate_drift_scores(target_view=cur_view, reference_view=ref_view, with_thresholds=True)
done = time.perf_counter()
values = [
    [column, score["algorithm"], score["pvalue"], score["drift_category"]]
    for column, score in scores.items() if score
]
print(json.dumps({
    "seconds": done - start, "import": imported - start, "read": read - imported,
    "profile": profiled - read, "score": done - profiled,
    "bytes": len(ref_view.serialize()), "values": values,
}))
"""


def _peer(python: str, script: str, reference: Path, current: Path) -> dict | None:
    env = {
        **os.environ, "DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1",
        "WHYLOGS_NO_ANALYTICS": "True",
    }  # fmt: skip
    done = subprocess.run(
        [python, "-c", script, str(reference), str(current)],
        capture_output=True, text=True, timeout=1800, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        print("  failed:", done.stderr[-2000:])
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--evidently", help="an interpreter with evidently==0.7.23, pandas<3")
    parser.add_argument("--whylogs", help="an interpreter with whylogs[viz]==1.6.4, numpy<2")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        reference, current = Path(folder) / "reference.jsonl", Path(folder) / "current.jsonl"
        write_jsonl(make_table(args.rows, rng, shifted=False), reference)
        write_jsonl(make_table(args.rows, rng, shifted=True), current)
        times, compare_times = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            tables = read_columns(reference), read_columns(current)
            read = time.perf_counter()
            report = compare_tables(*tables)
            done = time.perf_counter()
            times.append(done - start)
            compare_times.append(done - read)
        print(
            f"modelmeter: {args.rows:,} rows × 25 columns, best of {args.repeats}: "
            f"{min(times):.2f} s in all ({min(compare_times):.2f} s comparing); "
            f"load {os.getloadavg()[0]:.2f}"
        )
        print(f"  drifted: {sorted(report.drifted)} (shifted: {sorted(SHIFTED)})")
        kinds = {name: column_kind(values) for name, values in tables[0].items()}
        profile_times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            profiles = profile_table(tables[0], kinds), profile_table(tables[1], kinds)
            sketched = compare_profiles(*profiles)
            profile_times.append(time.perf_counter() - start)
        size = len(json.dumps(profiles[0].to_json(), separators=(",", ":")))
        saved = [json.dumps(p.to_json()) for p in profiles]
        start = time.perf_counter()
        compare_profiles(*(Profile.from_json(json.loads(text)) for text in saved))
        saved_s = time.perf_counter() - start
        print(
            f"modelmeter profiles: {min(profile_times):.2f} s to profile both tables and compare; "
            f"a profile of {args.rows:,} rows is {size / 1000:.1f} KB; drifted: "
            f"{sorted(sketched.drifted)}; two saved profiles read and compared in "
            f"{saved_s * 1000:.0f} ms"
        )
        if args.whylogs:
            found = _peer(args.whylogs, WHYLOGS, reference, current)
            if found is not None:
                flagged = sorted(
                    c for c, _a, _p, category in found["values"] if category == "DRIFT"
                )
                possible = sorted(
                    c for c, _a, _p, category in found["values"] if category == "POSSIBLE_DRIFT"
                )
                print(
                    f"whylogs: {found['seconds']:.2f} s in all (import {found['import']:.2f}, "
                    f"read {found['read']:.2f}, profile {found['profile']:.2f}, score "
                    f"{found['score']:.2f}); a profile is {found['bytes'] / 1000:.1f} KB; "
                    f"drifted: {flagged}; possible drift: {possible}"
                )
                ours = set(report.drifted)
                agree = sum((c in ours) == (k == "DRIFT") for c, _a, _p, k in found["values"])
                print(f"  agree on {agree} of {len(found['values'])} columns")
        if args.evidently:
            result = _peer(args.evidently, EVIDENTLY, reference, current)
            if result is None:
                return
            flagged = sorted(column for column, _m, _v, drifted in result["values"] if drifted)
            print(f"evidently: {result['seconds']:.2f} s; drifted: {flagged}")
            methods = sorted({method for _c, method, _v, _d in result["values"]})
            print(f"  its methods: {methods}")
            ours = set(report.drifted)
            print(
                f"  agree on {sum((c in ours) == d for c, _m, _v, d in result['values'])} of "
                f"{len(result['values'])} columns"
            )


if __name__ == "__main__":
    main()
