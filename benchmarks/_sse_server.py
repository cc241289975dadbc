"""An independent streaming server for checking timing truth: plain asyncio, nothing of ours.

``modelmeter simulate`` agreeing with modelmeter's client proves less than a stranger agreeing:
they share ideas about when to stamp a write. This server is written the way a small
OpenAI-compatible server is usually written, on asyncio's default event loop with its streams
(no uvloop, no httptools, no busy-waiting), and imports nothing from modelmeter.

``POST /v1/chat/completions`` with ``"stream": true``: a chunked ``text/event-stream`` answer,
each server-sent event written as its own HTTP chunk with its own ``write`` call: a role-only
chunk at once, then ``--tokens`` content chunks of one word each, the first ``--ttft-ms`` after
the request was read and the next ``--itl-ms`` apart (``asyncio.sleep`` to each due time), then a
chunk with ``usage`` and ``data: [DONE]``. Keep-alive connections, requests one at a time each.

For every request one JSON line goes to ``--log`` in the layout of
``modelmeter.simulate.timings`` (``request_id`` from the ``x-request-id`` header; per chunk its
kind, due time and ``time.monotonic_ns()`` read just before the write), so the benchmark reads
it as it reads the simulator's. Run by ``benchmarks/timing_truth.py --server independent``;
on its own: ``python benchmarks/_sse_server.py --port 8000 --log timings.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import IO, Any

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


class Server:
    def __init__(self, ttft_ms: float, itl_ms: float, tokens: int, log: IO[str]) -> None:
        self.ttft_ns = int(ttft_ms * 1e6)
        self.itl_ns = int(itl_ms * 1e6)
        self.tokens = tokens
        self.log = log
        self.count = 0

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived_ns = time.monotonic_ns()
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                arrived_ns = time.monotonic_ns()  # the whole request is in
                if method != "POST" or not path.startswith("/v1/chat/completions"):
                    writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                request = json.loads(body)
                await self.answer(writer, headers, request, arrived_ns)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def answer(
        self,
        writer: asyncio.StreamWriter,
        headers: dict[str, str],
        request: dict[str, Any],
        arrived_ns: int,
    ) -> None:
        self.count += 1
        completion_id = f"chatcmpl-{os.getpid()}-{self.count}"
        record: dict[str, Any] = {
            "request_id": headers.get("x-request-id", completion_id),
            "completion_id": completion_id,
            "path": "/v1/chat/completions",
            "stream": True,
            "status": 200,
            "arrived_ns": arrived_ns,
            "slot_started_ns": arrived_ns,
            "headers_written_ns": None,
            "finished_ns": None,
            "ttft_ns": self.ttft_ns,
            "prompt_tokens": len(str(request.get("messages", "")).split()),
            "output_tokens": self.tokens,
            "reasoning_tokens": 0,
            "finish_reason": "stop",
            "cancelled": False,
            "chunks": {"kind": [], "tokens": [], "scheduled_ns": [], "written_ns": []},
        }
        chunks = record["chunks"]

        def send(kind: str, tokens: int, due_ns: int, payload: bytes) -> None:
            data = b"data: " + payload + b"\n\n"
            frame = f"{len(data):x}\r\n".encode() + data + b"\r\n"
            written = time.monotonic_ns()
            writer.write(frame)
            for key, value in (
                ("kind", kind),
                ("tokens", tokens),
                ("scheduled_ns", due_ns),
                ("written_ns", written),
            ):
                chunks[key].append(value)

        def event(delta: dict[str, Any], **extra: Any) -> bytes:
            body = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "model": request.get("model", "m"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                **extra,
            }
            return json.dumps(body).encode()

        try:
            record["headers_written_ns"] = time.monotonic_ns()
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            send("role", 0, arrived_ns, event({"role": "assistant"}))
            await writer.drain()
            for i in range(self.tokens):
                due = arrived_ns + self.ttft_ns + i * self.itl_ns
                delay = (due - time.monotonic_ns()) / 1e9
                if delay > 0:
                    await asyncio.sleep(delay)
                send("content", 1, due, event({"content": WORDS[i % len(WORDS)] + " "}))
                await writer.drain()
            now = time.monotonic_ns()
            usage = {
                "prompt_tokens": record["prompt_tokens"],
                "completion_tokens": self.tokens,
                "total_tokens": record["prompt_tokens"] + self.tokens,
            }
            send(
                "usage",
                0,
                now,
                json.dumps({"id": completion_id, "choices": [], "usage": usage}).encode(),
            )
            send("done", 0, now, b"[DONE]")
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            record["finished_ns"] = time.monotonic_ns()
        except ConnectionError:
            record["cancelled"] = True
        self.log.write(json.dumps(record) + "\n")


async def main(args: argparse.Namespace) -> None:
    with Path(args.log).open("w", encoding="utf-8") as log:
        server = Server(args.ttft_ms, args.itl_ms, args.tokens, log)
        listening = await asyncio.start_server(
            server.connection, "127.0.0.1", args.port, backlog=4096
        )
        port = listening.sockets[0].getsockname()[1]
        if args.ready_file:
            partial = Path(args.ready_file + ".partial")
            partial.write_text(json.dumps({"url": f"http://127.0.0.1:{port}", "port": port}))
            os.replace(partial, args.ready_file)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with listening:
            await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready-file")
    asyncio.run(main(parser.parse_args()))
