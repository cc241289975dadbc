"""Gateway overhead: what a proxy in front of a model backend adds, side by side in one run.

One static JSON backend (nginx, ``return 200`` with a fixed chat completion; without nginx a
small uvloop + httptools server in this script) is reached by the same client (modelmeter's
HTTP client on uvloop, keep-alive) directly and through each gateway, one after another, each
with one worker process:

* ``direct``: no gateway, the baseline;
* ``modelmeter``: ``modelmeter gateway`` with one route to the backend;
* ``nginx``: ``proxy_pass`` to an upstream with ``keepalive`` (when nginx is installed);
* ``haproxy``: ``mode http`` with ``http-reuse always`` (when haproxy is installed).

Per path: latency at one request at a time (``--requests`` requests after a warm-up; p50 and
p99), and requests/s at 16 and 64 concurrent (``--seconds`` each). "Added" = the path's figure
minus the direct one of the same round. Recorded with every run: load average and CPU steal
(``/proc/stat``) over the run. Peers that need a virtualenv of their own (TensorZero, LiteLLM)
are not run by this script yet.

    python benchmarks/gateway.py [--requests 3000] [--seconds 5] [--rounds 2] [--out gateway.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvloop

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
frontend in
    bind 127.0.0.1:{port}
    default_backend out
backend out
    server b1 127.0.0.1:{backend}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{what} did not start listening")


@contextmanager
def _process(command: list[str], port: int, what: str) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, what)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def backend(tmp: Path) -> Iterator[tuple[int, str]]:
    port = _free_port()
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
def gateway_path(name: str, tmp: Path, backend_port: int) -> Iterator[str]:
    if name == "direct":
        yield f"http://127.0.0.1:{backend_port}"
        return
    port = _free_port()
    if name == "modelmeter":
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
    with _process(command, port, name):
        yield f"http://127.0.0.1:{port}"


# -- the client --------------------------------------------------------------------------------


async def latencies(url: str, count: int, warmup: int) -> list[float]:
    endpoint = Endpoint.from_url(url)
    request = PreparedRequest.build(
        "POST", endpoint, CHAT_PATH, headers={"content-type": "application/json"}, body=REQUEST
    )
    times: list[float] = []
    async with HttpClient(endpoint, timeout_s=30) as client:
        for index in range(warmup + count):
            response = await client.request(request)
            if response.status != 200:
                raise RuntimeError(f"{url}: status {response.status}: {response.body[:200]!r}")
            if index >= warmup:
                times.append((response.done_at - response.sent_at) / 1e6)
    return times


async def throughput(url: str, concurrency: int, seconds: float) -> float:
    endpoint = Endpoint.from_url(url)
    request = PreparedRequest.build(
        "POST", endpoint, CHAT_PATH, headers={"content-type": "application/json"}, body=REQUEST
    )
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


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    steal0, total0 = _steal()
    times = uvloop.run(latencies(url, args.requests, args.requests // 10))
    rates = {c: uvloop.run(throughput(url, c, args.seconds)) for c in (16, 64)}
    steal1, total1 = _steal()
    return {
        "p50_ms": statistics.median(times),
        "p99_ms": _pct(times, 0.99),
        "rps_c16": rates[16],
        "rps_c64": rates[64],
        "steal_pct": 100 * (steal1 - steal0) / max(1, total1 - total0),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--paths", default="direct,modelmeter,nginx,haproxy")
    parser.add_argument("--out", type=Path, default=Path("gateway.json"))
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_stand_in(args.serve)
        return
    paths = [p for p in args.paths.split(",") if p]
    available = {
        "direct": True,
        "modelmeter": True,
        "nginx": bool(shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)),
        "haproxy": bool(shutil.which("haproxy") or os.access("/usr/sbin/haproxy", os.X_OK)),
    }
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as folder:
        tmp = Path(folder)
        with backend(tmp) as (backend_port, described):
            print(f"backend: {described}")
            for round_ in range(args.rounds):
                for name in paths:
                    if not available.get(name):
                        print(f"  {name}: not installed, skipped")
                        continue
                    with gateway_path(name, tmp, backend_port) as url:
                        result = {"round": round_, "path": name, **measure(url, args)}
                    runs.append(result)
                    print(
                        f"  round {round_} {name:<11} p50 {result['p50_ms']:.3f} ms  "
                        f"p99 {result['p99_ms']:.3f} ms  c16 {result['rps_c16']:,.0f}/s  "
                        f"c64 {result['rps_c64']:,.0f}/s  steal {result['steal_pct']:.2f}%  "
                        f"load {result['load']:.2f}"
                    )
    print()
    print("| path | p50 ms | added p50 ms | p99 ms | added p99 ms | req/s c=16 | req/s c=64 |")
    print("|---|---|---|---|---|---|---|")
    for name in paths:
        mine = [r for r in runs if r["path"] == name]
        if not mine:
            continue
        added50 = [
            r["p50_ms"] - d["p50_ms"]
            for r in mine
            for d in runs
            if d["path"] == "direct" and d["round"] == r["round"]
        ]
        added99 = [
            r["p99_ms"] - d["p99_ms"]
            for r in mine
            for d in runs
            if d["path"] == "direct" and d["round"] == r["round"]
        ]
        print(
            f"| {name} | {statistics.median(r['p50_ms'] for r in mine):.3f} | "
            f"{statistics.median(added50) if added50 else float('nan'):+.3f} | "
            f"{statistics.median(r['p99_ms'] for r in mine):.3f} | "
            f"{statistics.median(added99) if added99 else float('nan'):+.3f} | "
            f"{statistics.median(r['rps_c16'] for r in mine):,.0f} | "
            f"{statistics.median(r['rps_c64'] for r in mine):,.0f} |"
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
