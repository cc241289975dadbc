"""Memory and append cost of `OutcomeRecorder` against a plain list of `Outcome` objects.

What it does, each memory figure in a fresh child process (so peak RSS is that mode's own):

* recorder: N synthetic outcomes (default 12,000,000: 10 minutes at 20,000 requests/s) are
  built as the engine builds them (fresh timestamps, a fresh prediction string each) and
  appended one by one, as the engine does, to an ``OutcomeRecorder(keep_predictions=False)``;
  then ``measured_stats()`` summarises them (over the exact limit: histograms), the end of a
  load level runs as a run does (``summarize_level``: the summary, goodput and the load point),
  and 1,000,000 are streamed back as ``Outcome`` objects (what the store would do). Reported:
  peak RSS while recording, after the summary and after the level's end, append ns/outcome
  (appends only, outcome building excluded), the pause of each chunk hand-over, disk bytes.
* paced: the recorder fed at 20,000/s for 30 s, for the pauses a real run would see.
* list: 1,000,000 outcomes appended to a list (extrapolated to N from RSS growth per outcome:
  running 12M would need several GB).
* exact: ``measured_stats()`` and then the end of a level (``summarize_level``) at the exact
  limit (5,000,000 outcomes, all measured percentiles exact): the memory ceiling of the
  exact-percentile path, the highest of any length.
* A/B append cost in one process: list.append vs recorder.append on the same 200,000 outcomes,
  alternated 7 times (medians and their ratio; machines here are shared, ratios are the result).
* With ``--hdrhistogram`` and the ``hdrhistogram`` package importable: its per-value
  ``record_value`` against ``LatencyHistogram.record_many`` on 1,000,000 lognormal values.

CPU steal (8th field of the ``cpu`` line of /proc/stat) is recorded for each child; discard
runs where it passes a few percent. Profiles: ``http`` (one label per answer, usage counts) and
``llm`` (streamed: first token, 128 output tokens, 127 token gaps each).

Run on demand: ``python benchmarks/recorder_memory.py`` (about a minute and a half, ~0.5 GB of
RAM at the peak, in the list child, and ~1 GB of temporary disk); ``--requests 1000000
--paced-seconds 5`` for a quick look.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np

from modelmeter._exceptions import ErrorKind
from modelmeter.load.histogram import LatencyHistogram
from modelmeter.load.outcome import Outcome
from modelmeter.load.phase import summarize_level
from modelmeter.load.recorder import DEFAULT_CHUNK_ROWS, DEFAULT_EXACT_LIMIT, OutcomeRecorder
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.sweep import Slo

RATE_RPS = 20_000
STEP_NS = 1_000_000_000 // RATE_RPS
BATCH = 8_192
SAMPLE_IDS = [f"sample-{i:05d}" for i in range(1_000)]
LABELS = ["billing", "refund", "delivery", "account", "other"]


def rss_now_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """VmHWM: this process's peak RSS (getrusage's ru_maxrss would carry the parent's peak
    across fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_times() -> tuple[int, int]:
    """(total, steal) jiffies of the whole machine."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    return sum(fields), fields[7]


def steal_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[0] - before[0]
    return 100 * (after[1] - before[1]) / total if total else 0.0


def outcomes(count: int, profile: str, seed: int = 1) -> Iterator[list[Outcome]]:
    """Batches of outcomes as the engine makes them: 1/60 warm-up, 1/120 cool-down, 0.5% errors."""
    rng = np.random.default_rng(seed)
    base = 10**12
    warm_end, cool_start = count // 60, count - count // 120
    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        lag = rng.integers(0, 200_000, n).tolist()
        service = rng.lognormal(np.log(2_000_000), 0.5, n).astype(np.int64).tolist()
        failed = (rng.random(n) < 0.005).tolist()
        batch = []
        for j in range(n):
            i = start + j
            intended = base + i * STEP_NS
            sent = intended + lag[j]
            done = sent + service[j]
            if failed[j]:
                batch.append(
                    Outcome(
                        sample_id=SAMPLE_IDS[i % 1000],
                        target="model-a",
                        intended_at=intended,
                        sent_at=sent,
                        done_at=done,
                        error=ErrorKind.TIMEOUT,
                        error_detail=f"no answer within 2.0 s (request {i})",
                        warmup=i < warm_end,
                        cooldown=i >= cool_start,
                    )
                )
                continue
            llm = profile == "llm"
            batch.append(
                Outcome(
                    sample_id=SAMPLE_IDS[i % 1000],
                    target="model-a",
                    intended_at=intended,
                    sent_at=sent,
                    done_at=done,
                    # A fresh string each time, as a parsed answer is.
                    prediction="".join(("label: ", LABELS[i % 5])),
                    input_tokens=40,
                    output_tokens=128 if llm else 1,
                    token_source="usage",
                    first_byte_at=sent + service[j] // 4,
                    first_token_at=sent + service[j] // 3 if llm else None,
                    token_gaps_ns=tuple(range(40_000, 40_000 + 127)) if llm else (),
                    warmup=i < warm_end,
                    cooldown=i >= cool_start,
                )
            )
        yield batch


def child_recorder(count: int, profile: str, chunk_rows: int) -> dict[str, object]:
    base_rss = rss_now_mib()
    recorder = OutcomeRecorder(keep_predictions=False, chunk_rows=chunk_rows)
    pauses: list[int] = []
    spill = recorder._spill

    def timed_spill() -> None:  # bench-only instrumentation: the pause each chunk write makes
        started = time.perf_counter_ns()
        spill()
        pauses.append(time.perf_counter_ns() - started)

    recorder._spill = timed_spill  # type: ignore[method-assign]
    append = recorder.append
    appending = 0
    steal_before = cpu_times()
    for batch in outcomes(count, profile):
        started = time.perf_counter_ns()
        for outcome in batch:
            append(outcome)
        appending += time.perf_counter_ns() - started
    steal = steal_percent(steal_before, cpu_times())
    recorded_peak = peak_rss_mib()
    disk = sum(f.stat().st_size for f in recorder.directory.iterdir()) if recorder.directory else 0
    started = time.perf_counter()
    stats = recorder.measured_stats()
    summary_s = time.perf_counter() - started
    summary_peak = peak_rss_mib()
    started = time.perf_counter()
    plan = LoadPlan(mode="concurrency", concurrency=64, duration_s=count / RATE_RPS)
    _, point = summarize_level(recorder, plan, Slo(p95_ms=50))
    level_end_s = time.perf_counter() - started
    level_end_peak = peak_rss_mib()
    streamed = 0
    started = time.perf_counter()
    for _ in recorder.iter_outcomes():
        streamed += 1
        if streamed == 1_000_000:
            break
    stream_s = time.perf_counter() - started
    p99 = stats.response_ns.percentiles([99])[0] / 1e6
    recorder.close()
    return {
        "count": count,
        "base_rss_mib": base_rss,
        "peak_rss_recording_mib": recorded_peak,
        "peak_rss_after_summary_mib": summary_peak,
        "peak_rss_after_level_end_mib": level_end_peak,
        "level_end_s": level_end_s,
        "goodput_rps": point.goodput_rps,
        "append_ns": appending / count,
        "spill_pause_ms_median": statistics.median(pauses) / 1e6 if pauses else 0.0,
        "spill_pause_ms_p99": float(np.percentile(pauses, 99)) / 1e6 if pauses else 0.0,
        "spill_pause_ms_max": max(pauses) / 1e6 if pauses else 0.0,
        "spills": len(pauses),
        "disk_mib": disk / 2**20,
        "summary_s": summary_s,
        "method": stats.response_ns.method,
        "measured": stats.requests,
        "p99_ms": p99,
        "stream_back_us_per_outcome": stream_s / max(streamed, 1) * 1e6,
        "steal_percent": steal,
    }


def child_paced(seconds: float, profile: str, chunk_rows: int) -> dict[str, object]:
    """Appends at 20,000/s (100 every 5 ms) for ``seconds``: the chunk-write pauses a real run
    sees, where the unpaced run above also shows the writer thread's back-pressure."""
    pool = [o for batch in outcomes(100_000, profile) for o in batch]
    recorder = OutcomeRecorder(keep_predictions=False, chunk_rows=chunk_rows)
    pauses: list[int] = []
    spill = recorder._spill

    def timed_spill() -> None:
        started = time.perf_counter_ns()
        spill()
        pauses.append(time.perf_counter_ns() - started)

    recorder._spill = timed_spill  # type: ignore[method-assign]
    tick_ns, per_tick = 5_000_000, RATE_RPS // 200
    ticks = int(seconds * 200)
    late = 0
    steal_before = cpu_times()
    next_tick = time.perf_counter_ns()
    for tick in range(ticks):
        for j in range(per_tick):
            recorder.append(pool[(tick * per_tick + j) % len(pool)])
        next_tick += tick_ns
        wait = next_tick - time.perf_counter_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        else:
            late += 1
    steal = steal_percent(steal_before, cpu_times())
    recorder.close()
    return {
        "seconds": seconds,
        "appended": ticks * per_tick,
        "spills": len(pauses),
        "spill_pause_ms_median": statistics.median(pauses) / 1e6 if pauses else 0.0,
        "spill_pause_ms_p99": float(np.percentile(pauses, 99)) / 1e6 if pauses else 0.0,
        "spill_pause_ms_max": max(pauses) / 1e6 if pauses else 0.0,
        "late_ticks": late,
        "steal_percent": steal,
    }


def child_list(count: int, profile: str) -> dict[str, object]:
    base_rss = rss_now_mib()
    kept: list[Outcome] = []
    append = kept.append
    appending = 0
    steal_before = cpu_times()
    for batch in outcomes(count, profile):
        started = time.perf_counter_ns()
        for outcome in batch:
            append(outcome)
        appending += time.perf_counter_ns() - started
    steal = steal_percent(steal_before, cpu_times())
    grown = rss_now_mib() - base_rss
    return {
        "count": count,
        "base_rss_mib": base_rss,
        "peak_rss_mib": peak_rss_mib(),
        "bytes_per_outcome": grown * 2**20 / count,
        "append_ns": appending / count,
        "steal_percent": steal,
    }


def child_exact(count: int) -> dict[str, object]:
    """measured_stats at the exact limit: every figure kept as the full sample."""
    base_rss = rss_now_mib()
    recorder = OutcomeRecorder(keep_predictions=False)
    for batch in outcomes(count, "http"):
        recorder.extend(batch)
    before = peak_rss_mib()
    started = time.perf_counter()
    stats = recorder.measured_stats(exact_limit=count)
    for figure in (stats.response_ns, stats.service_ns, stats.lag_ns):
        figure.percentiles([50, 90, 95, 99])  # as summarize_phase does: sorts a copy
    took = time.perf_counter() - started
    stats_peak = peak_rss_mib()
    # What the end of a level runs, with every measured request still under the exact limit.
    recorder.exact_limit = count
    plan = LoadPlan(mode="concurrency", concurrency=64, duration_s=count / RATE_RPS)
    started = time.perf_counter()
    summarize_level(recorder, plan, Slo(p95_ms=50))
    level_end_s = time.perf_counter() - started
    recorder.close()
    return {
        "count": count,
        "measured": stats.requests,
        "method": stats.response_ns.method,
        "base_rss_mib": base_rss,
        "peak_rss_before_summary_mib": before,
        "peak_rss_after_summary_mib": stats_peak,
        "summary_s": took,
        "peak_rss_after_level_end_mib": peak_rss_mib(),
        "level_end_s": level_end_s,
    }


def ab_append(profile: str, rounds: int = 7, count: int = 200_000) -> dict[str, float]:
    batch = [o for b in outcomes(count, profile) for o in b]
    list_ns, recorder_ns = [], []
    for _ in range(rounds):
        kept: list[Outcome] = []
        started = time.perf_counter_ns()
        for outcome in batch:
            kept.append(outcome)
        list_ns.append((time.perf_counter_ns() - started) / count)
        del kept
        with OutcomeRecorder(keep_predictions=False) as recorder:
            append = recorder.append
            started = time.perf_counter_ns()
            for outcome in batch:
                append(outcome)
            recorder_ns.append((time.perf_counter_ns() - started) / count)
    a, b = statistics.median(list_ns), statistics.median(recorder_ns)
    return {"list_append_ns": a, "recorder_append_ns": b, "ratio": b / a}


def hdr_comparison() -> dict[str, float] | None:
    try:
        from hdrh.histogram import HdrHistogram  # type: ignore[import-not-found]
    except ImportError:
        return None
    values = np.random.default_rng(3).lognormal(np.log(2e6), 0.8, 1_000_000).astype(np.int64)
    listed = values.tolist()
    theirs = HdrHistogram(1, 3_600 * 10**9, 3)
    started = time.perf_counter()
    for value in listed:
        theirs.record_value(value)
    theirs_s = time.perf_counter() - started
    started = time.perf_counter()
    ours = LatencyHistogram()
    for start in range(0, values.size, 65_536):
        ours.record_many(values[start : start + 65_536])
    ours_s = time.perf_counter() - started
    qs = [50.0, 90.0, 99.0, 99.9]
    exact = np.percentile(values, qs)
    ours_q = np.array(ours.percentiles(qs))
    theirs_q = np.array([theirs.get_value_at_percentile(q) for q in qs], dtype=np.float64)
    return {
        "hdrhistogram_record_ns_per_value": theirs_s / values.size * 1e9,
        "ours_record_ns_per_value": ours_s / values.size * 1e9,
        "ours_max_rel_error": float(np.max(np.abs(ours_q - exact) / exact)),
        "hdrhistogram_max_rel_error": float(np.max(np.abs(theirs_q - exact) / exact)),
    }


def run_child(args: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12_000_000)
    parser.add_argument("--list-requests", type=int, default=1_000_000)
    parser.add_argument("--exact-requests", type=int, default=DEFAULT_EXACT_LIMIT)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    parser.add_argument("--profile", choices=["http", "llm"], default="http")
    parser.add_argument("--paced-seconds", type=int, default=30)
    parser.add_argument("--hdrhistogram", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, count = args.child[0], int(args.child[1])
        if mode == "recorder":
            result = child_recorder(count, args.profile, args.chunk_rows)
        elif mode == "list":
            result = child_list(count, args.profile)
        elif mode == "paced":
            result = child_paced(float(count), args.profile, args.chunk_rows)
        else:
            result = child_exact(count)
        print(json.dumps(result))
        return

    common = ["--profile", args.profile, "--chunk-rows", str(args.chunk_rows)]
    print(
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, numpy {np.__version__}; "
        f"profile {args.profile}, chunk {args.chunk_rows:,} rows"
    )
    ab = ab_append(args.profile)
    print(
        f"A/B append, 200,000 outcomes x 7 alternated: list {ab['list_append_ns']:.0f} ns, "
        f"recorder {ab['recorder_append_ns']:.0f} ns ({ab['ratio']:.0f}x)"
    )
    rec = run_child(["recorder", str(args.requests), *common])
    print(f"recorder, {args.requests:,} outcomes: {json.dumps(rec, indent=1)}")
    if args.paced_seconds:
        paced = run_child(["paced", str(args.paced_seconds), *common])
        print(f"recorder paced at {RATE_RPS:,}/s: {json.dumps(paced, indent=1)}")
    kept = run_child(["list", str(args.list_requests), *common])
    per = float(kept["bytes_per_outcome"])  # type: ignore[arg-type]
    print(f"list, {args.list_requests:,} outcomes: {json.dumps(kept, indent=1)}")
    print(
        f"list extrapolated to {args.requests:,}: "
        f"{per * args.requests / 2**30:.1f} GiB of outcomes on top of the interpreter"
    )
    if args.profile == "http" and args.exact_requests:
        exact = run_child(["exact", str(args.exact_requests), *common])
        print(f"exact summary at the limit: {json.dumps(exact, indent=1)}")
    if args.hdrhistogram:
        found = hdr_comparison()
        print(
            "hdrhistogram: not importable"
            if found is None
            else f"hdrhistogram vs LatencyHistogram: {json.dumps(found, indent=1)}"
        )


if __name__ == "__main__":
    main()
