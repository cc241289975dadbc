"""Write ab-sample.csv: a made-up three-variant experiment for `modelmeter ab` to analyse.

3,000 users, each assigned at random (equal shares) to A (control), B or C, one row per user:

* ``converted`` — 0/1: A and C convert 10% of users, B 15% (a real lift; C is a placebo);
* ``pre_spend`` — what the user spent in the month before the experiment;
* ``spend`` — what the user spent during it: 0.8 × pre_spend plus noise, plus 1.0 in B, so
  CUPED on ``pre_spend`` removes most of the variance (ρ ≈ 0.8);
* ``ts`` — when the user entered the experiment (ISO 8601), for sequential looks.

Nothing here is real data; the seed makes the file the same on every run.

    python examples/data/make_ab_sample.py     # rewrites examples/data/ab-sample.csv
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20260301
USERS = 3_000
CONVERSION = {"A": 0.10, "B": 0.15, "C": 0.10}
SPEND_LIFT = {"A": 0.0, "B": 1.0, "C": 0.0}


def main() -> None:
    rng = np.random.default_rng(SEED)
    names = list(CONVERSION)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    seconds = np.cumsum(rng.exponential(30.0, USERS))
    with (HERE / "ab-sample.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["variant", "ts", "pre_spend", "spend", "converted"])
        for second in seconds:
            variant = names[int(rng.integers(len(names)))]
            pre = float(rng.gamma(4.0, 5.0))
            spend = max(0.0, 0.8 * pre + SPEND_LIFT[variant] + float(rng.normal(0.0, 6.0)))
            converted = int(rng.random() < CONVERSION[variant])
            when = (start + timedelta(seconds=float(second))).strftime("%Y-%m-%dT%H:%M:%SZ")
            writer.writerow([variant, when, f"{pre:.2f}", f"{spend:.2f}", converted])


if __name__ == "__main__":
    main()
