"""`modelmeter.run` over real targets: a failing target never costs the others their results."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

import modelmeter
from modelmeter.spec import parse_spec
from modelmeter.study import RunOptions


def test_run_keeps_going_when_a_target_is_down(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [
        {"id": f"r{i}", "text": f"msg {i}", "label": f"MSG {i}", "lang": "en"} for i in range(30)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = parse_spec(
        {
            "name": "down and up",
            "dataset": {"path": str(data), "slice_fields": ["lang"]},
            "targets": [
                {"name": "down", "kind": "oip", "url": "http://127.0.0.1:9", "model": "m"},
                {
                    "name": "upper",
                    "kind": "python",
                    "function": "tests.integration.test_runner:shout",
                    "pricing": {"kind": "api", "currency": "USD", "per_request": "0.002"},
                },
            ],
            "load": {"mode": "constant", "rate_rps": 200, "duration_s": 0.2, "warmup_s": 0.05},
            "objectives": {"sla": {"p95_ms": 1000}},
        },
        path=tmp_path / "spec.yaml",
    )
    # By default a target that fails the preflight request stops the run before anything is
    # measured, naming it; without the preflight the others are measured all the same.
    with pytest.raises(modelmeter.PreflightFailed) as stopped:
        modelmeter.run(spec)
    [line] = stopped.value.failures
    assert line.startswith("target 'down' at http://127.0.0.1:9: connect: cannot connect")
    result = modelmeter.run(spec, RunOptions(preflight=False))
    report = result.report
    down, upper = report.models
    assert down.quality is None and down.latency_ms is None and not down.sla.met
    assert any("did not start" in v and "connect" in v for v in down.sla.violations)
    assert any("target 'down' at http://127.0.0.1:9" in v for v in down.sla.violations)
    assert upper.quality is not None and upper.quality.accuracy == 1.0
    assert upper.quality.by_slice["lang"]["en"].n == 30
    assert upper.load is not None and upper.load.mode == "constant"
    # 200/s for 0.25 s including warm-up: 50 arrivals, the first 10 of them in the warm-up.
    assert len(result.outcomes[("upper", "load")]) == 50
    assert upper.load.requests == 40
    assert upper.cost.per_1000_requests is not None and upper.cost.currency == "USD"
    assert float(upper.cost.per_1000_requests) == 2.0
    assert report.recommendation.chosen == "upper"


def shout(text: str) -> str:
    return text.upper()


def test_two_load_processes_merge_into_one_exact_schedule(tmp_path: Path, fault_server) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "text": f"m{i}", "label": f"M{i}"}) + "\n" for i in range(10)
        ),
        encoding="utf-8",
    )
    spec = parse_spec(
        {
            "name": "two processes",
            "dataset": {"path": str(data)},
            "targets": [
                {
                    "name": "label",
                    "kind": "http",
                    "url": f"{fault_server.url}/label?delay_ms=1",
                    "response_path": "prediction.label",
                }
            ],
            "load": {
                "mode": "constant",
                "rate_rps": 100,
                "duration_s": 0.5,
                "warmup_s": 0.1,
                "processes": 2,
            },
        },
        path=tmp_path / "spec.yaml",
    )
    result = modelmeter.run(spec)
    outcomes = list(result.outcomes[("label", "load")])
    # 100/s over 0.6 s: arrivals at 0, 10, ..., 590 ms, each sent once by one of the processes.
    intended = sorted(o.intended_at for o in outcomes)
    assert len(intended) == 60
    gaps = {round((b - a) / 1e6) for a, b in itertools.pairwise(intended)}
    assert gaps == {10}
    assert all(o.sent_at >= o.intended_at for o in outcomes)  # never early
    model = result.report.models[0]
    assert model.load is not None and model.load.requests == 50
    assert model.quality is not None and model.quality.accuracy == 1.0


def test_an_open_loop_phase_prices_an_upper_bound_not_the_capacity(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [{"id": f"r{i}", "text": f"msg {i}", "label": f"MSG {i}"} for i in range(20)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def spec(load: dict[str, object]) -> Any:
        return parse_spec(
            {
                "name": "cost basis",
                "dataset": {"path": str(data)},
                "targets": [
                    {
                        "name": "upper",
                        "kind": "python",
                        "function": "tests.integration.test_runner:shout",
                        "pricing": {"kind": "instance", "price_per_hour": "1", "currency": "EUR"},
                    }
                ],
                "load": load,
            },
            path=tmp_path / "spec.yaml",
        )

    offered = modelmeter.run(spec({"mode": "constant", "rate_rps": 50, "duration_s": 0.4}))
    [model] = offered.report.models
    assert model.cost.at_capacity is False
    assert "Not at capacity: the throughput is what one open-loop phase at 50 req/s" in (
        model.cost.explanation
    )
    assert "is an upper bound: measured at an offered open-loop rate" in (
        offered.report.recommendation.text
    )
    closed = modelmeter.run(spec({"mode": "concurrency", "concurrency": 2, "duration_s": 0.3}))
    assert closed.report.models[0].cost.at_capacity is True
