"""Send-time accuracy of ``modelmeter simulate``: how late each token chunk leaves against its
schedule, read from the server's own timings log, at N concurrent streaming requests.

Variants, run one after another (A, B, A, B ... with ``--rounds``) against the same client:

* ``raw``: the simulator as shipped (asyncio Protocol + httptools, pacer with busy-wait),
* ``raw-nobusy``: the same with ``busy_wait_us=0`` (event-loop timers alone),
* ``aiohttp-sleep``: an aiohttp StreamResponse handler that sleeps until each due time,
* ``aiohttp-pacer``: aiohttp woken by the same pacer (a future per chunk).

The client is a raw asyncio protocol on uvloop in this process (closed loop: each connection
sends its next request when the answer ends); the server runs in a child process. Lateness is
``written - due`` with the write time read just before the write call, in both servers. Printed
with the figures: the server's CPU time, the CPU every other process of the machine used during
the run (what competed with client and server: p99 follows it closely) and CPU steal.

Run on demand: ``python benchmarks/simulate_send_accuracy.py [--streams 100] [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time
from pathlib import Path

from modelmeter.simulate import SimulatorConfig, send_accuracy, start_simulator

BODY = json.dumps(
    {"model": "m", "messages": [{"role": "user", "content": "hello"}], "stream": True}
).encode()


def request_bytes(port: int) -> bytes:
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY


class StreamClient(asyncio.Protocol):
    """Sends one streaming request after another; an answer ends with the 0-length chunk."""

    def __init__(self, request: bytes, deadline: float, done: asyncio.Future[int]) -> None:
        self.request = request
        self.deadline = deadline
        self.done = done
        self.tail = b""
        self.completed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.tail = (self.tail + data)[-5:]
        if self.tail == b"0\r\n\r\n":
            self.completed += 1
            self.tail = b""
            if time.monotonic() < self.deadline:
                self.transport.write(self.request)  # type: ignore[attr-defined]
            elif not self.done.done():
                self.done.set_result(self.completed)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(self.completed)


async def drive(port: int, streams: int, seconds: float) -> int:
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + seconds
    futures = []
    transports = []
    for _ in range(streams):
        future: asyncio.Future[int] = loop.create_future()
        transport, _ = await loop.create_connection(
            lambda f=future: StreamClient(request_bytes(port), deadline, f), "127.0.0.1", port
        )
        futures.append(future)
        transports.append(transport)
    completed = sum(await asyncio.gather(*futures))
    for transport in transports:
        transport.close()
    return completed


def run_client(port: int, streams: int, seconds: float) -> int:
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(drive(port, streams, seconds))


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def steal_share() -> tuple[int, int, int]:
    """CPU steal, busy and total ticks of the machine so far (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return values[7], sum(values) - idle - values[7], sum(values)


# -- aiohttp comparison server (child process) -------------------------------------------


def aiohttp_server(
    port_queue: multiprocessing.Queue, mode: str, ttft_ms: float, itl_ms: float, tokens: int
) -> None:
    import uvloop
    from aiohttp import web

    from modelmeter.simulate._pacer import Pacer

    late: list[int] = []
    payload = b'data: {"choices":[{"index":0,"delta":{"content":" tok"}}]}\n\n'

    async def chat(request: web.Request) -> web.StreamResponse:
        await request.read()
        start = time.monotonic_ns()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n')
        loop = asyncio.get_running_loop()
        for index in range(tokens):
            due = start + round((ttft_ms + itl_ms * index) * 1e6)
            if mode == "sleep":
                wait = due - time.monotonic_ns()
                if wait > 0:
                    await asyncio.sleep(wait / 1e9)
                while time.monotonic_ns() < due:  # timers may fire early: never write early
                    await asyncio.sleep(0)
            else:
                future = loop.create_future()
                pacer.at(due, lambda _due, f=future: f.set_result(None))
                await future
            written = time.monotonic_ns()
            await response.write(payload)
            late.append(written - due)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def lateness(request: web.Request) -> web.Response:
        body = json.dumps(late)
        if request.method == "DELETE":
            late.clear()
        return web.Response(text=body, content_type="application/json")

    async def main() -> None:
        nonlocal pacer
        pacer = Pacer(asyncio.get_running_loop(), 2_000_000)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        app.router.add_get("/lateness", lateness)
        app.router.add_delete("/lateness", lateness)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port_queue.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    pacer: Pacer
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def http_call(port: int, method: str, path: str) -> bytes:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path)
    body = connection.getresponse().read()
    connection.close()
    return body


def quantiles_us(values_ns: list[int]) -> tuple[float, float, float]:
    ordered = sorted(values_ns)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return cut[49] / 1000, cut[98] / 1000, ordered[-1] / 1000


def run_variant(name: str, args: argparse.Namespace) -> str:
    config = SimulatorConfig(
        ttft_ms=args.ttft_ms,
        itl_ms=args.itl_ms,
        output_tokens=args.tokens,
        slots=args.streams,
        busy_wait_us=0 if name == "raw-nobusy" else 2000,
    )
    if name.startswith("raw"):
        with start_simulator(config) as sim:
            run_client(sim.port, args.streams, args.warmup)
            sim.clear_timings()
            ticks, (steal0, busy0, total0) = cpu_ticks(sim.process.pid), steal_share()
            own0 = cpu_ticks(os.getpid())
            started = time.monotonic()
            completed = run_client(sim.port, args.streams, args.seconds)
            elapsed = time.monotonic() - started
            server_ticks = cpu_ticks(sim.process.pid) - ticks
            own = cpu_ticks(os.getpid()) - own0
            steal1, busy1, total1 = steal_share()
            accuracy = send_accuracy(sim.timings())
            p50, p99, worst, count = (
                accuracy.p50_us,
                accuracy.p99_us,
                accuracy.max_us,
                accuracy.count,
            )
    else:
        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue = context.Queue()
        mode = name.removeprefix("aiohttp-")
        process = context.Process(
            target=aiohttp_server, args=(queue, mode, args.ttft_ms, args.itl_ms, args.tokens)
        )
        process.start()
        try:
            port = queue.get(timeout=30)
            run_client(port, args.streams, args.warmup)
            http_call(port, "DELETE", "/lateness")
            ticks, (steal0, busy0, total0) = cpu_ticks(process.pid), steal_share()
            own0 = cpu_ticks(os.getpid())
            started = time.monotonic()
            completed = run_client(port, args.streams, args.seconds)
            elapsed = time.monotonic() - started
            server_ticks = cpu_ticks(process.pid) - ticks
            own = cpu_ticks(os.getpid()) - own0
            steal1, busy1, total1 = steal_share()
            late = json.loads(http_call(port, "GET", "/lateness"))
            p50, p99, worst = quantiles_us(late)
            count = len(late)
        finally:
            process.terminate()
            process.join()
    tick = os.sysconf("SC_CLK_TCK")
    steal = (steal1 - steal0) / max(total1 - total0, 1) * 100
    # CPU used by every other process of the machine: what competed with server and client
    others = max(busy1 - busy0 - server_ticks - own, 0) / tick / elapsed * 100
    return (
        f"{name:14} chunks {count:6d}  late p50 {p50:7.1f} us  p99 {p99:8.1f} us  "
        f"max {worst:8.1f} us  | {completed / elapsed:6.1f} req/s, server CPU "
        f"{server_ticks / tick / elapsed * 100:5.1f}% of a core, other processes "
        f"{others:5.1f}%, steal {steal:4.1f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--variants",
        default="raw,raw-nobusy,aiohttp-sleep,aiohttp-pacer",
        help="comma-separated, of raw, raw-nobusy, aiohttp-sleep, aiohttp-pacer",
    )
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs; {args.streams} concurrent streams, TTFT {args.ttft_ms} ms, "
        f"ITL {args.itl_ms} ms, {args.tokens} tokens, {args.seconds} s per run"
    )
    for round_index in range(args.rounds):
        for name in args.variants.split(","):
            print(f"round {round_index + 1}: {run_variant(name, args)}", flush=True)


if __name__ == "__main__":
    main()
