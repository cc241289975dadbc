"""The pieces of `modelmeter watch`: findings from the gate and from drift, Alertmanager's
webhook body, what changed between cycles, the CronJob, intervals, the state in the store and
the gateway's log as columns."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from modelmeter._exceptions import PlanError, StoreError
from modelmeter.compare import compare_reports
from modelmeter.drift import compare_tables, gateway_columns
from modelmeter.drift.gateway import prompt_text
from modelmeter.store import RunStore
from modelmeter.watch import (
    Finding,
    changes,
    cronjob_manifests,
    drift_findings,
    failed_run_finding,
    findings_from_json,
    findings_json,
    gate_findings,
    parse_interval,
    webhook_payload,
)
from tests._alerts import WEBHOOK_SCHEMA
from tests.unit.test_compare_builders import regression_pair, report


def _errors(schema: dict[str, Any], document: object) -> list[str]:
    return [e.message for e in Draft202012Validator(schema).iter_errors(document)]


def test_gate_findings_are_the_failed_checks() -> None:
    baseline, new = regression_pair()
    gate = compare_reports(baseline, new)
    found = gate_findings(gate, "support")
    failed = [(m.label, c.name) for m in gate.models for c in m.checks if c.status == "fail"]
    tickets = [(f.labels["model"], f.labels["check"]) for f in found if f.actionable]
    assert tickets == failed and failed
    finding = found[0]
    assert finding.labels["alertname"] == "ModelmeterRegression"
    assert finding.labels["study"] == "support"
    assert finding.extra == {"baseline_run": gate.baseline_run, "run": gate.new_run}
    assert "regressed" in finding.summary
    # the same grades in another run: nothing to say
    same = report("20260107-120000-cccccc", baseline.models)
    assert [f for f in gate_findings(compare_reports(baseline, same), "s") if f.actionable] == []


def test_drift_findings_name_the_drifted_columns() -> None:
    rng = random.Random(2)
    reference = {
        "a": [rng.gauss(0, 1) for _ in range(2000)],
        "b": [rng.gauss(0, 1) for _ in range(2000)],
    }
    current = {
        "a": [rng.gauss(0.5, 1) for _ in range(2000)],
        "b": [rng.gauss(0, 1) for _ in range(2000)],
    }
    report = compare_tables(reference, current)
    found = drift_findings(report, "support", "the last 1 h")
    assert [f.labels for f in found] == [
        {"alertname": "ModelmeterDrift", "study": "support", "column": "a", "severity": "ticket"}
    ]
    assert found[0].summary == "a drifted in the last 1 h"
    assert "Holm-adjusted" in found[0].description and "2,000 reference" in found[0].description


def test_webhook_body_is_alertmanagers() -> None:
    fired = [
        Finding({"alertname": "A", "study": "s", "severity": "ticket"}, "one", "why"),
        Finding({"alertname": "B", "study": "s", "severity": "ticket"}, "two"),
    ]
    gone = [failed_run_finding("s", "connection refused")]
    now = datetime(2026, 12, 7, 12, 0, 0, 123000, tzinfo=UTC)
    body = webhook_payload(fired, gone, group={"study": "s"}, now=now)
    assert _errors(WEBHOOK_SCHEMA, json.loads(json.dumps(body))) == []
    assert body["status"] == "firing"
    assert body["commonLabels"] == {"study": "s"}  # severity differs: page and ticket
    alerts = body["alerts"]
    assert isinstance(alerts, list)
    assert [a["status"] for a in alerts] == ["firing", "firing", "resolved"]
    assert alerts[0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert alerts[2]["endsAt"] == "2026-12-07T12:00:00.123Z"
    assert alerts[0]["annotations"] == {"summary": "one", "description": "why"}
    assert len({a["fingerprint"] for a in alerts}) == 3
    only_resolved = webhook_payload([], gone, now=now)
    assert only_resolved["status"] == "resolved"
    assert _errors(WEBHOOK_SCHEMA, only_resolved) == []
    # the schema is not a formality
    broken = json.loads(json.dumps(body))
    broken["alerts"][0]["startsAt"] = "yesterday"
    del broken["version"]
    assert len(_errors(WEBHOOK_SCHEMA, broken)) == 2


def test_changes_between_cycles() -> None:
    a = Finding({"alertname": "A", "check": "sla"}, "a")
    b = Finding({"alertname": "A", "check": "latency"}, "b")
    c = Finding({"alertname": "D", "column": "x"}, "c")
    again_a = Finding({"alertname": "A", "check": "sla"}, "a, worse", "other figures")
    new, still, resolved = changes([again_a, c], [a, b])
    assert (new, still, resolved) == ([c], [again_a], [b])
    assert changes([], []) == ([], [], [])
    assert findings_from_json(findings_json([a, c])) == [a, c]
    assert findings_from_json(None) == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("1.5h", 5400), ("2d", 172800), ("600", 600)],
)
def test_intervals(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1y", "-5m", "0h", "1 hour"])
def test_bad_intervals_say_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="is not an interval"):
        parse_interval(text)


_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CRONJOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "batch/v1"},
        "kind": {"const": "CronJob"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": _NAME, "maxLength": 52}},
        },
        "spec": {
            "type": "object",
            "required": ["schedule", "jobTemplate"],
            "properties": {
                "schedule": {"type": "string"},
                "concurrencyPolicy": {"enum": ["Allow", "Forbid", "Replace"]},
                "jobTemplate": {
                    "type": "object",
                    "required": ["spec"],
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["template"],
                            "properties": {
                                "backoffLimit": {"type": "integer", "minimum": 0},
                                "activeDeadlineSeconds": {"type": "integer", "minimum": 1},
                                "template": {
                                    "type": "object",
                                    "required": ["spec"],
                                    "properties": {
                                        "spec": {
                                            "type": "object",
                                            "required": ["containers", "restartPolicy"],
                                            "properties": {
                                                "restartPolicy": {"enum": ["Never", "OnFailure"]}
                                            },
                                        }
                                    },
                                },
                            },
                        }
                    },
                },
            },
        },
    },
}


def test_cronjob_runs_one_cycle_of_the_mounted_spec() -> None:
    spec_text = "name: Support intents\n"
    text = cronjob_manifests(
        "Support intents",
        spec_text,
        ["--baseline", "20261201-000000-abcdef", "--webhook", "http://am:9093/hook"],
        schedule="0 * * * *",
        image="registry.example.com/modelmeter:1.0",
        token_secret="hook-token",
    )
    config_map, cronjob = list(yaml.safe_load_all(text))
    assert _errors(CRONJOB_SCHEMA, cronjob) == []
    assert config_map["kind"] == "ConfigMap" and config_map["data"]["spec.yaml"] == spec_text
    name = cronjob["metadata"]["name"]
    assert name == "modelmeter-watch-support-intents" == config_map["metadata"]["name"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][:3] == ["watch", "/etc/modelmeter/spec.yaml", "--baseline"]
    assert pod["volumes"] == [{"name": "spec", "configMap": {"name": name}}]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert env == {
        "MODELMETER_DB": {"name": "modelmeter-db", "key": "url"},
        "MODELMETER_WEBHOOK_TOKEN": {"name": "hook-token", "key": "token"},
    }
    broken = json.loads(json.dumps(cronjob))
    broken["spec"]["concurrencyPolicy"] = "Never"
    assert _errors(CRONJOB_SCHEMA, broken)


@pytest.mark.parametrize("schedule", ["hourly", "0 * * *", "0 * * * * *", "0 * * * ;rm"])
def test_cronjob_refuses_a_bad_schedule(schedule: str) -> None:
    with pytest.raises(PlanError, match="is not a cron schedule"):
        cronjob_manifests("s", "", [], schedule=schedule, image="i")


def test_watch_state_is_kept_per_study_and_is_not_a_run(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path / "runs.db"))
    try:
        assert store.watch_state("a study") is None
        store.save_watch_state("a study", "[1]")
        store.save_watch_state("a study", "[2]")
        store.save_watch_state("another", "[3]")
        assert (store.watch_state("a study"), store.watch_state("another")) == ("[2]", "[3]")
        assert store.list_runs() == []
        run_id = "watch-" + __import__("hashlib").sha256(b"a study").hexdigest()[:16]
        with pytest.raises(StoreError, match="not a run"):
            store.load_report(run_id)
    finally:
        store.close()


def test_gateway_log_rows_become_columns() -> None:
    chat = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "where is my parcel"},
        ],
    }
    parts = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "image_url"}]}
        ]
    }
    rows = [
        {
            "route": "chat",
            "status": 200,
            "cache": "miss",
            "latency_ns": 12_500_000,
            "input_tokens": 9,
            "output_tokens": 4,
            "request_body": json.dumps(chat),
        },
        {
            "route": "chat",
            "status": 503,
            "cache": "none",
            "latency_ns": 1_000_000,
            "input_tokens": None,
            "output_tokens": None,
            "request_body": None,
        },
        {
            "route": "emb",
            "status": 299,
            "cache": "hit",
            "latency_ns": 2_000_000,
            "input_tokens": 2,
            "output_tokens": 0,
            "request_body": json.dumps(parts),
        },
    ]
    columns = gateway_columns(rows)
    assert columns["status"] == ["200 OK", "503 Service Unavailable", "299 (status)"]
    assert columns["latency_ms"] == [12.5, 1.0, 2.0]
    assert columns["prompt"] == ["where is my parcel", None, "hello"]
    assert columns["route"] == ["chat", "chat", "emb"]
    assert "prompt" not in gateway_columns(rows[1:2])
    assert prompt_text('{"prompt": "complete me"}') == "complete me"
    assert prompt_text('{"input": ["a", "b"]}') == "a b"
    assert prompt_text("not json") is None
    assert prompt_text('["a list"]') is None
