"""Micro-batching in ``modelmeter serve``: latency and throughput with and without it.

Trains a small TF-IDF + logistic regression text classifier, serves it with one worker and
``max_batch_size`` 1 and 32, and measures with an aiohttp client:

* single-request latency: one request at a time (p50 / p99),
* throughput: 16 concurrent requesters for ``--seconds`` each (req/s, p50 / p99).

Client and server share the machine's cores, so the figures are a lower bound for the server.
Run on demand: ``python benchmarks/serve_batching.py [--seconds 5] [--batch-sizes 1,32]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modelmeter.serve import start_server_process

POSITIVE = ["good", "great", "lovely", "excellent", "superb", "moving", "brilliant", "fun"]
NEGATIVE = ["bad", "awful", "terrible", "boring", "dull", "weak", "poor", "tedious"]
FILLER = [f"word{i}" for i in range(3000)]


def make_texts(count: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        label = rng.choice(["pos", "neg"])
        cue = POSITIVE if label == "pos" else NEGATIVE
        words = rng.choices(FILLER, k=14) + rng.choices(cue, k=2)
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def train(path: Path) -> None:
    texts, labels = make_texts(4000, seed=1)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=500))
    model.fit(texts, labels)
    joblib.dump(model, path)


def body(text: str) -> dict[str, object]:
    return {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [text]}]}


async def drive(url: str, concurrency: int, seconds: float, texts: list[str]) -> list[float]:
    """Closed loop: ``concurrency`` requesters, each sending its next request on an answer."""
    endpoint = f"{url}/v2/models/clf/infer"
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for text in texts[:50]:  # warm up connections and the model
            async with session.post(endpoint, json=body(text)) as response:
                await response.read()
        deadline = time.perf_counter() + seconds

        async def requester(offset: int) -> None:
            index = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.post(endpoint, json=body(texts[index % len(texts)])) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"HTTP {response.status}: {await response.text()}")
                latencies.append(time.perf_counter() - started)
                index += concurrency

        await asyncio.gather(*(requester(i) for i in range(concurrency)))
    return latencies


def summary(latencies: list[float], seconds: float) -> str:
    quantiles = statistics.quantiles(latencies, n=100)
    return (
        f"{len(latencies) / seconds:8.0f} req/s   p50 {quantiles[49] * 1e3:6.2f} ms"
        f"   p99 {quantiles[98] * 1e3:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--max-wait-ms", type=float, default=2.0)
    args = parser.parse_args()
    texts, _ = make_texts(2000, seed=2)
    print(f"cores: {os.cpu_count()} (client and server share them); workers=1")
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "clf.joblib"
        train(model_path)
        for batch_size in (int(size) for size in args.batch_sizes.split(",")):
            with start_server_process(
                {"clf": model_path}, max_batch_size=batch_size, max_wait_ms=args.max_wait_ms
            ) as server:
                single = asyncio.run(drive(server.url, 1, args.seconds, texts))
                loaded = asyncio.run(drive(server.url, args.concurrency, args.seconds, texts))
            print(f"max_batch_size={batch_size:<3} concurrency 1:  {summary(single, args.seconds)}")
            print(
                f"max_batch_size={batch_size:<3} concurrency {args.concurrency}: "
                f"{summary(loaded, args.seconds)}"
            )


if __name__ == "__main__":
    main()
