"""The built-in scenario: three real variants of one intent classifier, served and measured.

1. generate the multilingual customer-support dataset (seeded, offline) and split it;
2. train base, optimised and distilled variants (cached after the first run);
3. serve each with ``modelmeter serve`` on 127.0.0.1, one process each;
4. run the same study a user would write as YAML (written next to the report) against them.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from modelmeter.data.demo_intents import (
    DEFAULT_SEED,
    generate_intents,
    train_test_split,
    write_jsonl,
)
from modelmeter.progress import ProgressListener, SilentProgress
from modelmeter.spec import parse_spec
from modelmeter.study import RunOptions, RunResult, run

# Assumed price of the machine each variant runs on: a 2-vCPU cloud instance. Stated in the
# report's cost explanation; `modelmeter demo --price-per-hour` sets your own.
DEFAULT_PRICE_PER_HOUR = Decimal("0.09")
DEFAULT_CURRENCY = "EUR"
DEMO_SLA_P95_MS = 50.0


@dataclass(frozen=True)
class DemoOptions:
    out_dir: Path
    cache_dir: Path | None = None
    duration_s: float = 8.0
    warmup_s: float = 1.0
    concurrency: int = 8
    seed: int = DEFAULT_SEED
    price_per_hour: Decimal = DEFAULT_PRICE_PER_HOUR
    currency: str = DEFAULT_CURRENCY


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("modelmeter", appauthor=False)) / "demo-models"


def demo_spec(
    options: DemoOptions, dataset_path: Path, servers: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """The study as a YAML-able mapping; ``servers`` maps variant -> (url, description)."""
    return {
        "name": "Built-in demo: support-intent classifier, three variants",
        "description": "Multilingual customer-support intent classification (en, fr, pt, es, "
        "de); base vs optimised vs distilled, each served over the Open Inference Protocol.",
        "seed": options.seed,
        "task": "classification",
        "dataset": {
            "path": str(dataset_path),
            "input_field": "text",
            "label_field": "label",
            "id_field": "id",
            "slice_fields": ["language", "noise"],
        },
        "targets": [
            {
                "name": name,
                "kind": "oip",
                "url": url,
                "model": name,
                "description": description,
                "pricing": {
                    "kind": "instance",
                    "price_per_hour": str(options.price_per_hour),
                    "currency": options.currency,
                },
            }
            for name, (url, description) in servers.items()
        ],
        "load": {
            "mode": "concurrency",
            "concurrency": options.concurrency,
            "duration_s": options.duration_s,
            "warmup_s": options.warmup_s,
        },
        "evaluation": {"concurrency": options.concurrency},
        "objectives": {"sla": {"p95_ms": DEMO_SLA_P95_MS, "max_error_rate": 0.01}},
        # An assumed production load and value, stated in the report, so that the capacity
        # plan and the business case have something to plan for: one workload for both
        # (20 req/s on average over 730 hours is 52,560,000 requests a month).
        "capacity": {"peak_rps": 60, "average_rps": 20, "headroom": 0.3},
        "business": {
            "value_per_correct": "0.02",
            "currency": options.currency,
            "monthly_requests": 52_560_000,
            "one_off_cost": "500",
            "baseline": "base",
        },
    }


def run_demo(
    options: DemoOptions,
    progress: ProgressListener | None = None,
    *,
    client_ceiling_rps: float | None = None,
) -> RunResult:
    from modelmeter.demo.variants import train_variants
    from modelmeter.serve.server import start_server_process

    listener = progress or SilentProgress()
    out_dir = options.out_dir
    data_dir = out_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)

    listener.begin("generating the support-intent dataset", None)
    samples = generate_intents(seed=options.seed)
    train, test = train_test_split(samples, seed=options.seed)
    test_path = data_dir / "test.jsonl"
    write_jsonl(train, data_dir / "train.jsonl")
    write_jsonl(test, test_path)
    listener.end()
    listener.note(f"dataset: {len(train)} training and {len(test)} test messages in {data_dir}")

    listener.begin("training base, optimised and distilled variants (cached)", None)
    variants = train_variants(
        train, options.cache_dir or default_cache_dir(), seed=options.seed, progress=listener.note
    )
    listener.end()
    # Copies next to the report, so that examples/ and a user's own specs can point at them.
    models_dir = out_dir / "models"
    models_dir.mkdir(exist_ok=True)
    for variant in variants:
        shutil.copyfile(variant.path, models_dir / f"{variant.name}{variant.path.suffix}")

    with contextlib.ExitStack() as stack:
        listener.begin("starting one model server per variant on 127.0.0.1", None)
        servers: dict[str, tuple[str, str]] = {}
        for variant in variants:
            server = stack.enter_context(
                start_server_process(
                    {variant.name: variant.path},
                    workers=1,
                    max_batch_size=variant.max_batch_size,
                    max_wait_ms=variant.max_wait_ms,
                )
            )
            batching = (
                f"micro-batching up to {variant.max_batch_size} / {variant.max_wait_ms:g} ms"
                if variant.max_batch_size > 1
                else "no batching"
            )
            servers[variant.name] = (server.url, f"{variant.description}; served with {batching}")
        listener.end()

        spec_data = demo_spec(options, test_path.resolve(), servers)
        spec_path = out_dir / "demo-spec.yaml"
        spec_path.write_text(
            "# The study the demo ran. The servers it names were stopped after the run: start\n"
            "# your own with `modelmeter serve NAME=MODEL_FILE --port N` and adjust the URLs.\n"
            + yaml.safe_dump(spec_data, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        spec = parse_spec(spec_data, path=spec_path)
        run_options = RunOptions(
            samples=test, progress=listener, client_ceiling_rps=client_ceiling_rps
        )
        return run(spec, run_options)
