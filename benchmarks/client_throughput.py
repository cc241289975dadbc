"""HTTP/1.1 client throughput on loopback: modelmeter's client against aiohttp and wrk.

All clients hit the same local server: nginx (``worker_processes 1``, keep-alive, a 13-byte
``return 200`` answer) pinned with taskset to one core while the client runs pinned to another.
Each client keeps ``--connections`` keep-alive connections busy (closed loop, one request in
flight per connection) for ``--seconds``; clients take turns (wrk, ours, ..., wrk, ours, ...)
for ``--rounds`` rounds, and each Python client is measured after a short warm-up.

Recorded per run: requests/s, client CPU µs per request (user + system), the server's CPU,
CPU steal from /proc/stat on the two cores (above ``--max-steal`` percent the run is marked
noisy and rerun), the load average, and interference: the larger of the CPU other processes
used and the busy time on the two cores that server and client do not account for (above
``--max-foreign`` percent of a core: noisy, rerun). Before each run the script waits up to
``--patience`` seconds for the machine to be quiet. The result is each client's median over
clean runs: requests/s, ratio to wrk's run in the same round, CPU µs per request.

Run on demand (Linux; wrk and nginx from the distribution, e.g. ``apt-get install wrk nginx``):

    python benchmarks/client_throughput.py [--seconds 5] [--rounds 3] [--out result.json]

Without wrk the wrk runs are skipped (no ratios); without nginx a minimal uvloop server in a
subprocess stands in and the table says so, since it may then be the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _peers import free_port, wait_for_port

PATH = "/small"
BODY = b"hello, world\n"
CHAT_PATH = "/v1/chat/completions"
# A fixed streamed chat completion: one token, a usage chunk, [DONE] (378 bytes).
_CHUNK = (
    '{{"id":"c","object":"chat.completion.chunk","created":0,"model":"m",'
    '"choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]{usage}}}'
)
SSE_BODY = (
    "data: "
    + _CHUNK.format(delta='{"role":"assistant","content":"hi"}', finish="null", usage="")
    + "\n\ndata: "
    + _CHUNK.format(
        delta="{}",
        finish='"stop"',
        usage=',"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}',
    )
    + "\n\ndata: [DONE]\n\n"
).encode()
CHAT_REQUEST = json.dumps(
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
).encode()
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = {path} {{
            default_type text/plain;
            return 200 "{body}";
        }}
        location = {chat} {{
            default_type text/event-stream;
            return 200 '{sse}';
        }}
        location = /v1/models {{
            default_type application/json;
            return 200 '{{"object":"list","data":[{{"id":"m","object":"model","owned_by":"x"}}]}}';
        }}
        location = /health {{
            return 200 "";
        }}
    }}
}}
"""


# -- machine facts -----------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What /proc says at one instant: per-core jiffies, every process's CPU ticks, load."""

    at: float
    cores: dict[str, list[int]]
    processes: dict[int, int]
    loadavg: tuple[float, float, float]


def _cores() -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith("cpu"):
                name, *values = line.split()
                out[name] = [int(v) for v in values]
    return out


def _processes() -> dict[int, int]:
    """utime + stime ticks of every process (threads included) now."""
    ticks = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    return ticks


def snapshot() -> Snapshot:
    return Snapshot(time.monotonic(), _cores(), _processes(), os.getloadavg())


def _from_json(raw: dict[str, Any]) -> Snapshot:
    raw["processes"] = {int(pid): ticks for pid, ticks in raw["processes"].items()}
    raw["loadavg"] = tuple(raw["loadavg"])
    return Snapshot(**raw)


def window_facts(
    start: Snapshot,
    end: Snapshot,
    ours: dict[str, set[int]],
    cores: list[int],
    client_cpu_s: float = 0.0,
) -> dict[str, float]:
    """Percent-of-window figures: steal and busy time on ``cores``, the server's CPU, and two
    views of interference: CPU used by other live processes, and busy time on ``cores`` that
    our processes do not account for (it also catches processes that came and went).
    ``client_cpu_s`` is the client's own figure (wrk has exited before the last snapshot)."""
    hz = os.sysconf("SC_CLK_TCK")
    seconds = end.at - start.at
    facts: dict[str, float] = {}
    steal_max = 0.0
    busy_s = 0.0
    for core in cores:
        before, after = start.cores[f"cpu{core}"], end.cores[f"cpu{core}"]
        # user nice system idle iowait irq softirq steal
        delta = [b - a for a, b in zip(before[:8], after[:8], strict=True)]
        total = sum(delta) or 1
        busy = delta[0] + delta[1] + delta[2] + delta[5] + delta[6]
        steal = 100.0 * delta[7] / total
        facts[f"cpu{core}_steal_pct"] = round(steal, 2)
        facts[f"cpu{core}_busy_pct"] = round(100.0 * busy / total, 1)
        steal_max = max(steal_max, steal)
        busy_s += busy / hz

    def used(pid: int) -> float:
        return (end.processes.get(pid, 0) - start.processes.get(pid, 0)) / hz

    mine = set().union(*ours.values())
    ours_s = client_cpu_s + sum(
        used(pid) for key, pids in ours.items() if key != "client" for pid in pids
    )
    foreign = sum(max(0.0, used(pid)) for pid in end.processes if pid not in mine)
    facts["steal_pct"] = round(steal_max, 2)
    facts["server_cpu_pct"] = round(100.0 * sum(used(p) for p in ours["server"]) / seconds, 1)
    facts["foreign_cpu_pct"] = round(100.0 * foreign / seconds, 1)
    facts["unaccounted_cpu_pct"] = round(100.0 * (busy_s - ours_s) / seconds, 1)
    facts["loadavg_1m"] = start.loadavg[0]
    return facts


def interference(facts: dict[str, float]) -> float:
    return max(facts["foreign_cpu_pct"], facts["unaccounted_cpu_pct"])


def wait_for_quiet(
    ours: dict[str, set[int]], cores: list[int], limit_pct: float, patience_s: float
) -> float:
    """Wait (up to ``patience_s``) until others use under ``limit_pct`` of a core; returns the
    share seen last."""
    deadline = time.monotonic() + patience_s
    while True:
        start = snapshot()
        time.sleep(1.0)
        share = interference(window_facts(start, snapshot(), ours, cores))
        if share <= limit_pct or time.monotonic() > deadline:
            return share
        time.sleep(2.0)


# -- the server --------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:  # the parent pid
                found.append(int(entry.name))
    return found


@contextmanager
def local_server(core: int) -> Iterator[tuple[str, list[int], str]]:
    """nginx (or the uvloop stand-in) pinned to ``core``: yields url, pids and a description."""
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="client-bench-") as tmp:
        if nginx:
            conf = Path(tmp) / "nginx.conf"
            body = BODY.decode().replace("\n", "\\n")
            sse = SSE_BODY.decode().replace("\n", "\\n")
            conf.write_text(
                NGINX_CONF.format(tmp=tmp, port=port, path=PATH, body=body, chat=CHAT_PATH, sse=sse)
            )
            command = ["taskset", "-c", str(core), nginx, "-p", tmp, "-e", f"{tmp}/error.log"]
            command += ["-c", str(conf)]
            described = _nginx_version(nginx) + ", worker_processes 1"
        else:
            command = ["taskset", "-c", str(core), sys.executable, __file__, "--serve", str(port)]
            described = "stand-in uvloop server (no nginx found; it may be the bottleneck)"
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, process, timeout_s=5)
            children: list[int] = []
            for _ in range(200):  # nginx's worker, forked by the master
                if children or not nginx:
                    break
                time.sleep(0.01)
                children = _children(process.pid)
            pids = [process.pid, *children]
            yield f"http://127.0.0.1:{port}{PATH}", pids, described
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


def _nginx_version(nginx: str) -> str:
    done = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip().replace("nginx version: ", "")


def serve_stand_in(port: int) -> None:
    """A minimal keep-alive HTTP/1.1 server on uvloop, for machines without nginx."""
    import uvloop

    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (
        len(BODY),
        BODY,
    )

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            count = self.buffer.count(b"\r\n\r\n")  # GETs without bodies only
            if count:
                self.buffer = self.buffer[self.buffer.rindex(b"\r\n\r\n") + 4 :]
                self.transport.write(answer * count)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Answer, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    uvloop.run(main())


# -- the clients -------------------------------------------------------------------------------


def run_wrk(url: str, seconds: int, connections: int, core: int) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = snapshot()
    # taskset execs wrk, so the child's pid is wrk's. wrk takes whole seconds.
    command = ["taskset", "-c", str(core), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        stdout, stderr = process.communicate()
        end = snapshot()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {stderr.decode()[-2000:]}")
    text = stdout.decode()
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)
    if not found:
        raise RuntimeError(f"cannot read wrk's output:\n{text}")
    elapsed = float(found[2]) / (1000 if found[3] == "ms" else 1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", text)
    return {
        "requests": int(found[1]),
        "seconds": elapsed,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "errors": 0 if errors is None else 1,
        "pid": process.pid,
        "start": start,
        "end": end,
    }


async def _drive(
    send: Callable[[], Coroutine[Any, Any, bool]],
    connections: int,
    seconds: float,
    warmup: float,
) -> dict[str, Any]:
    """``connections`` workers send back to back; counts and CPU over the measured window."""
    counts = {"ok": 0, "errors": 0}
    running = True

    async def worker() -> None:
        while running:
            if await send():
                counts["ok"] += 1
            else:
                counts["errors"] += 1

    workers = [asyncio.ensure_future(worker()) for _ in range(connections)]
    await asyncio.sleep(warmup)
    first = snapshot()
    cpu_first, ok_first, at_first = time.process_time(), counts["ok"], time.monotonic()
    await asyncio.sleep(seconds)
    cpu_last, ok_last, at_last = time.process_time(), counts["ok"], time.monotonic()
    last = snapshot()
    running = False
    await asyncio.gather(*workers)
    return {
        "requests": ok_last - ok_first,
        "seconds": at_last - at_first,
        "cpu_s": cpu_last - cpu_first,
        "errors": counts["errors"],
        "pid": os.getpid(),
        "start": asdict(first),
        "end": asdict(last),
    }


async def drive_modelmeter(
    url: str, args: argparse.Namespace, *, kernel_stamps: bool = False
) -> dict[str, Any]:
    from modelmeter.client import Endpoint, HttpClient, PreparedRequest

    endpoint = Endpoint.from_url(url)
    request = PreparedRequest.build("GET", endpoint, PATH)
    client = HttpClient(endpoint, max_connections=args.connections, kernel_stamps=kernel_stamps)
    async with client:

        async def send() -> bool:
            response = await client.request(request)
            return response.status == 200 and response.body == BODY

        return await _drive(send, args.connections, args.seconds, args.warmup)


async def drive_modelmeter_sse(
    url: str, args: argparse.Namespace, *, kernel_stamps: bool = False
) -> dict[str, Any]:
    """The same fixed chat completion GuideLLM gets: POST, body parsed with the SSE parser."""
    from modelmeter.client import Endpoint, HttpClient, PreparedRequest
    from modelmeter.client.sse import SseParser

    endpoint = Endpoint.from_url(url)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    request = PreparedRequest.build("POST", endpoint, CHAT_PATH, headers=headers, body=CHAT_REQUEST)
    client = HttpClient(endpoint, max_connections=args.connections, kernel_stamps=kernel_stamps)
    async with client:

        async def send() -> bool:
            parser = SseParser()
            events: list[Any] = []

            def on_body(piece: bytes, at: int) -> None:
                events.extend(parser.feed(piece, at))

            response = await client.request(request, on_body)
            parser.close()
            return response.status == 200 and bool(events) and events[-1].data == "[DONE]"

        return await _drive(send, args.connections, args.seconds, args.warmup)


async def drive_aiohttp(url: str, args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    # Tuned as aiohttp's docs suggest for load: one session, no connection limit, no cookies.
    connector = aiohttp.TCPConnector(limit=0)
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:

        async def send() -> bool:
            async with session.get(url) as response:
                body = await response.read()
                return response.status == 200 and body == BODY

        return await _drive(send, args.connections, args.seconds, args.warmup)


PYTHON_CLIENTS: dict[str, tuple[str, str]] = {
    # name: (driver, event loop)
    "modelmeter (uvloop)": ("modelmeter", "uvloop"),
    "modelmeter (asyncio)": ("modelmeter", "asyncio"),
    "aiohttp (uvloop)": ("aiohttp", "uvloop"),
    "modelmeter SSE (uvloop)": ("modelmeter_sse", "uvloop"),
    # The kernel-stamped transport (SO_TIMESTAMPNS, recvmsg in Python) the streaming target
    # uses, against the loop's own transport above.
    "modelmeter stamped (uvloop)": ("modelmeter_stamped", "uvloop"),
    "modelmeter SSE stamped (uvloop)": ("modelmeter_sse_stamped", "uvloop"),
}
DRIVERS = {
    "modelmeter": drive_modelmeter,
    "modelmeter_sse": drive_modelmeter_sse,
    "modelmeter_stamped": functools.partial(drive_modelmeter, kernel_stamps=True),
    "modelmeter_sse_stamped": functools.partial(drive_modelmeter_sse, kernel_stamps=True),
    "aiohttp": drive_aiohttp,
}
PEERS = ("locust", "guidellm")


def worker_main(args: argparse.Namespace) -> None:
    driver, loop = PYTHON_CLIENTS[args.worker]
    drive = DRIVERS[driver]
    if loop == "uvloop":
        import uvloop

        result = uvloop.run(drive(args.url, args))
    else:
        result = asyncio.run(drive(args.url, args))
    print(json.dumps(result))


def run_python_client(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = ["taskset", "-c", str(args.client_core), sys.executable, __file__]
    command += ["--worker", name, "--url", url, "--seconds", str(args.seconds)]
    command += ["--connections", str(args.connections), "--warmup", str(args.warmup)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["start"], result["end"] = _from_json(result["start"]), _from_json(result["end"])
    return result


# -- peers in their own virtualenv: locust (FastHttpUser) and GuideLLM ---------------------------

LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class Bench(FastHttpUser):
    wait_time = constant(0)

    @task
    def small(self):
        self.client.get({path!r})
"""

# A tiny word-level tokenizer so GuideLLM's synthetic prompts need no download.
TOKENIZER_SCRIPT = """\
import json, sys
from tokenizers import Tokenizer, models, pre_tokenizers
words = "the a of to and in is it you that he was for on are with as his they be at one".split()
vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(words)}}
tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
tokenizer.save(sys.argv[1] + "/tokenizer.json")
config = {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]",
          "model_max_length": 4096}
json.dump(config, open(sys.argv[1] + "/tokenizer_config.json", "w"))
"""


def _tree(root: int) -> set[int]:
    """``root`` and its live descendants."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    parents[int(entry.name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        grew = bool(more)
        found |= more
    return found


def _watch(command: list[str], env: dict[str, str], limit_s: float) -> dict[str, Any]:
    """Run a peer, taking a snapshot (wall time, /proc, its process tree) every 0.25 s."""
    samples: list[tuple[float, Snapshot]] = []
    pids: set[int] = set()
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a full pipe would block it
        with subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env) as process:
            deadline = time.monotonic() + limit_s
            while process.poll() is None and time.monotonic() < deadline:
                pids |= _tree(process.pid)
                samples.append((time.time(), snapshot()))
                time.sleep(0.25)
            if process.poll() is None:
                process.kill()
            process.wait()
        log.seek(0)
        output = log.read()
    return {"samples": samples, "pids": pids, "returncode": process.returncode, "out": output}


def _window(
    watched: dict[str, Any], t0: float, t1: float
) -> tuple[Snapshot, Snapshot, float, float]:
    """The first and last snapshot inside wall-time [t0, t1], their span and the tree's CPU."""
    inside = [(at, snap) for at, snap in watched["samples"] if t0 <= at <= t1]
    if len(inside) < 2:
        raise RuntimeError("peer ran too briefly to measure a window")
    (a0, first), (a1, last) = inside[0], inside[-1]
    hz = os.sysconf("SC_CLK_TCK")
    ticks = sum(last.processes.get(p, 0) - first.processes.get(p, 0) for p in watched["pids"])
    return first, last, a1 - a0, ticks / hz


def run_locust(url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One locust process (one core, like our one event loop): headless, FastHttpUser, no wait,
    all users spawned at once. Requests/s from its CSV history (Aggregated row) after the
    ramp; CPU from its process tree over the same steady part."""
    host, path = url[: url.index("/", len("http://"))], url[url.index("/", len("http://")) :]
    locustfile = tmp / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(path=path))
    prefix = tmp / f"locust-{time.monotonic_ns()}"
    ramp = 2 + int(args.warmup + 0.999)  # start-up and spawning, left out of the window
    command = ["taskset", "-c", str(args.client_core), str(args.peers_venv / "bin" / "locust")]
    command += ["-f", str(locustfile), "--headless", "--host", host, "-u", str(args.connections)]
    command += ["-r", str(args.connections), "-t", f"{ramp + args.seconds + 1}s", "--only-summary"]
    command += ["--csv", str(prefix), "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    watched = _watch(command, dict(os.environ), ramp + args.seconds + 60)
    history = Path(f"{prefix}_stats_history.csv")
    if watched["returncode"] != 0 or not history.exists():
        raise RuntimeError(f"locust failed:\n{watched['out'][-2000:]}")
    import csv

    with history.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["Name"] == "Aggregated"]
    stamps = [(int(r["Timestamp"]), int(r["Total Request Count"])) for r in rows]
    steady = [s for s in stamps if s[0] >= stamps[0][0] + ramp][: args.seconds + 1]
    if len(steady) < 2:
        raise RuntimeError("locust's history is too short for a steady window")
    (t0, n0), (t1, n1) = steady[0], steady[-1]
    failures = int(rows[-1]["Total Failure Count"])
    first, last, span, cpu_s = _window(watched, t0, t1 + 1)
    rate = (n1 - n0) / (t1 - t0)
    return {
        "requests": round(rate * span),  # at the history's rate, over the CPU window
        "seconds": span,
        "cpu_s": cpu_s,
        "errors": failures,
        "pids": watched["pids"],
        "start": first,
        "end": last,
    }


def run_guidellm(url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """``guidellm run`` against the fixed chat completion, concurrency ``--connections``, for
    ``--seconds``, synthetic prompts and a local tokenizer (no download). Requests/s from its
    JSON report; CPU from its process tree (it starts worker processes, all on the client core)
    between the report's start and end of requests."""
    python = str(args.peers_venv / "bin" / "python")
    tokenizer = tmp / "tokenizer"
    if not tokenizer.exists():
        tokenizer.mkdir()
        subprocess.run([python, "-c", TOKENIZER_SCRIPT, str(tokenizer)], check=True)
    report = tmp / f"guidellm-{time.monotonic_ns()}.json"
    base = url[: url.index("/", len("http://"))]
    command = ["taskset", "-c", str(args.client_core), str(args.peers_venv / "bin" / "guidellm")]
    command += ["run", "--backend", f"kind=openai_http,target={base},model=m,http2=false"]
    command += ["--profile", f"kind=concurrent,streams={args.connections}"]
    command += ["--constraint", f"kind=max_duration,seconds={args.seconds}"]
    command += ["--tokenizer", f"kind=huggingface_auto,model={tokenizer}"]
    command += ["--data", "kind=synthetic_text,prompt_tokens=8,output_tokens=1"]
    command += ["--output", f"kind=json,path={report}", "--disable-progress"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    watched = _watch(command, env, args.seconds + 180)
    if watched["returncode"] != 0 or not report.exists():
        raise RuntimeError(f"guidellm failed:\n{watched['out'][-2000:]}")
    benchmark = json.loads(report.read_text())["benchmarks"][0]
    state = benchmark["scheduler_state"]
    t0, t1 = state["start_requests_time"], state["end_requests_time"]
    per_second = benchmark["metrics"]["requests_per_second"]
    rate = per_second["successful"]["mean"]
    errors = int(per_second["errored"]["count"])
    first, last, span, cpu_s = _window(watched, t0, t1)
    return {
        "requests": round(rate * span),  # at its reported rate, over the CPU window
        "seconds": span,
        "cpu_s": cpu_s,
        "errors": errors,
        "pids": watched["pids"],
        "start": first,
        "end": last,
    }


# -- orchestration -----------------------------------------------------------------------------


@dataclass
class Run:
    client: str
    round: int
    attempt: int
    requests: int
    seconds: float
    requests_per_s: float
    cpu_us_per_request: float
    errors: int
    facts: dict[str, float] = field(default_factory=dict)
    noisy: bool = False


def measure(
    name: str, url: str, pids: list[int], args: argparse.Namespace, round_: int, attempt: int
) -> Run:
    chat = url.replace(PATH, CHAT_PATH)
    if name == "wrk":
        raw = run_wrk(url, args.seconds, args.connections, args.client_core)
    elif name == "locust":
        raw = run_locust(url, args, args.tmp)
    elif name == "guidellm":
        raw = run_guidellm(chat, args, args.tmp)
    else:
        raw = run_python_client(name, chat if "SSE" in name else url, args)
    client = raw.get("pids") or {raw["pid"]}
    ours = {"server": set(pids), "client": set(client), "script": {os.getpid()}}
    cores = [args.server_core, args.client_core]
    facts = window_facts(raw["start"], raw["end"], ours, cores, raw["cpu_s"])
    noisy = facts["steal_pct"] > args.max_steal or interference(facts) > args.max_foreign
    requests = int(raw["requests"])
    return Run(
        client=name,
        round=round_,
        attempt=attempt,
        requests=requests,
        seconds=round(raw["seconds"], 3),
        requests_per_s=round(requests / raw["seconds"], 1),
        cpu_us_per_request=round(1e6 * raw["cpu_s"] / max(requests, 1), 2),
        errors=int(raw["errors"]),
        facts=facts,
        noisy=noisy,
    )


def summarise(runs: list[Run], clients: list[str]) -> list[dict[str, Any]]:
    clean = [r for r in runs if not r.noisy and r.errors == 0]
    wrk_by_round = {r.round: r.requests_per_s for r in clean if r.client == "wrk"}
    rows = []
    for client in clients:
        mine = [r for r in clean if r.client == client]
        every = [r for r in runs if r.client == client]
        ratios = [r.requests_per_s / wrk_by_round[r.round] for r in mine if r.round in wrk_by_round]
        rows.append(
            {
                "client": client,
                "clean_runs": len(mine),
                "noisy_runs": sum(r.noisy for r in every),
                "requests_per_s": _median([r.requests_per_s for r in mine]),
                "ratio_to_wrk": _median(ratios),
                "cpu_us_per_request": _median([r.cpu_us_per_request for r in mine]),
                "server_cpu_pct": _median([r.facts["server_cpu_pct"] for r in mine]),
                "steal_pct_max": max((r.facts["steal_pct"] for r in every), default=None),
                "interference_pct_max": max((interference(r.facts) for r in mine), default=None),
            }
        )
    return rows


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None else format(value, pattern)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| client | req/s (median) | ratio to wrk | CPU µs/req | server CPU | "
        "max steal (all runs) | max others (clean runs) | clean / noisy runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row["ratio_to_wrk"]
        lines.append(
            f"| {row['client']} | {_fmt(row['requests_per_s'], ',.0f')} | "
            f"{'–' if ratio is None else f'{ratio:.1%}'} | "
            f"{_fmt(row['cpu_us_per_request'], '.1f')} | "
            f"{_fmt(row['server_cpu_pct'], '.0f')}% | {_fmt(row['steal_pct_max'], '.2f')}% | "
            f"{_fmt(row['interference_pct_max'], '.0f')}% | "
            f"{row['clean_runs']} / {row['noisy_runs']} |"
        )
    return "\n".join(lines)


def machine(server: str, args: argparse.Namespace) -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    packages: dict[str, str | None] = {}
    for package in ("uvloop", "httptools", "aiohttp"):
        try:
            packages[package] = version(package)
        except Exception:  # not installed: report as missing
            packages[package] = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": packages,
        "server": server,
        "server_core": args.server_core,
        "client_core": args.client_core,
        "connections": args.connections,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "payload": f"GET {PATH} -> 200, {len(BODY)}-byte text body, keep-alive",
    }


def _progress(run: Run) -> str:
    facts = run.facts
    return (
        f"  round {run.round} {run.client:<22} {run.requests_per_s:>10,.0f} req/s "
        f"{run.cpu_us_per_request:>7.1f} µs/req  server {facts['server_cpu_pct']:>3.0f}%  "
        f"steal {facts['steal_pct']:.2f}%  others {interference(facts):.0f}%  "
        f"load {facts['loadavg_1m']:.2f}"
        + ("  NOISY" if run.noisy else "")
        + (f"  ERRORS {run.errors}" if run.errors else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="per run (whole seconds)")
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--max-steal", type=float, default=3.0, help="percent; above: noisy")
    parser.add_argument("--max-foreign", type=float, default=10.0, help="percent; above: noisy")
    parser.add_argument("--retries", type=int, default=3, help="reruns of a noisy run")
    parser.add_argument(
        "--patience", type=float, default=60.0, help="seconds to wait for a quiet machine per run"
    )
    parser.add_argument("--clients", default=",".join(["wrk", *PYTHON_CLIENTS, *PEERS]))
    parser.add_argument(
        "--peers-venv",
        type=Path,
        default=os.environ.get("MODELMETER_PEERS_VENV"),
        help="virtualenv holding locust and guidellm (default: $MODELMETER_PEERS_VENV); "
        "without it those peers are skipped",
    )
    parser.add_argument("--out", type=Path, default=Path("client_throughput.json"))
    # Internal: one client run in a pinned subprocess, or the stand-in server.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    # A terminated run still stops its nginx.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.serve:
        serve_stand_in(args.serve)
        return
    if args.worker:
        worker_main(args)
        return
    if not sys.platform.startswith("linux") or shutil.which("taskset") is None:
        sys.exit("this benchmark needs Linux with taskset (util-linux) to pin server and client")
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    known = ["wrk", *PYTHON_CLIENTS, *PEERS]
    unknown = set(clients) - set(known)
    if unknown:
        sys.exit(f"unknown clients {sorted(unknown)}; known: {', '.join(known)}")
    for peer in PEERS:
        if peer not in clients:
            continue
        if args.peers_venv is None:
            print(f"{peer}: skipped (no --peers-venv / MODELMETER_PEERS_VENV given)")
            clients.remove(peer)
        elif not (Path(args.peers_venv) / "bin" / peer).exists():
            print(f"{peer}: skipped (not installed in the peers virtualenv)")
            clients.remove(peer)
    if "wrk" in clients and shutil.which("wrk") is None:
        print("wrk not found: skipping it, so there are no ratios (apt-get install wrk)")
        clients.remove("wrk")

    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="client-bench-peers-") as peers_tmp,
        local_server(args.server_core) as (url, pids, server),
    ):
        args.tmp = Path(peers_tmp)
        if not server.startswith("nginx") and "stand-in" in server:
            for name in [c for c in clients if c in PEERS or "SSE" in c]:
                print(f"{name}: skipped (the stand-in server serves no chat completion)")
                clients.remove(name)
        facts = machine(server, args)
        print(f"server: {server} on core {args.server_core}; clients on core {args.client_core}")
        print(f"{args.connections} connections, {args.seconds} s per run, {args.rounds} rounds")
        for round_ in range(1, args.rounds + 1):
            for name in clients:
                for attempt in range(args.retries + 1):
                    ours = {"server": set(pids), "script": {os.getpid()}}
                    cores = [args.server_core, args.client_core]
                    wait_for_quiet(ours, cores, args.max_foreign, args.patience)
                    run = measure(name, url, pids, args, round_, attempt)
                    runs.append(run)
                    print(_progress(run), flush=True)
                    if not run.noisy:
                        break
    rows = summarise(runs, clients)
    print()
    print(table(rows))
    args.out.write_text(
        json.dumps({"machine": facts, "summary": rows, "runs": [asdict(r) for r in runs]}, indent=2)
        + "\n"
    )
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
