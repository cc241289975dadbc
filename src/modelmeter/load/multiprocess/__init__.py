"""One load plan over several processes: one event loop per process, results merged exactly.

A single Python process tops out at one core. :func:`run_plan_in_processes` spawns worker
processes (the ``spawn`` start method: a running event loop is never forked), each of which builds
its own target from the target's spec, starts it, runs its share of the plan on its own event loop
(uvloop when installed) and sends its outcomes back in batches. The parent forwards each batch to
``sink`` and ``on_outcome`` as it arrives, so an interrupted run keeps everything that arrived.

How the plan is shared, so that the union is the single-process run:

* **open loop**: the schedule's arrivals are dealt round-robin, arrival ``i`` to worker
  ``i % workers``. Every worker computes the same offsets from the same plan and seed and keeps
  its own, and sends arrival ``i`` with sample ``i % len(samples)``, as the single-process engine
  does. ``max_in_flight`` is split as evenly as possible.
* **closed loop**: ``concurrency`` is split as evenly as possible (10 over 4: 3, 3, 2, 2), and
  ``max_requests`` in proportion to each worker's concurrency, as contiguous blocks of request
  indices, so that together the workers send exactly ``max_requests``.

All workers use one start time, chosen by the parent once every worker has reported its target
ready: ``time.monotonic_ns()`` is system-wide (CLOCK_MONOTONIC), so timestamps taken in different
processes are comparable, and warm-up and cool-down are measured from that common start.

Workers pin themselves to distinct cores when the parent's CPU affinity offers one per worker.
A worker whose target fails to build or start reports the error, and the parent raises it as the
same class. Cancelling the run asks every worker to stop, collects what they send within a grace
period, then terminates those still running; a worker whose parent disappears stops by itself.

As with any ``spawn``-based multiprocessing, a script that calls this must guard its entry point
with ``if __name__ == "__main__":``.

The package: ``shares`` (who sends what), ``worker`` and ``parent`` (the two sides),
``messages`` (what passes between them).
"""

from modelmeter._exceptions import WorkerFailed
from modelmeter.load.multiprocess.parent import run_plan_in_processes
from modelmeter.load.multiprocess.shares import split_evenly, split_like

__all__ = ["WorkerFailed", "run_plan_in_processes", "split_evenly", "split_like"]
