"""Gateway overhead: what a proxy in front of a model backend adds, side by side in one run.

One static JSON backend (nginx, ``return 200`` with a fixed chat completion; without nginx a
small uvloop + httptools server in this script) is reached by the same client (modelmeter's
HTTP client on uvloop, keep-alive) directly and through each gateway, one after another, each
with one worker process:

* ``direct``: no gateway, the baseline;
* ``modelmeter``: ``modelmeter gateway`` with one route to the backend;
* ``nginx``: ``proxy_pass`` to an upstream with ``keepalive`` (when nginx is installed);
* ``haproxy``: ``mode http`` with ``http-reuse always`` (when haproxy is installed);
* ``tensorzero``: TensorZero's HTTP gateway embedded in its PyPI wheel, started from the
  virtualenv ``PEERS/tensorzero`` (``pip install tensorzero==2026.6.0``), usage analytics off,
  one ``openai`` model provider, requests to ``/openai/v1/chat/completions`` with model
  ``tensorzero::model_name::m``;
* ``litellm``: LiteLLM's proxy from ``PEERS/litellm`` (``pip install 'litellm[proxy]==1.108.7'``),
  ``LITELLM_LOCAL_MODEL_COST_MAP=True``, one worker, a master key.

``--peers PATH`` names the folder holding those two virtualenvs; ``--make-peers`` creates them
there with pip first. They are never dependencies of modelmeter.

Per path: latency at one request at a time (``--requests`` requests after a warm-up; p50 and
p99), requests/s at 16 and 64 concurrent (``--seconds`` each), the time from starting the
gateway to its port accepting connections, and its resident memory after the run. Then, in
front of a streaming backend (``modelmeter simulate``, 64 tokens 1 ms apart, one per chunk),
time to first byte and the mean gap between chunks over ``--streams`` streamed requests.
"Added" = the path's figure minus the direct one of the same round. Recorded with every run:
load average and CPU steal (``/proc/stat``) over the run.

    python benchmarks/gateway.py [--requests 3000] [--seconds 5] [--rounds 2] \
        [--peers ~/gateway-peers [--make-peers]] [--out gateway.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop
from _peers import free_port, wait_for_port

from modelmeter.client import Endpoint, HttpClient, PreparedRequest

CHAT_PATH = "/v1/chat/completions"
ANSWER = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
)
REQUEST = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hello"}]}).encode()

NGINX_BACKEND = """
worker_processes 1;
pid {tmp}/backend.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        location / {{ default_type application/json; return 200 '{answer}'; }}
    }}
}}
"""
NGINX_PROXY = """
worker_processes 1;
pid {tmp}/proxy.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    proxy_temp_path {tmp};
    upstream backend {{ server 127.0.0.1:{backend}; keepalive 128; }}
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}
}}
"""
HAPROXY = """
global
    maxconn 4096
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    http-reuse always
    option http-no-delay
frontend in
    bind 127.0.0.1:{port}
    default_backend out
backend out
    server b1 127.0.0.1:{backend}
"""


@dataclass
class Path_:
    """How the client reaches the backend through one path."""

    url: str
    chat_path: str = CHAT_PATH
    model: str = "m"
    headers: dict[str, str] = field(default_factory=dict)
    start_s: float | None = None  # from starting the gateway to its port accepting
    pid: int | None = None

    def request(self, endpoint: Endpoint, stream: bool = False) -> PreparedRequest:
        body = {"model": self.model, "messages": [{"role": "user", "content": "hello"}]}
        if stream:
            body["stream"] = True
        return PreparedRequest.build(
            "POST",
            endpoint,
            self.chat_path,
            headers={"content-type": "application/json", **self.headers},
            body=json.dumps(body).encode(),
        )

    def rss_mib(self) -> float | None:
        if self.pid is None:
            return None
        total = 0.0
        for pid in [self.pid, *_descendants(self.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                continue
        return total


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    except OSError:
        pass
    return found


@contextmanager
def _process(
    command: list[str], port: int, what: str, env: dict[str, str] | None = None
) -> Iterator[tuple[float, int]]:
    """Run ``command`` until the block ends; yields (seconds to listen, pid)."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        wait_for_port(port, process, what, timeout_s=120)  # LiteLLM takes 16-22 s here
        yield time.monotonic() - started, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def backend(tmp: Path) -> Iterator[tuple[int, str]]:
    port = free_port()
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if nginx:
        conf = tmp / "backend.conf"
        conf.write_text(NGINX_BACKEND.format(tmp=tmp, port=port, answer=ANSWER))
        command = [
            nginx,
            "-p",
            str(tmp),
            "-e",
            f"{tmp}/backend.err",
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ]
        described = "nginx, worker_processes 1, return 200"
    else:
        command = [sys.executable, __file__, "--serve", str(port)]
        described = "uvloop + httptools stand-in (no nginx found)"
    with _process(command, port, "the backend"):
        yield port, described


@contextmanager
def streaming_backend() -> Iterator[int]:
    """``modelmeter simulate``: 64 tokens, 1 ms apart, each its own chunk, no first-token wait."""
    port = free_port()
    command = [
        sys.executable, "-m", "modelmeter", "simulate", "--port", str(port), "--model", "m",
        "--ttft-ms", "0", "--itl-ms", "1", "--output-tokens", "64",
    ]  # fmt: skip
    with _process(command, port, "the streaming backend"):
        yield port


TENSORZERO_CONFIG = """
[models.m]
routing = ["local"]

[models.m.providers.local]
type = "openai"
model_name = "m"
api_base = "http://127.0.0.1:{backend}/v1/"
api_key_location = "none"
"""
# TensorZero's wheel starts its HTTP gateway on a port of its own choosing and says where.
TENSORZERO_RUNNER = """
import sys, time, tensorzero
gateway = tensorzero._start_http_gateway(config_file=sys.argv[1], clickhouse_url=None,
    postgres_url=None, valkey_url=None, async_setup=False)
print("BASE", gateway.base_url, flush=True)
time.sleep(1e9)
"""
LITELLM_CONFIG = """
model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_base: http://127.0.0.1:{backend}/v1
      api_key: none
general_settings:
  master_key: {key}
litellm_settings:
  telemetry: false
"""
LITELLM_KEY = "sk-benchmark-master-key-0123456789"


@contextmanager
def _tensorzero(tmp: Path, peers: Path, backend_port: int) -> Iterator[Path_]:
    conf = tmp / "tensorzero.toml"
    conf.write_text(TENSORZERO_CONFIG.format(backend=backend_port))
    env = {
        **os.environ,
        "TENSORZERO_DISABLE_PSEUDONYMOUS_USAGE_ANALYTICS": "1",
        "RUST_LOG": "error",
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [str(peers / "tensorzero" / "bin" / "python"), "-c", TENSORZERO_RUNNER, str(conf)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base = ""
        for line in process.stdout:
            if line.startswith("BASE "):
                base = line.split()[1]
                break
        if not base:
            raise RuntimeError("TensorZero's gateway did not start")
        origin, _, path = base.partition("/openai")
        yield Path_(
            origin,
            chat_path="/openai" + path + "/chat/completions",
            model="tensorzero::model_name::m",
            start_s=time.monotonic() - started,
            pid=process.pid,
        )
    finally:
        process.kill()
        process.wait()


@contextmanager
def gateway_path(
    name: str, tmp: Path, backend_port: int, peers: Path | None = None
) -> Iterator[Path_]:
    if name == "direct":
        yield Path_(f"http://127.0.0.1:{backend_port}")
        return
    if name == "tensorzero":
        assert peers is not None
        with _tensorzero(tmp, peers, backend_port) as found:
            yield found
        return
    port = free_port()
    env = None
    headers: dict[str, str] = {}
    if name == "litellm":
        assert peers is not None
        conf = tmp / "litellm.yaml"
        conf.write_text(LITELLM_CONFIG.format(backend=backend_port, key=LITELLM_KEY))
        command = [
            str(peers / "litellm" / "bin" / "litellm"), "--config", str(conf),
            "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1",
        ]  # fmt: skip
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        headers = {"authorization": f"Bearer {LITELLM_KEY}"}
    elif name == "modelmeter":
        conf = tmp / "gateway.yaml"
        conf.write_text(
            json.dumps(
                {
                    "listen": {"port": port},
                    "backends": [{"name": "b", "url": f"http://127.0.0.1:{backend_port}"}],
                    "routes": [{"model": "m", "backends": ["b"]}],
                }
            )
        )
        command = [sys.executable, "-m", "modelmeter", "gateway", str(conf)]
    elif name == "nginx":
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = tmp / "proxy.conf"
        conf.write_text(NGINX_PROXY.format(tmp=tmp, port=port, backend=backend_port))
        command = [
            nginx,
            "-p",
            str(tmp),
            "-e",
            f"{tmp}/proxy.err",
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ]
    elif name == "haproxy":
        conf = tmp / "haproxy.cfg"
        conf.write_text(HAPROXY.format(port=port, backend=backend_port))
        command = [shutil.which("haproxy") or "/usr/sbin/haproxy", "-f", str(conf)]
    else:
        raise ValueError(name)
    with _process(command, port, name, env) as (start_s, pid):
        yield Path_(f"http://127.0.0.1:{port}", headers=headers, start_s=start_s, pid=pid)


# -- the client --------------------------------------------------------------------------------


async def latencies(path: Path_, count: int, warmup: int) -> list[float]:
    url = path.url
    endpoint = Endpoint.from_url(url)
    request = path.request(endpoint)
    times: list[float] = []
    deadline = time.monotonic() + 60  # a slow peer gets a minute, not 3,000 requests
    async with HttpClient(endpoint, timeout_s=30) as client:
        for index in range(warmup + count):
            if index > warmup + 100 and time.monotonic() > deadline:
                break
            response = await client.request(request)
            if response.status != 200:
                raise RuntimeError(f"{url}: status {response.status}: {response.body[:200]!r}")
            if index >= warmup:
                times.append((response.done_at - response.sent_at) / 1e6)
    return times


async def streams(path: Path_, count: int) -> tuple[float, float]:
    """Median time to the first body byte, and mean gap between chunks, in ms."""
    endpoint = Endpoint.from_url(path.url)
    request = path.request(endpoint, stream=True)
    firsts: list[float] = []
    gaps: list[float] = []
    async with HttpClient(endpoint, timeout_s=30) as client:
        for index in range(count + 5):
            arrivals: list[int] = []
            response = await client.request(
                request, lambda _piece, at, seen=arrivals: seen.append(at)
            )
            if response.status != 200 or len(arrivals) < 10:
                raise RuntimeError(f"{path.url}: a stream gave {response.status}, {len(arrivals)}")
            if index < 5:
                continue
            firsts.append((arrivals[0] - response.sent_at) / 1e6)
            gaps.append((arrivals[-1] - arrivals[0]) / (len(arrivals) - 1) / 1e6)
    return statistics.median(firsts), statistics.mean(gaps)


async def throughput(path: Path_, concurrency: int, seconds: float) -> float:
    url = path.url
    endpoint = Endpoint.from_url(url)
    request = path.request(endpoint)
    done = 0
    async with HttpClient(endpoint, timeout_s=30) as client:
        warm_until = time.monotonic() + 0.5
        while time.monotonic() < warm_until:
            await asyncio.gather(*(client.request(request) for _ in range(concurrency)))
        end = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < end:
                response = await client.request(request)
                if response.status != 200:
                    raise RuntimeError(f"{url}: status {response.status}")
                done += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.monotonic() - start)


def _steal() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[7], sum(fields)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(path: Path_, args: argparse.Namespace) -> dict[str, Any]:
    steal0, total0 = _steal()
    times = uvloop.run(latencies(path, args.requests, args.requests // 10))
    rates = {c: uvloop.run(throughput(path, c, args.seconds)) for c in (16, 64)}
    steal1, total1 = _steal()
    return {
        "p50_ms": statistics.median(times),
        "p99_ms": _pct(times, 0.99),
        "rps_c16": rates[16],
        "rps_c64": rates[64],
        "start_s": path.start_s,
        "rss_mib": path.rss_mib(),
        "steal_pct": 100 * (steal1 - steal0) / max(1, total1 - total0),
        "load": os.getloadavg()[0],
    }


def make_peers(peers: Path) -> None:
    """Create the peers' virtualenvs under ``peers`` (PyPI needed once)."""
    wanted = {"tensorzero": "tensorzero==2026.6.0", "litellm": "litellm[proxy]==1.108.7"}
    for name, requirement in wanted.items():
        folder = peers / name
        if (folder / "bin" / "python").exists():
            continue
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run([str(folder / "bin" / "pip"), "install", "--quiet", requirement], check=True)


PEERS = ("tensorzero", "litellm")


def _available(name: str, peers: Path | None) -> bool:
    if name in ("direct", "modelmeter"):
        return True
    if name in PEERS:
        return peers is not None and (peers / name / "bin" / "python").exists()
    return bool(shutil.which(name) or os.access(f"/usr/sbin/{name}", os.X_OK))


def _added(runs: list[dict[str, Any]], name: str, key: str) -> float | None:
    values = [
        r[key] - d[key]
        for r in runs
        if r["path"] == name and r.get(key) is not None
        for d in runs
        if d["path"] == "direct" and d["round"] == r["round"] and d.get(key) is not None
    ]
    return statistics.median(values) if values else None


def _median(runs: list[dict[str, Any]], name: str, key: str) -> float | None:
    values = [r[key] for r in runs if r["path"] == name and r.get(key) is not None]
    return statistics.median(values) if values else None


def _cell(value: float | None, form: str) -> str:
    return "–" if value is None else format(value, form)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--paths", default="direct,modelmeter,nginx,haproxy,tensorzero,litellm")
    parser.add_argument("--peers", type=Path, help="folder of the peers' virtualenvs")
    parser.add_argument("--make-peers", action="store_true", help="create them first (pip)")
    parser.add_argument("--out", type=Path, default=Path("gateway.json"))
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_stand_in(args.serve)
        return
    if args.make_peers:
        if args.peers is None:
            parser.error("--make-peers needs --peers PATH")
        make_peers(args.peers.expanduser())
    peers = args.peers.expanduser() if args.peers else None
    paths = [p for p in args.paths.split(",") if p]
    for name in paths:
        if not _available(name, peers):
            print(f"  {name}: not installed{' (see --peers)' if name in PEERS else ''}, skipped")
    paths = [p for p in paths if _available(p, peers)]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as folder:
        tmp = Path(folder)
        with backend(tmp) as (backend_port, described):
            print(f"backend: {described}")
            for round_ in range(args.rounds):
                for name in paths:
                    with gateway_path(name, tmp, backend_port, peers) as path:
                        result = {"round": round_, "path": name, **measure(path, args)}
                    runs.append(result)
                    print(
                        f"  round {round_} {name:<11} p50 {result['p50_ms']:.3f} ms  "
                        f"p99 {result['p99_ms']:.3f} ms  c16 {result['rps_c16']:,.0f}/s  "
                        f"c64 {result['rps_c64']:,.0f}/s  start {_cell(result['start_s'], '.2f')} s"
                        f"  rss {_cell(result['rss_mib'], '.0f')} MiB  "
                        f"steal {result['steal_pct']:.2f}%  load {result['load']:.2f}"
                    )
        if args.streams:
            with streaming_backend() as stream_port:
                for name in paths:
                    with gateway_path(name, tmp, stream_port, peers) as path:
                        first, gap = uvloop.run(streams(path, args.streams))
                    for result in runs:
                        if result["path"] == name:
                            result["ttft_ms"], result["gap_ms"] = first, gap
                    print(f"  stream {name:<11} first byte {first:.3f} ms  gap {gap:.4f} ms")
    print()
    print(
        "| path | added p50 ms | added p99 ms | req/s c=16 | req/s c=64 | added TTFT ms "
        "| added per chunk µs | start s | RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in paths:
        gap = _added(runs, name, "gap_ms")
        print(
            f"| {name} | {_cell(_added(runs, name, 'p50_ms'), '+.3f')} | "
            f"{_cell(_added(runs, name, 'p99_ms'), '+.3f')} | "
            f"{_cell(_median(runs, name, 'rps_c16'), ',.0f')} | "
            f"{_cell(_median(runs, name, 'rps_c64'), ',.0f')} | "
            f"{_cell(_added(runs, name, 'ttft_ms'), '+.3f')} | "
            f"{_cell(None if gap is None else gap * 1000, '+.1f')} | "
            f"{_cell(_median(runs, name, 'start_s'), '.2f')} | "
            f"{_cell(_median(runs, name, 'rss_mib'), '.0f')} |"
        )
    args.out.write_text(json.dumps({"backend": described, "runs": runs}, indent=1))
    print(f"\nwritten: {args.out}")


def serve_stand_in(port: int) -> None:
    """A keep-alive JSON backend on uvloop and httptools, for machines without nginx."""
    import httptools

    answer = ANSWER.encode()
    response = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
        % (len(answer), answer)
    )

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport
            self.parser = httptools.HttpRequestParser(self)

        def data_received(self, data: bytes) -> None:
            self.parser.feed_data(data)

        def on_message_complete(self) -> None:
            self.transport.write(response)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Answer, "127.0.0.1", port, backlog=4096)
        await server.serve_forever()

    uvloop.run(run())


if __name__ == "__main__":
    main()
