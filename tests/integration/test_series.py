"""Sweeps and the SLA search against a server whose capacity is known: 50 requests/s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import modelmeter
from modelmeter.spec import parse_spec

CAPACITY_RPS = 50  # /serial with delay_ms=20 answers one request at a time


def _spec(tmp_path: Path, url: str, load: dict[str, Any]) -> modelmeter.Spec:
    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "text": f"t{i}", "label": f"T{i}"}) + "\n" for i in range(20)
        ),
        encoding="utf-8",
    )
    return parse_spec(
        {
            "name": "series",
            "dataset": {"path": str(data)},
            "targets": [
                {
                    "name": "serial",
                    "kind": "http",
                    "url": f"{url}/serial?delay_ms=20",
                    "response_path": "prediction.label",
                    "timeout_s": 10,
                }
            ],
            "evaluation": {"concurrency": 1},
            "load": load,
            "objectives": {"sla": {"p95_ms": 100}},
        },
        path=tmp_path / "spec.yaml",
    )


def test_concurrency_sweep_saturates_at_the_servers_capacity(tmp_path: Path, fault_server) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        fault_server.url,
        {
            "duration_s": 0.6,
            "warmup_s": 0.1,
            "sweep": {"mode": "concurrency", "start": 1, "stop": 8},
        },
    )
    model = modelmeter.run(spec).report.models[0]
    series = model.sweep
    assert series is not None and series.kind == "sweep"
    levels = [p.value for p in series.points]
    assert levels == sorted(levels) and levels[0] == 1
    # A server that answers one request at a time cannot go faster than 1000 / 20 ms.
    for point in series.points:
        assert point.throughput_rps is not None and point.throughput_rps <= CAPACITY_RPS * 1.05
        assert point.p50_ms is not None and point.p50_ms >= 20 * min(point.value, 1)
    # More requests in flight than the server serves only queue: latency grows with the level.
    assert series.points[-1].p50_ms > series.points[0].p50_ms  # type: ignore[operator]
    assert series.stopped_because
    assert model.throughput_rps == max(
        p.throughput_rps
        for p in series.points
        if p.slo_met  # type: ignore[misc]
    )


def test_sla_search_stays_below_capacity(tmp_path: Path, fault_server) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        fault_server.url,
        {
            "mode": "poisson",
            "duration_s": 1.0,
            "warmup_s": 0.1,
            "search": {"low_rps": 5, "high_rps": 400, "tolerance": 0.2, "max_steps": 8},
        },
    )
    model = modelmeter.run(spec).report.models[0]
    series = model.sweep
    assert series is not None and series.kind == "sla_search"
    if series.best is None:
        # A machine so busy that even the lowest rate was not sent on schedule: the search
        # must say so and claim no rate, rather than measure the client.
        assert "could not keep up at" in series.stopped_because
        assert series.points[-1].client_bound
        return
    assert series.best.slo_met
    # Past the capacity the queue only grows, so no rate far above it can meet a 100 ms P95.
    assert series.best.value <= CAPACITY_RPS * 1.2
    # Every rate that failed lies above the best one (the search may also stop early, at a
    # level where this busy machine's client could not keep up).
    failing = [p for p in series.points if p.slo_met is False]
    assert all(p.value > series.best.value for p in failing)
    assert failing or "could not keep up" in series.stopped_because
    assert model.load is not None and model.load.rate_rps == series.best.value
