"""The objectives read from an SLA, the rules made of them, and the arithmetic that says when
each alert fires (promtool itself runs them in tests/integration/test_monitor_promtool.py)."""

from __future__ import annotations

import math
import re

import pytest
import yaml

from modelmeter.monitor import SOURCES, monitoring_files, slos_from_sla
from modelmeter.monitor.preview import PanelData, render_preview
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


def test_the_dashboard_is_classic_grafana_json_reading_the_rules() -> None:
    sla = Sla(max_error_rate=0.01, p95_ms=250, ttft_p95_ms=500)
    files = monitoring_files(sla, SOURCES["gateway"], spec_name="support.yaml")
    board = files.dashboard
    assert board["schemaVersion"] == 42
    assert board["title"] == "support.yaml: objectives on gateway"
    variable = board["templating"]["list"][0]
    assert (variable["type"], variable["name"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    panels = board["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    for panel in panels:  # on Grafana's 24-column grid, no two panels overlapping
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert [t["refId"] for t in panel["targets"]] == sorted(
            {t["refId"] for t in panel["targets"]}
        )
    cells = [
        (p["gridPos"]["y"] + dy, p["gridPos"]["x"] + dx)
        for p in panels
        for dy in range(p["gridPos"]["h"])
        for dx in range(p["gridPos"]["w"])
    ]
    assert len(cells) == len(set(cells))
    titles = [p["title"] for p in panels]
    for slo in ("availability", "latency_p95", "ttft_p95"):
        assert f"{slo}: burn rate" in titles and f"{slo}: error budget left" in titles
    rules = yaml.safe_load(files.rules)
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    used = {
        name
        for p in panels
        for t in p["targets"]
        for name in re.findall(r"modelmeter:slo_error_ratio:rate\w+", t["expr"])
    }
    assert used and used <= recorded  # the burn panels read what the rules record
    burn = next(p for p in panels if p["title"] == "latency_p95: burn rate")
    steps = [s["value"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert steps == [None, 1.0, 6.0, 14.4]
    latency = next(p for p in panels if p["title"].startswith("Response time"))
    limit = latency["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"]
    assert limit == 0.25 and "histogram_quantile(0.95" in latency["targets"][1]["expr"]


def test_the_preview_marks_failed_and_empty_panels() -> None:
    files = monitoring_files(Sla(max_error_rate=0.01), SOURCES["serve"], spec_name="s")
    panels = [PanelData(p) for p in files.dashboard["panels"]]
    panels[0].series = [("200", [(0.0, 5.0), (1.0, 6.0), (2.0, 7.0)])]
    panels[1].errors = ['A: parse error: unexpected "}"']
    stat = next(d for d in panels if d.panel["type"] == "stat")
    stat.series = [("left", [(0.0, 0.5), (1.0, 0.25)])]
    page = render_preview(files.dashboard, panels, source="http://127.0.0.1:9090")
    assert page.count('<section class="panel"') == len(panels)
    assert page.count('data-state="error"') == 1 and "parse error: unexpected &quot;}&quot;" in page
    assert page.count('data-state="ok"') == 2
    assert '<p class="stat">25.0 %</p>' in page  # the last value, as a percentage
    assert page.count("<svg") == 1 and "<script" not in page


def test_the_simulators_time_per_token_carries_an_itl_objective() -> None:
    sla = Sla(itl_p95_ms=25, ttft_p95_ms=250)
    simulate = SOURCES["simulate"].with_thresholds([0.025, 0.25])
    slos = slos_from_sla(sla, simulate)
    itl = next(s for s in slos if s.name == "itl_p95")
    assert itl.histogram == "gen_ai_server_time_per_output_token_seconds"
    assert itl.threshold_s == 0.025 and not itl.note and itl.budget == 0.05
    assert "time per output token" in itl.description
    files = monitoring_files(sla, simulate)
    assert not any(line.startswith("itl_p95_ms") for line in files.unwatched)
    gateway = monitoring_files(sla, GATEWAY)
    assert any(line.startswith("itl_p95_ms") for line in gateway.unwatched)
    assert "itl_p95" not in [s.name for s in gateway.slos]
