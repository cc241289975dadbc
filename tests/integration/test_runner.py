"""`modelmeter.run` over real targets: a failing target never costs the others their results."""

from __future__ import annotations

import json
from pathlib import Path

import modelmeter
from modelmeter.spec import parse_spec


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
    result = modelmeter.run(spec)
    report = result.report
    down, upper = report.models
    assert down.quality is None and down.latency_ms is None and not down.sla.met
    assert any("did not start" in v and "connect" in v for v in down.sla.violations)
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
