"""Bytes the run store takes per stored request: one row per request against column blocks.

Saves the same synthetic load phase (default 200,000 requests: steady sends 50 µs apart on
average, lognormal answers around 8 ms, 1% timeouts, 500 distinct sample ids, the first 5%
warm-up) into two fresh SQLite files: both through ``RunStore.save``: once under a phase
the store keeps as one row of the ``outcomes`` table per request (as it kept every phase before
blocks, and still keeps quality passes), once as a load phase (compressed column blocks).
Reports each file's growth over an empty store with the run's report, per request, and the
time each save took. Also reads the
blocks back with ``measured_outcomes`` and checks every request is there.

Run on demand: ``python benchmarks/store_size.py [--requests N]`` (about 20 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.test_store import _report
from tests.unit.test_store_blocks import _load_phase

from modelmeter.store import RunStore


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
            store.close()  # the last connection to close moves the write-ahead log into the file
            empty = path.stat().st_size
            store = RunStore(str(path))
            started = time.perf_counter()
            # A phase outside BLOCK_PHASES is stored as before blocks: one row per request.
            phase = "load" if layout == "blocks" else "rows"
            store.save(_report(run_id), {("base", phase): load}, replace=True)
            took = time.perf_counter() - started
            if layout == "blocks":
                measured = store.measured_outcomes(run_id)
                assert len(measured) == sum(o.measured for o in load)
            store.close()
            assert not path.with_name(path.name + "-wal").exists()
            grown = path.stat().st_size - empty
            print(
                f"{layout:6} {args.requests:,} requests: {grown / 2**20:7.2f} MiB, "
                f"{grown / args.requests:6.1f} bytes per request, saved in {took:.2f} s"
            )


if __name__ == "__main__":
    main()
