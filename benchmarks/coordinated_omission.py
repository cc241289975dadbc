"""Coordinated omission: what load generators report for a server that stalls now and then.

The server (in this script, run as a child process: uvloop + httptools) answers every request
with a small JSON body about 1 ms after reading it (an event-loop timer, so 1–2 ms), and stalls
completely (``time.sleep`` on its event loop: no reads, no writes, no accepts) for 1 s every
10 s, the first stall 5 s after its first request. Over a 30 s run it is thus stalled ~10% of
the time: a client that keeps sending 1,000 requests/s whatever happens has ~10% of its requests
caught in a stall, waiting up to 1 s, so an honest P99 is most of a second. A client that waits
for answers before sending more (a closed loop, or a "constant throughput" that skips the slots
it missed) sends almost nothing during a stall and records only its few stuck requests: its
P99 stays near the 1–2 ms service time. That is coordinated omission (Gil Tene; wrk2).

Clients, each against a fresh server, one after another:

* ``ours``: modelmeter's open loop (``run_open_loop``, constant 1,000 req/s, its ``http`` JSON
  target). Response time = done − intended (the schedule's send time); service time = done −
  sent; schedule lag = sent − intended.
* ``naive``: a hand-written paced closed loop (the usual "rate-limited" load test): N connections
  each send every N/rate seconds, wait for the answer, and, when late, send the next at once
  without making up missed slots; latency is timed from its send. Same HTTP client as ``ours``,
  so only the loop differs.
* ``locust``: ``FastHttpUser`` with ``wait_time = constant_throughput(r)`` (its constant
  throughput mode: no catch-up either), U users × r = 1,000 req/s; one run per ``--locust-users``.
* ``guidellm``: GuideLLM cannot send an arbitrary JSON request; it speaks the OpenAI API only. The
  server therefore also answers ``/v1/chat/completions`` with an OpenAI-shaped body (same delay,
  same stalls), and GuideLLM runs its ``constant`` profile at 1,000 req/s, non-streaming. Its own
  latency is timed from its send; its per-request log also has the scheduled start, so the table
  adds what the same requests look like timed from the schedule.
* ``wrk``: closed loop with 2 connections (it cannot hold a rate; wrk2 can, with ``-R``, and
  corrects for coordinated omission, but is not packaged for every distribution).

Percentiles are over every request of the run (no warm-up is left out: the stalls are the point),
interpolated linearly. Locust stores response times rounded (to 2 significant digits above
100 ms), wrk prints its own percentiles. CPU steal and the load average are recorded per run.

Run on demand (Linux; peers in a virtualenv of their own, see ``benchmarks/_peers.py``):

    python benchmarks/coordinated_omission.py [--seconds 30] [--rate 1000]
        [--tools ours,naive,locust,guidellm,wrk] [--locust-users 100,1000] [--peers-venv DIR]
        [--out coordinated_omission.json]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers
from _peers import fmt, markdown_table, pct

NS_PER_MS = 1e6
PATH = "/predict"

# -- the server -------------------------------------------------------------------------------

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-co",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "prediction": "ok",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    },
    separators=(",", ":"),
).encode()
MODELS = b'{"object":"list","data":[{"id":"m","object":"model","owned_by":"co"}]}'


def _response(body: bytes, keep_alive: bool) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + (b"\r\n" if keep_alive else b"\r\nconnection: close\r\n")
        + b"\r\n"
        + body
    )


def serve(
    port_file: Path, stats_file: Path, delay_s: float, stall_s: float, period_s: float,
    first_stall_s: float,
) -> None:  # fmt: skip
    """The stalling server; writes its port to ``port_file``, its stalls to ``stats_file``."""
    import httptools
    import uvloop

    answers = {
        (path, keep): _response(body, keep)
        for path, body in ((b"/v1/models", MODELS), (b"", COMPLETION))
        for keep in (True, False)
    }
    stats: dict[str, Any] = {"answered": 0, "connections": 0, "stalls": [], "first_request": None}
    handle_ms: list[float] = []  # read → written, as the server itself sees it

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        first: list[float] = []

        def stall(index: int) -> None:
            started = time.monotonic()
            time.sleep(stall_s)  # the whole event loop stops: no accept, read or write
            stats["stalls"].append([started - first[0], time.monotonic() - first[0]])
            due = first[0] + first_stall_s + (index + 1) * period_s
            loop.call_later(max(due - time.monotonic(), 0.0), stall, index + 1)

        class Connection(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport: Any = transport
                self.parser = httptools.HttpRequestParser(self)
                self.url = b""
                self.read_at = 0.0
                stats["connections"] += 1

            def data_received(self, data: bytes) -> None:
                self.read_at = time.monotonic()
                try:
                    self.parser.feed_data(data)
                except httptools.HttpParserError:
                    self.transport.close()

            def on_url(self, url: bytes) -> None:
                self.url = url

            def on_message_complete(self) -> None:
                if not first:
                    first.append(time.monotonic())
                    stats["first_request"] = time.time()
                    loop.call_later(first_stall_s, stall, 0)
                keep = self.parser.should_keep_alive()
                path = b"/v1/models" if self.url.startswith(b"/v1/models") else b""
                loop.call_later(delay_s, self.answer, answers[path, keep], keep, self.read_at)

            def answer(self, data: bytes, keep: bool, read_at: float) -> None:
                if self.transport.is_closing():
                    return
                self.transport.write(data)
                stats["answered"] += 1
                handle_ms.append((time.monotonic() - read_at) * 1000)
                if not keep:
                    self.transport.close()

        server = await loop.create_server(Connection, "127.0.0.1", 0, backlog=4096)
        port = server.sockets[0].getsockname()[1]
        partial = port_file.with_suffix(".partial")
        partial.write_text(str(port))
        os.replace(partial, port_file)
        await stop.wait()
        server.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
    stats["server_handle_ms"] = {
        "p50": pct(handle_ms, 50),
        "p99": pct(handle_ms, 99),
        "p99.9": pct(handle_ms, 99.9),
        "max": max(handle_ms, default=None),
    }
    stats_file.write_text(json.dumps(stats))


class StallingServer:
    """The server above in a child process (this script with ``--serve``)."""

    def __init__(self, work: Path, args: argparse.Namespace) -> None:
        self.port_file = work / "port"
        self.stats_file = work / "server.json"
        self.process = subprocess.Popen(
            [
                sys.executable, __file__, "--serve", str(self.port_file), str(self.stats_file),
                str(args.delay_ms / 1000), str(args.stall_s), str(args.period_s),
                str(args.first_stall_s),
            ],
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self.port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stalling server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{int(self.port_file.read_text())}"

    def stop(self) -> dict[str, Any]:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        try:
            result: dict[str, Any] = json.loads(self.stats_file.read_text())
            return result
        except (OSError, ValueError):
            return {}


# -- clients ----------------------------------------------------------------------------------


def summary(values_ms: list[float] | np.ndarray) -> dict[str, float | None]:
    array = np.asarray(values_ms, dtype=np.float64)
    return {
        "count": int(array.size),
        "p50": pct(array, 50),
        "p90": pct(array, 90),
        "p99": pct(array, 99),
        "p99.9": pct(array, 99.9),
        "max": float(array.max()) if array.size else None,
    }


def run_ours(url: str, args: argparse.Namespace) -> dict[str, Any]:
    import uvloop

    from modelmeter.data.sample import Sample
    from modelmeter.load.engine import run_open_loop
    from modelmeter.load.schedule import LoadPlan
    from modelmeter.targets.http_json import HttpJsonTarget

    plan = LoadPlan(mode="constant", rate_rps=args.rate, duration_s=args.seconds, warmup_s=0.0)

    async def drive() -> list[Any]:
        target = HttpJsonTarget("modelmeter", url + PATH, response_path="prediction")
        await target.start()
        try:
            return await run_open_loop(target, [Sample(id="s", input="hello")], plan)
        finally:
            await target.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        outcomes = runner.run(drive())
    ok = [o for o in outcomes if o.ok]
    span_s = (max(o.done_at for o in ok) - min(o.intended_at for o in ok)) / 1e9 if ok else 0
    return {
        "requests": len(outcomes),
        "errors": len(outcomes) - len(ok),
        "throughput_rps": len(ok) / span_s if span_s else None,
        "max_in_flight": plan.max_in_flight,
        "headline": summary([(o.done_at - o.intended_at) / NS_PER_MS for o in ok]),
        "headline_is": "response time (from the schedule)",
        "service_time": summary([(o.done_at - o.sent_at) / NS_PER_MS for o in ok]),
        "schedule_lag": summary([(o.sent_at - o.intended_at) / NS_PER_MS for o in outcomes]),
    }


def run_naive(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """N connections, each paced at rate/N, no catch-up; latency timed from its own send."""
    import uvloop

    from modelmeter.client import Endpoint, HttpClient, PreparedRequest

    connections = args.naive_connections
    interval = connections / args.rate

    async def drive() -> tuple[list[float], int]:
        endpoint = Endpoint.from_url(url)
        client = HttpClient(endpoint, timeout_s=30.0, max_connections=connections)
        request = PreparedRequest.build(
            "POST", endpoint, PATH, headers={"Content-Type": "application/json"},
            body=b'{"input":"hello"}',
        )  # fmt: skip
        latencies: list[float] = []
        errors = 0
        start = time.monotonic() + 0.01
        end = start + args.seconds

        async def worker(index: int) -> None:
            nonlocal errors
            due = start + index * interval / connections
            while due < end:
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    response = await client.request(request)
                except Exception:
                    errors += 1
                else:
                    latencies.append((response.done_at - response.sent_at) / NS_PER_MS)
                due += interval
                due = max(due, time.monotonic())  # late: go now, forget the missed slots

        try:
            await asyncio.gather(*(worker(i) for i in range(connections)))
        finally:
            await client.close()
        return latencies, errors

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        latencies, errors = runner.run(drive())
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "throughput_rps": len(latencies) / args.seconds,
        "connections": connections,
        "headline": summary(latencies),
        "headline_is": "latency from its own send (no schedule)",
    }


LOCUSTFILE = """\
from locust import FastHttpUser, constant_throughput, task


class Client(FastHttpUser):
    wait_time = constant_throughput({per_user})

    @task
    def predict(self):
        self.client.post("{path}", json={{"input": "hello"}})
"""


def run_locust(url: str, args: argparse.Namespace, users: int, work: Path) -> dict[str, Any]:
    tool = _peers.peer_tool(args.peers_venv, "locust")
    assert tool is not None
    locustfile = work / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(per_user=args.rate / users, path=PATH))
    prefix = work / "locust"
    command = [
        str(tool), "-f", str(locustfile), "--headless", "--host", url,
        "-u", str(users), "-r", str(users), "--run-time", f"{args.seconds:g}s",
        "--stop-timeout", "5", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    code, _ = _peers.run_peer(
        command, env=_peers.peer_env(), log=work / "peer.log", timeout_s=args.seconds + 120
    )
    stats_path = Path(f"{prefix}_stats.csv")
    if not stats_path.exists():
        return {"failed": f"exit {code}: {_peers.log_tail(work / 'peer.log')}"}
    with stats_path.open() as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("Name") == "Aggregated"]
    row = rows[0]

    def number(key: str) -> float | None:
        value = row.get(key)
        return None if value in (None, "", "N/A") else float(value)

    return {
        "exit_code": code,
        "users": users,
        "per_user_rps": args.rate / users,
        "requests": int(number("Request Count") or 0),
        "errors": int(number("Failure Count") or 0),
        "throughput_rps": number("Requests/s"),
        "headline": {
            "count": int(number("Request Count") or 0),
            "p50": number("50%"),
            "p90": number("90%"),
            "p99": number("99%"),
            "p99.9": number("99.9%"),
            "max": number("Max Response Time"),
        },
        "headline_is": "response time from its send (locust's CSV, rounded)",
    }


def run_guidellm(url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    tool = _peers.peer_tool(args.peers_venv, "guidellm")
    assert tool is not None
    prompts = work / "prompts.jsonl"
    count = int(args.rate * args.seconds * 1.5) + 1000  # GuideLLM stops when its data runs out
    prompts.write_text("".join(json.dumps({"prompt": f"hello {i}"}) + "\n" for i in range(count)))
    tokenizer = _peers.build_tokenizer(work / "tokenizer", ["hello", "ok", *map(str, range(1000))])
    out = work / "guidellm.json"
    command = [
        str(tool), "run",
        "--backend", "kind=openai_http,target=" + url + ",model=m,stream=false,max_tokens=1",
        "--profile", f"kind=constant,rate={args.rate:g}",
        "--constraint", f"kind=max_duration,seconds={args.seconds:g}",
        "--tokenizer", f"kind=hf_auto,model={tokenizer}",
        "--data", f"kind=json_file,path={prompts}",
        "--output", f"kind=json,path={out}",
        "--metrics", "kind=generative,sample_size=0",  # per-request texts left out: ~30k requests
        "--disable-console",
    ]  # fmt: skip
    code, _ = _peers.run_peer(
        command, env=_peers.peer_env(), log=work / "peer.log", timeout_s=args.seconds + 240
    )
    if code != 0 or not out.exists():
        return {"failed": f"exit {code}: {_peers.log_tail(work / 'peer.log')}"}
    benchmark = json.loads(out.read_text())["benchmarks"][0]
    latency = benchmark["metrics"]["request_latency"]["successful"]
    p = latency["percentiles"]
    scheduled = (benchmark["metrics"].get("request_scheduled_latency") or {}).get("successful")
    rate = benchmark["metrics"]["requests_per_second"]["successful"]
    return {
        "exit_code": code,
        "requests": int(latency["count"]),
        "errors": int(benchmark["metrics"]["request_latency"].get("errored", {}).get("count", 0)),
        "throughput_rps": rate.get("mean"),
        "headline": {
            "count": int(latency["count"]),
            "p50": p["p50"] * 1000,
            "p90": p["p90"] * 1000,
            "p99": p["p99"] * 1000,
            "p99.9": p["p999"] * 1000,
            "max": latency["max"] * 1000,
        },
        "headline_is": "request_latency (from its send)",
        # GuideLLM's own schedule-relative latency (end − scheduled start), for open-loop profiles
        "from_schedule": None
        if not scheduled
        else {
            "count": int(scheduled["count"]),
            "p50": scheduled["percentiles"]["p50"] * 1000,
            "p90": scheduled["percentiles"]["p90"] * 1000,
            "p99": scheduled["percentiles"]["p99"] * 1000,
            "p99.9": scheduled["percentiles"]["p999"] * 1000,
            "max": scheduled["max"] * 1000,
        },
    }


def run_wrk(url: str, args: argparse.Namespace) -> dict[str, Any]:
    wrk = _peers.which("wrk")
    assert wrk is not None
    done = subprocess.run(
        [wrk, "-t1", f"-c{args.wrk_connections}", f"-d{args.seconds:g}s", "--latency",
         "-s", str(args.wrk_script), url + PATH],
        capture_output=True, text=True, timeout=args.seconds + 60, check=False,
    )  # fmt: skip
    text = done.stdout

    def ms(token: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", token).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    found = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
    latency_line = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", text)
    requests = re.search(r"(\d+) requests in", text)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    count = int(requests.group(1)) if requests else 0
    return {
        "requests": count,
        "errors": len(re.findall(r"Non-2xx|Socket errors", text)),
        "throughput_rps": float(rate.group(1)) if rate else None,
        "connections": args.wrk_connections,
        "headline": {
            "count": count,
            "p50": ms(found["50"]) if "50" in found else None,
            "p90": ms(found["90"]) if "90" in found else None,
            "p99": ms(found["99"]) if "99" in found else None,
            "p99.9": None,
            "max": ms(latency_line.group(1)) if latency_line else None,
        },
        "headline_is": "latency from its send (wrk --latency)",
        "output": text[-2000:],
    }


WRK_SCRIPT = """\
wrk.method = "POST"
wrk.body   = '{"input":"hello"}'
wrk.headers["Content-Type"] = "application/json"
"""


# -- main -------------------------------------------------------------------------------------


def one_run(tool: str, args: argparse.Namespace, work: Path, users: int = 0) -> dict[str, Any]:
    run_dir = Path(tempfile.mkdtemp(prefix=f"{tool}{users or ''}-", dir=work))
    _peers.wait_quiet(args.max_load, args.patience)
    server = StallingServer(run_dir, args)
    meter = _peers.Meter(pids={"server": server.process.pid})
    try:
        if tool == "ours":
            result = run_ours(server.url, args)
        elif tool == "naive":
            result = run_naive(server.url, args)
        elif tool == "locust":
            result = run_locust(server.url, args, users, run_dir)
        elif tool == "guidellm":
            result = run_guidellm(server.url, args, run_dir)
        else:
            result = run_wrk(server.url, args)
    finally:
        facts = meter.stop()
        result_server = server.stop()
    facts["client_cpu_pct"] = (
        facts["self_cpu_pct"] if tool in ("ours", "naive") else facts["children_cpu_pct"]
    )
    result.update(tool=tool if not users else f"locust u={users}", facts=facts)
    result["server"] = {
        "answered": result_server.get("answered"),
        "connections": result_server.get("connections"),
        "stalls_s": [[round(a, 2), round(b, 2)] for a, b in result_server.get("stalls", [])],
        "handle_ms": result_server.get("server_handle_ms"),
    }
    return result


def tables(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    header = [
        "client", "what it reports", "req/s achieved", "requests", "P50", "P99", "P99.9", "max",
        "service time P50 / P99 / P99.9 / max", "stalls hit", "steal",
    ]  # fmt: skip
    rows = []
    for r in results:
        if "headline" not in r:
            rows.append([r["tool"], "failed: " + str(r.get("failed", ""))[:80].replace("|", "/")]
                        + [""] * 9)  # fmt: skip
            continue
        h = r["headline"]
        service_cell = "–"
        other = r.get("service_time") or r.get("from_schedule")
        if other:
            cell = (
                f"{fmt(other['p50'])} / {fmt(other['p99'])} / {fmt(other['p99.9'])} / "
                f"{fmt(other['max'], '.0f')}"
            )
            service_cell = cell if r.get("service_time") else f"(its scheduled latency: {cell})"
        f = r["facts"]
        rows.append([
            r["tool"], r["headline_is"], fmt(r.get("throughput_rps"), ".0f"), str(r["requests"]),
            fmt(h["p50"]), fmt(h["p99"]), fmt(h["p99.9"]), fmt(h["max"], ".0f"), service_cell,
            str(len(r["server"]["stalls_s"])),
            f"{f['steal_pct']:.2f}%" + (" NOISY" if f["noisy"] else ""),
        ])  # fmt: skip
    title = (
        f"Latency in ms; server answers in ~{args.delay_ms:g} ms and stalls {args.stall_s:g} s "
        f"every {args.period_s:g} s; target {args.rate:g} req/s for {args.seconds:g} s"
    )
    return title + "\n\n" + markdown_table(header, rows)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        port_file, stats_file, delay, stall, period, first = sys.argv[2:8]
        serve(Path(port_file), Path(stats_file), float(delay), float(stall), float(period),
              float(first))  # fmt: skip
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="requests per second")
    parser.add_argument("--tools", default="ours,naive,locust,guidellm,wrk")
    parser.add_argument("--locust-users", default="100,1000", help="one locust run per count")
    parser.add_argument("--naive-connections", type=int, default=10)
    parser.add_argument("--wrk-connections", type=int, default=2)
    parser.add_argument("--delay-ms", type=float, default=1.0)
    parser.add_argument("--stall-s", type=float, default=1.0)
    parser.add_argument("--period-s", type=float, default=10.0)
    parser.add_argument("--first-stall-s", type=float, default=5.0)
    parser.add_argument("--peers-venv", help="virtualenv holding locust and guidellm")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for a quieter machine")
    parser.add_argument("--patience", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=Path("coordinated_omission.json"))
    args = parser.parse_args()
    args.peers_venv = _peers.find_peers_venv(args.peers_venv)

    skipped: dict[str, str] = {}
    tools = []
    for tool in (t.strip() for t in args.tools.split(",") if t.strip()):
        if tool in ("locust", "guidellm") and _peers.peer_tool(args.peers_venv, tool) is None:
            skipped[tool] = "not installed in the peers' virtualenv (see --peers-venv)"
        elif tool == "wrk" and _peers.which("wrk") is None:
            skipped[tool] = "wrk is not on PATH"
        else:
            tools.append(tool)
    if _peers.which("wrk2") is None:
        skipped["wrk2"] = "not on PATH (not packaged here: apt has wrk only); no run"
    results = []
    with tempfile.TemporaryDirectory(prefix="co-") as tmp:
        work = Path(tmp)
        args.wrk_script = work / "post.lua"
        args.wrk_script.write_text(WRK_SCRIPT)
        for tool in tools:
            counts = [int(u) for u in args.locust_users.split(",")] if tool == "locust" else [0]
            for users in counts:
                started = time.monotonic()
                result = one_run(tool, args, work, users)
                print(
                    f"{result['tool']:14} {result.get('requests', 'failed')} requests, "
                    f"steal {result['facts']['steal_pct']}%, "
                    f"stalls {result['server']['stalls_s']}, "
                    f"{time.monotonic() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                results.append(result)
    print(tables(results, args))
    for tool, why in skipped.items():
        print(f"\n{tool}: skipped, {why}")
    document = {
        "benchmark": "coordinated_omission",
        "machine": _peers.machine_description(),
        "server": {
            "delay_ms": args.delay_ms,
            "stall_s": args.stall_s,
            "period_s": args.period_s,
            "first_stall_s": args.first_stall_s,
        },
        "rate_rps": args.rate,
        "seconds": args.seconds,
        "peer_versions": {
            name: _peers.peer_version(args.peers_venv, name) for name in ("locust", "guidellm")
        },
        "skipped": skipped,
        "results": results,
    }
    args.out.write_text(json.dumps(document, indent=1))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
