"""What any proxy on this event loop adds, against what the gateway adds: the floor under the
gateway's added latency at one request at a time.

In front of the same static backend as ``gateway.py`` (nginx ``return 200``), one request at a
time through: nothing (``direct``); a bare byte relay on uvloop that passes bytes on in the
callback that read them (``relay``: no HTTP parsing, no task); the same relay with one asyncio
task per read, as a request handler has (``relay+task``); and ``modelmeter gateway`` with one
route. Medians of ``--rounds`` rounds of ``--seconds`` each; "added" is less the direct p50 of
the same round. Load average and CPU steal are printed with each round.

    python benchmarks/gateway_floor.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvloop
from _peers import Meter, free_port, wait_for_port
from gateway import REQUEST, backend

from modelmeter.client import Endpoint, HttpClient, PreparedRequest


class _Up(asyncio.Protocol):
    def __init__(self, down: asyncio.Transport) -> None:
        self.down = down

    def data_received(self, data: bytes) -> None:
        self.down.write(data)


class _Down(asyncio.Protocol):
    """One client connection, relayed to one upstream connection."""

    def __init__(self, upstream: int, task: bool) -> None:
        self.upstream, self.task = upstream, task
        self.up: asyncio.Transport | None = None
        self.waiting: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.down = transport
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.up, _ = await loop.create_connection(
            lambda: _Up(self.down),
            "127.0.0.1",
            self.upstream,  # type: ignore[arg-type]
        )
        for data in self.waiting:
            self.up.write(data)

    def data_received(self, data: bytes) -> None:
        if self.up is None:
            self.waiting.append(data)
        elif self.task:
            asyncio.get_running_loop().create_task(self._send(data))
        else:
            self.up.write(data)

    async def _send(self, data: bytes) -> None:
        assert self.up is not None
        self.up.write(data)


def serve_relay(port: int, upstream: int, task: bool) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: _Down(upstream, task), "127.0.0.1", port)
        await asyncio.Event().wait()

    uvloop.run(main())


async def _p50_ms(port: int, seconds: float) -> float:
    endpoint = Endpoint.from_url(f"http://127.0.0.1:{port}")
    request = PreparedRequest.build(
        "POST",
        endpoint,
        "/v1/chat/completions",
        headers={"content-type": "application/json"},
        body=REQUEST,
    )
    latencies = []
    async with HttpClient(endpoint, timeout_s=10) as client:
        for _ in range(200):  # warm-up
            await client.request(request)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            answer = await client.request(request)
            latencies.append(answer.done_at - answer.sent_at)
    return statistics.median(latencies) / 1e6


@contextmanager
def _started(command: list[str], port: int, what: str) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, what)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--relay", nargs=3, help=argparse.SUPPRESS)  # PORT UPSTREAM MODE
    args = parser.parse_args()
    if args.relay:
        serve_relay(int(args.relay[0]), int(args.relay[1]), args.relay[2] == "task")
        return
    added: dict[str, list[float]] = {"relay": [], "relay+task": [], "modelmeter": []}
    with tempfile.TemporaryDirectory() as folder, backend(Path(folder)) as (upstream, described):
        config = Path(folder) / "gateway.yaml"
        gateway_port = free_port()
        config.write_text(
            f"listen: {{port: {gateway_port}}}\n"
            f"backends: [{{name: b, url: 'http://127.0.0.1:{upstream}'}}]\n"
            "routes: [{model: m, backends: [b]}]\n"
        )
        relays = {name: free_port() for name in ("relay", "relay+task")}
        me = [sys.executable, __file__, "--relay"]
        gateway = [sys.executable, "-m", "modelmeter", "gateway", str(config)]
        with (
            _started([*me, str(relays["relay"]), str(upstream), "plain"], relays["relay"], "relay"),
            _started(
                [*me, str(relays["relay+task"]), str(upstream), "task"],
                relays["relay+task"],
                "relay+task",
            ),
            _started(gateway, gateway_port, "the gateway"),
        ):
            ports = {**relays, "modelmeter": gateway_port}
            for round_number in range(args.rounds):
                meter = Meter()
                direct = uvloop.run(_p50_ms(upstream, args.seconds))
                line = [f"round {round_number}: direct p50 {direct * 1000:.1f} µs"]
                for name, port in ports.items():
                    value = uvloop.run(_p50_ms(port, args.seconds)) - direct
                    added[name].append(value)
                    line.append(f"{name} +{value * 1000:.1f} µs")
                facts = meter.stop()
                line.append(f"load {facts['loadavg_1m']:.2f}, steal {facts['steal_pct']}%")
                print(", ".join(line))
    print(f"\nbackend: {described}; medians of {args.rounds} rounds, added p50 at c=1:")
    for name, values in added.items():
        print(f"  {name:12s} +{statistics.median(values) * 1000:.1f} µs")


if __name__ == "__main__":
    main()
