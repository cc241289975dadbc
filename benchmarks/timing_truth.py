"""Timing truth: TTFT and ITL as modelmeter (and GuideLLM, AIPerf) measure them, against what the
server actually sent.

The server is ``modelmeter simulate`` (TTFT 50 ms, ITL 10 ms, both fixed; 64 output tokens, one
per chunk; enough slots that nothing queues). It logs, per request, when the request had
arrived and when each chunk was written (a ``time.monotonic_ns()`` reading taken just before the
write call), against when it was due. That log is the truth:

* truth TTFT of a request = first content chunk written − request arrived,
* truth ITL = the gaps between consecutive content chunk writes (one per token here),

and the server's lateness = written − due (how far the server itself fell behind its schedule,
reported apart: a late server changes the truth, not the accuracy of a client).

Settings (each against a fresh simulator): ``c100`` closed loop at 100 concurrent streams,
``c1000`` closed loop at 1,000 streams (the simulator with ``busy_wait_us=0``: polling the clock
before every due write would take a core at that load), ``r200`` open loop at a constant 200
requests/s. Every run has a warm-up that is left out of the statistics.

Tools, one after another in each setting: modelmeter (``run_closed_loop`` / ``run_open_loop``
with its ``openai`` streaming target, in this process on uvloop), GuideLLM (``guidellm run``,
``concurrent`` or ``constant`` profile, streaming) and AIPerf (``aiperf profile --streaming``,
``--concurrency`` or ``--request-rate`` with constant arrivals). Each tool's requests are matched
with the server's log one by one (modelmeter and AIPerf send an ``x-request-id`` the simulator
logs; GuideLLM records the completion id), so "truth" is always computed over exactly the
requests that tool reported. Each tool's ITL is compared under its own definition: modelmeter
and AIPerf's ``inter_chunk_latency`` per gap, GuideLLM's and AIPerf's ``inter_token_latency``
per request (mean gap of a request).

For modelmeter, whose clock is the server's (``CLOCK_MONOTONIC`` on one machine), each
request's TTFT difference is split in two: send → read (from the client's send stamp to the
server reading the request: time the request waited in the socket while the server was busy,
which the server's "truth" does not contain) and write → receive (from the server's write to
the client's receive stamp: the client's own error).

Closed-loop streams started at once stay in step, since every answer takes the same time: 100
requests leave within ~15 ms every ~680 ms and the server reads them one by one. modelmeter's
streams are therefore started over one response time (``--ramp-up``, as ``load.ramp_up_s``
does); ``--ramp-up 0`` shows the in-step case. The peers have no such setting.

Recorded with every run: the client's CPU (this process for modelmeter, the peer's process tree
for peers), the server's CPU, the CPU every other process of the machine used, CPU steal
(``/proc/stat``) and the load average. A run is noisy when steal passes 3% or other processes
use more than ``--max-others`` (50%) of a core; a noisy run is run once more (``--retries``)
and the table shows the last attempt. Before each run the script waits (``--patience``) for
the load average to drop below ``--max-load``.

Run on demand (Linux; peers in a virtualenv of their own, see ``benchmarks/_peers.py``):

    python benchmarks/timing_truth.py [--seconds 10] [--warmup 3] [--settings c100,c1000,r200]
        [--tools ours,guidellm,aiperf] [--peers-venv DIR] [--out timing_truth.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers
from _peers import fmt, markdown_table, pct

from modelmeter.client import PreparedRequest
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop, run_open_loop
from modelmeter.load.schedule import LoadPlan
from modelmeter.load.stats import summarize_llm
from modelmeter.simulate import RequestTiming, SimulatorConfig, start_simulator
from modelmeter.simulate._text import VOCABULARY
from modelmeter.targets.openai import OpenAITarget

TTFT_MS = 50.0
ITL_MS = 10.0
OUTPUT_TOKENS = 64
MODEL = "sim"
PROMPT = "hello count to ten please {}"
# The issue's goal for modelmeter: medians within 0.5 ms of the truth, P99 within 2 ms.
GOAL_MEDIAN_MS = 0.5
GOAL_P99_MS = 2.0
NS_PER_MS = 1e6


@dataclass(frozen=True)
class Setting:
    name: str
    mode: str  # "closed" or "open"
    concurrency: int | None
    rate_rps: float | None
    busy_wait_us: int

    def describe(self) -> str:
        if self.mode == "closed":
            return f"closed loop, {self.concurrency} streams"
        return f"open loop, constant {self.rate_rps:g} req/s"


SETTINGS = {
    "c100": Setting("c100", "closed", 100, None, 2000),
    "c1000": Setting("c1000", "closed", 1000, None, 0),
    "r200": Setting("r200", "open", None, 200.0, 2000),
}


# -- the truth --------------------------------------------------------------------------------


def read_truth(log: Path) -> dict[str, RequestTiming]:
    """The simulator's records, by request id and by completion id."""
    records: dict[str, RequestTiming] = {}
    with log.open("rb") as lines:
        for line in lines:
            timing = RequestTiming.from_json(json.loads(line))
            records[timing.request_id] = timing
            if timing.completion_id:
                records[timing.completion_id] = timing
    return records


@dataclass
class Truth:
    """What the server did for one request, in ms."""

    ttft: float
    gaps: np.ndarray  # between consecutive content writes
    late: np.ndarray  # written − due, each content chunk

    arrived_ns: int = 0
    first_written_ns: int = 0

    @classmethod
    def of(cls, timing: RequestTiming) -> Truth | None:
        content = [c for c in timing.chunks if c.kind == "content"]
        if not content or timing.cancelled or timing.status != 200:
            return None
        written = np.array([c.written_ns for c in content], dtype=np.int64)
        due = np.array([c.scheduled_ns for c in content], dtype=np.int64)
        return cls(
            ttft=(written[0] - timing.arrived_ns) / NS_PER_MS,
            gaps=np.diff(written) / NS_PER_MS,
            late=(written - due) / NS_PER_MS,
            arrived_ns=timing.arrived_ns,
            first_written_ns=int(written[0]),
        )


def truth_summary(truths: list[Truth]) -> dict[str, Any]:
    ttft = [t.ttft for t in truths]
    gaps = np.concatenate([t.gaps for t in truths]) if truths else np.array([])
    per_request = [float(t.gaps.mean()) for t in truths if t.gaps.size]
    late = np.concatenate([t.late for t in truths]) if truths else np.array([])
    return {
        "requests": len(truths),
        "ttft_p50": pct(ttft, 50),
        "ttft_p99": pct(ttft, 99),
        "itl_gap_p50": pct(gaps, 50),
        "itl_gap_p99": pct(gaps, 99),
        "itl_request_mean_p50": pct(per_request, 50),
        "itl_request_mean_p99": pct(per_request, 99),
        "server_late_p50": pct(late, 50),
        "server_late_p99": pct(late, 99),
        "server_late_max": float(late.max()) if late.size else None,
    }


# -- modelmeter -------------------------------------------------------------------------------


class TaggedOpenAITarget(OpenAITarget):
    """modelmeter's OpenAI target, plus an ``x-request-id`` header per sample (the simulator
    logs it, so each outcome meets its server record). Everything else is the product's path."""

    def _prepared(self, sample: Sample) -> PreparedRequest:
        prepared = self._requests.get(sample.id)
        if prepared is None:
            prepared = PreparedRequest.build(
                "POST",
                self._endpoint,
                self._path,
                headers={**self._headers, "x-request-id": sample.id},
                body=json.dumps(self._body(sample.input)).encode(),
            )
            self._requests[sample.id] = prepared
        return prepared


async def _drive_ours(
    url: str, setting: Setting, seconds: float, warmup: float, ramp_up: float
) -> list[Any]:
    expected = (seconds + warmup + 2) * (
        setting.rate_rps or (setting.concurrency or 1) / ((TTFT_MS + 63 * ITL_MS) / 1000)
    )
    samples = [Sample(id=f"mm-{i:07d}", input=PROMPT.format(i)) for i in range(int(expected * 2))]
    target = TaggedOpenAITarget("modelmeter", url + "/v1", MODEL, max_tokens=OUTPUT_TOKENS)
    await target.start()
    try:
        if setting.mode == "closed":
            assert setting.concurrency is not None
            return await run_closed_loop(
                target,
                samples,
                concurrency=setting.concurrency,
                duration_s=seconds,
                warmup_s=warmup,
                ramp_up_s=ramp_up,
            )
        plan = LoadPlan(
            mode="constant",
            rate_rps=setting.rate_rps,
            duration_s=seconds,
            warmup_s=warmup,
            max_in_flight=4096,
        )
        return await run_open_loop(target, samples, plan)
    finally:
        await target.close()


def run_ours(
    url: str, setting: Setting, seconds: float, warmup: float, ramp_up: float
) -> list[Any]:
    """Drive the simulator as ``modelmeter run`` does: uvloop when installed."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_drive_ours(url, setting, seconds, warmup, ramp_up))


def read_ours(outcomes: list[Any]) -> dict[str, Any]:
    """What modelmeter reports (its own summary code), and each request's figures."""
    measured = [o for o in outcomes if o.measured]
    ok = [o for o in measured if o.ok]
    duration_s = (max(o.done_at for o in ok) - min(o.intended_at for o in ok)) / 1e9 if ok else 0.0
    llm = summarize_llm(ok, duration_s)
    per_request = [float(np.mean(o.token_gaps_ns)) / NS_PER_MS for o in ok if o.token_gaps_ns]
    lag = [(o.sent_at - o.intended_at) / NS_PER_MS for o in measured]
    return {
        "requests": len(measured),
        "errors": len(measured) - len(ok),
        "reported": {
            "ttft_p50": llm.ttft_ms.p50 if llm and llm.ttft_ms else None,
            "ttft_p99": llm.ttft_ms.p99 if llm and llm.ttft_ms else None,
            "itl_gap_p50": llm.itl_ms.p50 if llm and llm.itl_ms else None,
            "itl_gap_p99": llm.itl_ms.p99 if llm and llm.itl_ms else None,
            "itl_request_mean_p50": pct(per_request, 50),
            "itl_request_mean_p99": pct(per_request, 99),
            "schedule_lag_p99": pct(lag, 99),
            "summary_method": getattr(llm.itl_ms, "method", None) if llm else None,
        },
        "per_request": {
            o.sample_id: {
                "ttft": (o.first_token_at - o.sent_at) / NS_PER_MS,
                "gaps": np.asarray(o.token_gaps_ns, dtype=np.float64) / NS_PER_MS,
                # same clock as the server's (CLOCK_MONOTONIC), so the TTFT difference splits
                "sent_at": o.sent_at,
                "first_token_at": o.first_token_at,
            }
            for o in ok
            if o.first_token_at is not None
        },
    }


# -- peers ------------------------------------------------------------------------------------


def _write_inputs(work: Path) -> tuple[Path, Path, Path]:
    prompts = work / "prompts.jsonl"
    aiperf_inputs = work / "aiperf_inputs.jsonl"
    with prompts.open("w") as plain, aiperf_inputs.open("w") as single_turn:
        for index in range(2000):
            text = PROMPT.format(index)
            plain.write(json.dumps({"prompt": text}) + "\n")
            single_turn.write(json.dumps({"text": text}) + "\n")
    words = list(VOCABULARY) + PROMPT.format("").split()
    tokenizer = _peers.build_tokenizer(work / "tokenizer", words)
    return prompts, aiperf_inputs, tokenizer


def guidellm_command(
    tool: Path,
    url: str,
    setting: Setting,
    seconds: float,
    warmup: float,
    inputs: Path,
    tokenizer: Path,
    out: Path,
) -> list[str]:
    if setting.mode == "closed":
        profile = f"kind=concurrent,streams={setting.concurrency},warmup={warmup:g}"
    else:
        profile = f"kind=constant,rate={setting.rate_rps:g},warmup={warmup:g}"
    return [
        str(tool), "run",
        "--backend", f"kind=openai_http,target={url},model={MODEL},max_tokens={OUTPUT_TOKENS}",
        "--profile", profile,
        "--constraint", f"kind=max_duration,seconds={warmup + seconds:g}",
        "--tokenizer", f"kind=hf_auto,model={tokenizer}",
        "--data", f"kind=json_file,path={inputs}",
        "--output", f"kind=json,path={out}",
        "--disable-console",
    ]  # fmt: skip


def read_guidellm(out: Path) -> dict[str, Any]:
    document = json.loads(out.read_text())
    benchmark = document["benchmarks"][0]
    metrics = benchmark["metrics"]
    ttft = metrics["time_to_first_token_ms"]["successful"]
    itl = metrics["inter_token_latency_ms"]["successful"]
    # GuideLLM counts the requests that ended after its measurement start (the end of its
    # warm-up) and began before its end: with nothing cut at the end, the `count` requests that
    # ended last.
    count = int(ttft["count"])
    successful = sorted(
        benchmark["requests"]["successful"], key=lambda r: r["info"]["timings"]["request_end"]
    )
    requests = successful[len(successful) - count :] if count else []
    return {
        "requests": int(ttft["count"]),
        "errors": len(benchmark["requests"].get("errored", [])),
        "reported": {
            "ttft_p50": ttft["percentiles"]["p50"],
            "ttft_p99": ttft["percentiles"]["p99"],
            "itl_request_mean_p50": itl["percentiles"]["p50"],
            "itl_request_mean_p99": itl["percentiles"]["p99"],
        },
        # the median of the selected requests' own TTFTs: equals the reported one if the
        # selection is GuideLLM's
        "selection_check_ttft_p50": pct([r["time_to_first_token_ms"] for r in requests], 50),
        "per_request": {
            r["response_id"]: {"ttft": r["time_to_first_token_ms"], "gaps": None}
            for r in requests
            if r.get("response_id") and r.get("time_to_first_token_ms") is not None
        },
    }


def aiperf_command(
    tool: Path,
    url: str,
    setting: Setting,
    seconds: float,
    warmup: float,
    inputs: Path,
    tokenizer: Path,
    out: Path,
) -> list[str]:
    command = [
        str(tool), "profile",
        "-m", MODEL, "--url", url, "--endpoint-type", "chat", "--streaming",
        "--tokenizer", str(tokenizer), "--use-server-token-count",
        "--input-file", str(inputs), "--custom-dataset-type", "single-turn",
        "--prompt-output-tokens-mean", str(OUTPUT_TOKENS),
        "--benchmark-duration", f"{seconds:g}", "--warmup-duration", f"{warmup:g}",
        "--output-artifact-dir", str(out),
        "--ui", "none", "--no-server-metrics", "--no-gpu-telemetry",
    ]  # fmt: skip
    if setting.mode == "closed":
        command += ["--concurrency", str(setting.concurrency)]
    else:
        command += ["--request-rate", f"{setting.rate_rps:g}", "--arrival-pattern", "constant"]
    return command


def read_aiperf(out: Path) -> dict[str, Any]:
    summary = json.loads((out / "profile_export_aiperf.json").read_text())
    per_request: dict[str, Any] = {}
    errors = 0
    with (out / "profile_export.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            meta = record.get("metadata", {})
            if meta.get("benchmark_phase") != "profiling":
                continue
            values = record.get("metrics") or {}
            if record.get("error") or "time_to_first_token" not in values:
                errors += 1
                continue
            gaps = values.get("inter_chunk_latency", {}).get("value")
            per_request[meta.get("x_request_id", "")] = {
                "ttft": values["time_to_first_token"]["value"],
                "gaps": None if gaps is None else np.asarray(gaps, dtype=np.float64),
            }

    def stat(name: str, q: str) -> float | None:
        entry = summary.get(name)
        return None if not isinstance(entry, dict) else entry.get(q)

    return {
        "requests": int(stat("request_count", "avg") or 0),
        "errors": errors,
        "reported": {
            "ttft_p50": stat("time_to_first_token", "p50"),
            "ttft_p99": stat("time_to_first_token", "p99"),
            "itl_gap_p50": stat("inter_chunk_latency", "p50"),
            "itl_gap_p99": stat("inter_chunk_latency", "p99"),
            "itl_request_mean_p50": stat("inter_token_latency", "p50"),
            "itl_request_mean_p99": stat("inter_token_latency", "p99"),
        },
        "per_request": per_request,
    }


# -- one run ----------------------------------------------------------------------------------


def paired(per_request: dict[str, Any], truth: dict[str, RequestTiming]) -> dict[str, Any]:
    """Per-request differences (tool − truth) over the requests found in the server's log."""
    ttft_diff: list[float] = []
    upstream: list[float] = []  # client's send → server read the request
    downstream: list[float] = []  # server wrote the first token → client's receive stamp
    gap_diff: list[np.ndarray] = []
    truths: list[Truth] = []
    missing = 0
    for request_id, measured in per_request.items():
        timing = truth.get(request_id)
        found = Truth.of(timing) if timing is not None else None
        if found is None:
            missing += 1
            continue
        truths.append(found)
        ttft_diff.append(measured["ttft"] - found.ttft)
        if measured.get("sent_at") is not None:
            upstream.append((found.arrived_ns - measured["sent_at"]) / NS_PER_MS)
            downstream.append((measured["first_token_at"] - found.first_written_ns) / NS_PER_MS)
        gaps = measured["gaps"]
        if gaps is not None and len(gaps) == len(found.gaps):
            gap_diff.append(gaps - found.gaps)
    gaps_all = np.concatenate(gap_diff) if gap_diff else np.array([])
    return {
        "truths": truths,
        "unmatched": missing,
        "ttft_diff_p50": pct(ttft_diff, 50),
        "ttft_diff_p99": pct(ttft_diff, 99),
        "ttft_diff_min": min(ttft_diff, default=None),
        "ttft_diff_max": max(ttft_diff, default=None),
        "upstream_p50": pct(upstream, 50),
        "upstream_p99": pct(upstream, 99),
        "downstream_p50": pct(downstream, 50),
        "downstream_p99": pct(downstream, 99),
        "gap_diff_p50": pct(gaps_all, 50) if gaps_all.size else None,
        "gap_diff_p1": pct(gaps_all, 1) if gaps_all.size else None,
        "gap_diff_p99": pct(gaps_all, 99) if gaps_all.size else None,
    }


class IndependentServer:
    """``benchmarks/_sse_server.py`` in a process of its own: the same settings as the
    simulator's (TTFT 50 ms, ITL 10 ms, 64 tokens), plain asyncio, its log in the same layout."""

    def __init__(self, run_dir: Path, log: Path) -> None:
        ready = run_dir / "ready.json"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve().parent / "_sse_server.py"),
                f"--ttft-ms={TTFT_MS}",
                f"--itl-ms={ITL_MS}",
                f"--tokens={OUTPUT_TOKENS}",
                f"--log={log}",
                f"--ready-file={ready}",
            ],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the independent SSE server did not start")
            time.sleep(0.02)
        self.url = json.loads(ready.read_text())["url"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def one_run(
    tool: str, setting: Setting, args: argparse.Namespace, work: Path, inputs: dict[str, Path]
) -> dict[str, Any]:
    config = SimulatorConfig(
        model=MODEL,
        ttft_ms=TTFT_MS,
        itl_ms=ITL_MS,
        output_tokens=OUTPUT_TOKENS,
        slots=4096,
        busy_wait_us=setting.busy_wait_us if args.busy_wait_us is None else args.busy_wait_us,
        timings_capacity=0,
    )
    run_dir = Path(tempfile.mkdtemp(prefix=f"{tool}-{setting.name}-", dir=work))
    log = run_dir / "timings.jsonl"
    _peers.wait_quiet(args.max_load, args.patience)
    simulator: Any = (
        IndependentServer(run_dir, log)
        if args.server == "independent"
        else start_simulator(config, timings_log=log)
    )
    result: dict[str, Any] = {"tool": tool, "setting": setting.name}
    try:
        meter = _peers.Meter(pids={"server": simulator.process.pid})
        if tool == "ours":
            outcomes = run_ours(simulator.url, setting, args.seconds, args.warmup, args.ramp_up)
            facts = meter.stop()
            facts["client_cpu_pct"] = facts["self_cpu_pct"]
            measured = read_ours(outcomes)
        else:
            venv = args.peers_venv
            executable = _peers.peer_tool(venv, tool)
            assert executable is not None
            out = run_dir / ("guidellm.json" if tool == "guidellm" else "aiperf")
            build = guidellm_command if tool == "guidellm" else aiperf_command
            data = inputs["prompts"] if tool == "guidellm" else inputs["aiperf_inputs"]
            command = build(
                executable, simulator.url, setting, args.seconds, args.warmup, data,
                inputs["tokenizer"], out,
            )  # fmt: skip
            code, _ = _peers.run_peer(
                command,
                env=_peers.peer_env(hf_offline=tool != "aiperf"),
                log=run_dir / "peer.log",
                timeout_s=args.seconds + args.warmup + args.peer_timeout,
                cwd=run_dir,
            )
            facts = meter.stop()
            facts["client_cpu_pct"] = facts["children_cpu_pct"]
            result["exit_code"] = code
            if code != 0:
                result["failed"] = _peers.log_tail(run_dir / "peer.log")
                return result
            measured = read_guidellm(out) if tool == "guidellm" else read_aiperf(out)
        # CPU that neither the client nor the server used (other processes of the machine):
        # what competed with them for the cores.
        facts["others_cpu_pct"] = round(
            facts["machine_busy_pct"] * facts["cores"]
            - facts["client_cpu_pct"]
            - (facts["server_cpu_pct"] or 0.0),
            1,
        )
        if facts["others_cpu_pct"] > args.max_others:
            facts["noisy"] = True
    finally:
        simulator.stop()
    truth = read_truth(log)
    pairs = paired(measured.pop("per_request"), truth)
    result.update(measured)
    result["truth"] = truth_summary(pairs.pop("truths"))
    result["paired"] = pairs
    result["facts"] = facts
    return result


# -- output -----------------------------------------------------------------------------------


ITL_DEFINITIONS = {
    "ours": ("itl_gap", "per gap"),
    "guidellm": ("itl_request_mean", "per-request mean"),
    "aiperf": ("itl_gap", "per gap (inter_chunk_latency)"),
}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def tables(results: list[dict[str, Any]]) -> str:
    parts = []
    header = [
        "setting", "tool", "requests",
        "TTFT p50: tool / truth / Δ", "TTFT p99: tool / truth / Δ",
        "ITL definition", "ITL p50: tool / truth / Δ", "ITL p99: tool / truth / Δ", "goal",
    ]  # fmt: skip
    rows = []
    extra_rows = []
    for r in results:
        if "reported" not in r:
            rows.append([r["setting"], r["tool"], "failed", "", "", "", "", "", ""])
            continue
        rep, tru = r["reported"], r["truth"]
        prefixes = [ITL_DEFINITIONS[r["tool"]]]
        if r["tool"] == "aiperf":
            prefixes.append(("itl_request_mean", "per-request mean (inter_token_latency)"))
        if r["tool"] == "ours":
            prefixes.append(("itl_request_mean", "per-request mean (derived)"))
        for index, (prefix, label) in enumerate(prefixes):
            cells = []
            for key in ("ttft_p50", "ttft_p99", f"{prefix}_p50", f"{prefix}_p99"):
                cells.append(
                    f"{fmt(rep.get(key))} / {fmt(tru.get(key))} / "
                    f"{fmt(_diff(rep.get(key), tru.get(key)), signed=True)}"
                )
            goal = ""
            if r["tool"] == "ours" and index == 0:
                checks = [
                    abs(_diff(rep["ttft_p50"], tru["ttft_p50"]) or 0) <= GOAL_MEDIAN_MS,
                    abs(_diff(rep["ttft_p99"], tru["ttft_p99"]) or 0) <= GOAL_P99_MS,
                    abs(_diff(rep["itl_gap_p50"], tru["itl_gap_p50"]) or 0) <= GOAL_MEDIAN_MS,
                    abs(_diff(rep["itl_gap_p99"], tru["itl_gap_p99"]) or 0) <= GOAL_P99_MS,
                ]
                goal = "met" if all(checks) else "MISSED"
            row = [r["setting"], r["tool"], str(r["requests"]), cells[0], cells[1], label,
                   cells[2], cells[3], goal]  # fmt: skip
            if index:
                row[3] = row[4] = "″"
                extra_rows.append(row)
            else:
                rows.append(row)
    parts.append("TTFT and ITL in ms (median p50, p99); Δ = tool − truth over the same requests")
    parts.append(markdown_table(header, rows + extra_rows))

    header = [
        "setting", "tool", "paired TTFT Δ p50 / p99 / max",
        "of which send→read p50 / p99", "of which write→receive p50 / p99",
        "paired gap Δ p1 / p50 / p99",
        "server late p50 / p99 / max", "client CPU", "server CPU", "others' CPU", "steal",
        "load 1m", "unmatched",
    ]  # fmt: skip
    rows = []
    for r in results:
        if "paired" not in r:
            continue
        p, t, f = r["paired"], r["truth"], r["facts"]
        rows.append([
            r["setting"], r["tool"],
            f"{fmt(p['ttft_diff_p50'], '.3f', True)} / {fmt(p['ttft_diff_p99'], '.3f', True)} / "
            f"{fmt(p['ttft_diff_max'], '.2f', True)}",
            f"{fmt(p['upstream_p50'], '.3f')} / {fmt(p['upstream_p99'], '.2f')}",
            f"{fmt(p['downstream_p50'], '.3f')} / {fmt(p['downstream_p99'], '.2f')}",
            f"{fmt(p['gap_diff_p1'], '.3f', True)} / {fmt(p['gap_diff_p50'], '.3f', True)} / "
            f"{fmt(p['gap_diff_p99'], '.3f', True)}",
            f"{fmt(t['server_late_p50'], '.3f')} / {fmt(t['server_late_p99'], '.2f')} / "
            f"{fmt(t['server_late_max'], '.1f')}",
            f"{fmt(f['client_cpu_pct'], '.0f')}%", f"{fmt(f['server_cpu_pct'], '.0f')}%",
            f"{f['others_cpu_pct']:.0f}%",
            f"{f['steal_pct']:.2f}%" + (" NOISY" if f["noisy"] else ""),
            f"{f['loadavg_1m']:.2f}", str(p["unmatched"]),
        ])  # fmt: skip
    parts.append(
        "Per-request pairs (tool − truth, ms), server lateness (written − due, ms) and CPU "
        "(% of one core; others: the rest of the machine's busy time; steal: % of all cores)"
    )
    parts.append(markdown_table(header, rows))
    return "\n\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up left out, per run")
    parser.add_argument("--settings", default="c100,c1000,r200")
    parser.add_argument("--tools", default="ours,guidellm,aiperf")
    parser.add_argument("--peers-venv", help="virtualenv holding guidellm and aiperf")
    parser.add_argument(
        "--ramp-up",
        type=float,
        default=(TTFT_MS + (OUTPUT_TOKENS - 1) * ITL_MS) / 1000,
        help="closed loop: start modelmeter's streams over this many seconds (default one "
        "response time, so they do not stay in step; 0 starts them together)",
    )
    parser.add_argument("--busy-wait-us", type=int, help="override the simulator's busy_wait_us")
    parser.add_argument(
        "--server",
        choices=["simulate", "independent"],
        default="simulate",
        help="the server the truth comes from: modelmeter simulate, or benchmarks/_sse_server.py "
        "(plain asyncio, nothing of ours)",
    )
    parser.add_argument("--retries", type=int, default=1, help="reruns of a noisy run")
    parser.add_argument(
        "--max-others",
        type=float,
        default=50.0,
        help="%% of a core other processes may use before a run counts as noisy",
    )
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for a quieter machine")
    parser.add_argument("--patience", type=float, default=20.0, help="seconds to wait for it")
    parser.add_argument("--peer-timeout", type=float, default=180.0, help="extra seconds")
    parser.add_argument("--out", type=Path, default=Path("timing_truth.json"))
    args = parser.parse_args()
    args.peers_venv = _peers.find_peers_venv(args.peers_venv)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    skipped = {}
    for tool in [t for t in tools if t != "ours"]:
        if _peers.peer_tool(args.peers_venv, tool) is None:
            skipped[tool] = "not installed in the peers' virtualenv (see --peers-venv)"
    tools = [t for t in tools if t not in skipped]
    versions = {
        "guidellm": _peers.peer_version(args.peers_venv, "guidellm"),
        "aiperf": _peers.peer_version(args.peers_venv, "aiperf"),
    }
    results: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="timing-truth-") as tmp:
        work = Path(tmp)
        prompts, aiperf_inputs, tokenizer = _write_inputs(work)
        inputs = {"prompts": prompts, "aiperf_inputs": aiperf_inputs, "tokenizer": tokenizer}
        for name in args.settings.split(","):
            setting = SETTINGS[name.strip()]
            for tool in tools:
                for attempt in range(args.retries + 1):
                    started = time.monotonic()
                    result = one_run(tool, setting, args, work, inputs)
                    result["attempt"] = attempt
                    result["elapsed_s"] = round(time.monotonic() - started, 1)
                    attempts.append(result)
                    facts = result.get("facts", {})
                    print(
                        f"{setting.name:6} {tool:9} attempt {attempt}: "
                        f"{result.get('requests', 'failed')} requests, "
                        f"steal {facts.get('steal_pct', '–')}%, "
                        f"{result['elapsed_s']} s",
                        file=sys.stderr,
                        flush=True,
                    )
                    if not facts.get("noisy"):
                        break
                results.append(result)
    text = tables(results)
    print(text)
    for tool, why in skipped.items():
        print(f"\n{tool}: skipped, {why}")
    document = {
        "benchmark": "timing_truth",
        "machine": _peers.machine_description(),
        "server": {
            "ttft_ms": TTFT_MS,
            "itl_ms": ITL_MS,
            "output_tokens": OUTPUT_TOKENS,
            "tokens_per_chunk": 1,
        },
        "settings": {n: SETTINGS[n].__dict__ for n in args.settings.split(",")},
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "peer_versions": versions,
        "skipped": skipped,
        "goal": {"median_ms": GOAL_MEDIAN_MS, "p99_ms": GOAL_P99_MS},
        "results": results,
        "attempts": attempts,
    }
    args.out.write_text(json.dumps(document, indent=1, default=_json_default))
    print(f"\nwritten: {args.out}")
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    sys.exit(main())
