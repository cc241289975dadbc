"""Bytes the run store takes per stored request: one row per request against column blocks.

Saves the same synthetic load phase (default 200,000 requests: steady sends 50 µs apart on
average, lognormal answers around 8 ms, 1% timeouts, 500 distinct sample ids, the first 5%
warm-up) into two fresh SQLite files: once as the store wrote it before blocks (one row of the
``outcomes`` table per request, in batches of 10,000, as the old ``RunStore.save`` did) and
once through ``RunStore.save`` (compressed column blocks). Reports each file's growth over an
empty store with the run's report, per request, and the time each save took. Also reads the
blocks back with ``measured_outcomes`` and checks every request is there.

Run on demand: ``python benchmarks/store_size.py [--requests N]`` (about 20 s).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.test_store import _report
from tests.unit.test_store_blocks import _load_phase

from modelmeter.store import RunStore
from modelmeter.store.schema import outcomes


def _rows_as_before(store: RunStore, run_id: str, load: list) -> None:  # type: ignore[type-arg]
    rows = (
        {
            "run_id": run_id,
            "target": "base",
            "phase": "load",
            "sample_id": o.sample_id,
            "intended_at_ns": o.intended_at,
            "sent_at_ns": o.sent_at,
            "done_at_ns": o.done_at,
            "prediction": o.prediction,
            "error_kind": str(o.error) if o.error is not None else None,
            "warmup": int(o.warmup),
            "cooldown": int(o.cooldown),
        }
        for o in load
    )
    engine = create_engine(store.url)
    with engine.begin() as connection:
        while batch := list(itertools.islice(rows, 10_000)):
            connection.execute(insert(outcomes), batch)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    load = _load_phase(args.requests)
    run_id = "20260101-000000-aaaaaa"
    with tempfile.TemporaryDirectory() as folder:
        for layout in ("rows", "blocks"):
            path = Path(folder) / f"{layout}.sqlite3"
            store = RunStore(str(path))
            store.save(_report(run_id))
            empty = path.stat().st_size
            started = time.perf_counter()
            if layout == "rows":
                _rows_as_before(store, run_id, load)
            else:
                store.save(_report(run_id), {("base", "load"): load}, replace=True)
            took = time.perf_counter() - started
            grown = path.stat().st_size - empty
            if layout == "blocks":
                measured = store.measured_outcomes(run_id)
                assert len(measured) == sum(o.measured for o in load)
            store.close()
            print(
                f"{layout:6} {args.requests:,} requests: {grown / 2**20:7.2f} MiB, "
                f"{grown / args.requests:6.1f} bytes per request, saved in {took:.2f} s"
            )


if __name__ == "__main__":
    main()
