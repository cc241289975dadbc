"""Events per second of `modelmeter.client.sse.SseParser` on 10,000 events, fed three ways.

* one piece: the whole buffer in one ``feed`` (many events per socket read),
* per event: one ``feed`` per event (one event per TCP segment, the streaming case),
* 1-byte: one ``feed`` per byte (the worst case; reported as MB/s too).

Payloads: small ``data: {"i": N}`` events, the same with CRLF line ends, and OpenAI-style chat
chunks (~150 bytes). Best of 5 runs; pure Python on one core.

Run on demand: ``python benchmarks/sse_parser.py``.
"""

from __future__ import annotations

import json
import os
import time

from modelmeter.client.sse import SseParser

EVENTS = 10_000


def rate(pieces: list[bytes], expected: int) -> float:
    best = float("inf")
    for _ in range(5):
        parser = SseParser()
        started = time.perf_counter()
        count = 0
        for index, piece in enumerate(pieces):
            count += len(parser.feed(piece, index))
        parser.close()
        best = min(best, time.perf_counter() - started)
        assert count == expected, count
    return expected / best


def main() -> None:
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": " tok"}, "finish_reason": None}],
    }
    payloads = {
        "small": [f"data: {json.dumps({'i': i})}\n\n" for i in range(EVENTS)],
        "small CRLF": [f"data: {json.dumps({'i': i})}\r\n\r\n" for i in range(EVENTS)],
        "chat chunk": [f"data: {json.dumps(chunk)}\n\n" for _ in range(EVENTS)],
    }
    print(f"{os.cpu_count()} CPUs; {EVENTS} events per run, best of 5")
    for name, events in payloads.items():
        encoded = [event.encode() for event in events]
        buffer = b"".join(encoded)
        size = len(buffer) / EVENTS
        whole = rate([buffer], EVENTS)
        each = rate(encoded, EVENTS)
        byte = rate([buffer[i : i + 1] for i in range(len(buffer))], EVENTS)
        print(
            f"{name:11} ({size:3.0f} B/event): one piece {whole:>10,.0f} ev/s | per event "
            f"{each:>9,.0f} ev/s | 1-byte {byte:>8,.0f} ev/s ({byte * size / 1e6:.1f} MB/s)"
        )


if __name__ == "__main__":
    main()
