"""The objectives read from an SLA, the rules made of them, and the arithmetic that says when
each alert fires (promtool itself runs them in tests/integration/test_monitor_promtool.py)."""

from __future__ import annotations

import math
import re

import pytest

from modelmeter.monitor import SOURCES, monitoring_files, slos_from_sla
from modelmeter.monitor.rule_tests import _values
from modelmeter.monitor.rules import WINDOWS, detection_minutes, rule_groups
from modelmeter.spec.objectives import Sla

GATEWAY = SOURCES["gateway"]


def test_each_sla_limit_becomes_an_objective_with_its_budget() -> None:
    slos = slos_from_sla(
        Sla(max_error_rate=0.01, p95_ms=250, p99_ms=1000, ttft_p95_ms=300), GATEWAY
    )
    assert [(s.name, s.budget, s.threshold_s) for s in slos] == [
        ("availability", 0.01, None),
        ("latency_p95", 0.05, 0.25),
        ("latency_p99", 0.01, 1.0),
        ("ttft_p95", 0.05, 0.25),  # 300 ms is no boundary: the one below, stricter
    ]
    assert slos[3].asked_s == 0.3 and "largest one below (stricter)" in slos[3].note
    assert all(not s.note for s in slos[:3])


def test_limits_that_cannot_be_watched_are_refused_or_named() -> None:
    with pytest.raises(ValueError, match="time-to-first-chunk histogram"):
        slos_from_sla(Sla(ttft_p95_ms=200), SOURCES["serve"])
    with pytest.raises(ValueError, match="below gateway's smallest bucket"):
        slos_from_sla(Sla(p95_ms=0.01), GATEWAY)
    files = monitoring_files(Sla(max_error_rate=0.01, itl_p95_ms=15, min_quality=0.8), GATEWAY)
    assert [line.split(":")[0] for line in files.unwatched] == ["itl_p95_ms", "min_quality"]
    assert "# itl_p95_ms: not watched" in files.rules
    with pytest.raises(ValueError, match="nothing to alert on"):
        monitoring_files(Sla(min_quality=0.8), GATEWAY)


def test_rules_count_bad_requests_from_the_sources_own_names() -> None:
    slos = slos_from_sla(Sla(max_error_rate=0.02, p99_ms=1000), GATEWAY)
    groups = rule_groups(slos, GATEWAY)["groups"]
    recording, alerts = groups[0]["rules"], groups[1]["rules"]
    assert len(recording) == 2 * len(WINDOWS) and len(alerts) == 2 * 2
    availability = recording[0]["expr"]
    assert availability == (
        '(sum(rate(modelmeter_gateway_requests_total{status=~"5.."}[5m])) or vector(0)) / '
        "sum(rate(modelmeter_gateway_requests_total[5m]))"
    )
    latency = recording[len(WINDOWS)]["expr"]
    assert 'gen_ai_client_operation_duration_seconds_bucket{le="1.0"}[5m]' in latency  # as exported
    page = alerts[0]
    assert page["labels"] == {"slo": "availability", "severity": "page"}
    # 14.4 × 2% and 6 × 2%, each over a long and a short window
    assert re.findall(r"rate(\w+)\{[^}]*\} > ([\d.]+)", page["expr"]) == [
        ("1h", "0.288"), ("5m", "0.288"), ("6h", "0.12"), ("30m", "0.12"),
    ]  # fmt: skip


def test_the_planned_checks_agree_with_the_burn_rate_arithmetic() -> None:
    files = monitoring_files(Sla(max_error_rate=0.01, p95_ms=100), GATEWAY)
    for slo in files.slos:
        scenarios = {s.name: s for s in files.scenarios[slo.name]}
        page = detection_minutes(slo, 1.0, "page")
        assert page is not None
        # the outage pages in the first whole minute past the arithmetic's time (the
        # background's few bad requests can make it one minute sooner)
        assert scenarios["outage"].first_minutes["page"] in (math.ceil(page) - 1, math.ceil(page))
        assert "page" not in scenarios["slow burn"].first_minutes  # twice the budget never pages
        assert detection_minutes(slo, 2 * slo.budget, "page") is None
        assert scenarios["background"].first_minutes == {}
        assert all(not firing for firing in scenarios["background"].checks.values())
    availability = {s.name: s for s in files.scenarios["availability"]}
    assert availability["outage"].first_minutes["page"] == 9  # 14.4 × 1% × 60 min = 8.64


def test_series_notation_adds_back_up_to_the_increments() -> None:
    increments = [0.0, 1.0, 1.0, 1.0, 1000.0, 1000.0, 20.0]
    values = []
    for part in _values(increments).split():
        start, _, rest = part.partition("+")
        if not rest:
            values.append(float(start))
            continue
        step, _, count = rest.partition("x")
        values.extend(float(start) + float(step) * n for n in range(int(count) + 1))
    assert values == [0.0, 1.0, 2.0, 3.0, 1003.0, 2003.0, 2023.0]


PAGE = """# HELP vllm:e2e_request_latency_seconds Histogram of end to end request latency.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.3",model_name="m"} 1.0
vllm:e2e_request_latency_seconds_bucket{le="0.5",model_name="m"} 2.0
vllm:e2e_request_latency_seconds_bucket{le="0.8",model_name="m"} 3.0
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 3.0
vllm:e2e_request_latency_seconds_count{model_name="m"} 3.0
vllm:e2e_request_latency_seconds_sum{model_name="m"} 1.1
# HELP batch Histogram of batch sizes.
# TYPE batch histogram
batch_bucket{le="1.0"} 1.0
batch_bucket{le="+Inf"} 1.0
batch_count 1.0
batch_sum 1.0
"""


def test_the_bucket_check_names_the_enclosing_boundaries() -> None:
    from modelmeter.monitor.buckets import check_buckets

    found = check_buckets(PAGE, {"p95_ms": 0.5, "p99_ms": 0.4, "ttft": 0.2, "slow": 2.0})
    by_limit = {f.what: f for f in found}
    assert {f.histogram for f in found} == {"vllm:e2e_request_latency_seconds"}  # seconds only
    assert by_limit["p95_ms"].exact and by_limit["p95_ms"].error_bound_s == 0.0
    assert (by_limit["p99_ms"].below_s, by_limit["p99_ms"].above_s) == (0.3, 0.5)
    assert by_limit["p99_ms"].error_bound_s == pytest.approx(0.2)
    assert by_limit["ttft"].below_s is None and by_limit["ttft"].error_bound_s is None
    assert by_limit["slow"].above_s == math.inf and by_limit["slow"].error_bound_s is None
    with pytest.raises(ValueError, match="text format"):
        check_buckets("not {a metrics page", {"p95_ms": 0.5})
