"""Streaming LLM metrics and load sweeps in the HTML and Markdown renderings, and their charts."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from modelmeter.report import render_html, render_json, render_markdown
from modelmeter.report._tables import sweep_table, token_source_sentence
from modelmeter.report.charts import (
    PALETTE,
    BarGroup,
    Curve,
    CurvePoint,
    Guide,
    best_point,
    build_charts,
    grouped_bar_chart,
    line_chart,
    ordered_points,
)
from modelmeter.results import (
    LatencySummary,
    LlmLoadMetrics,
    ModelResult,
    Report,
    SweepPoint,
    SweepResult,
)
from tests.unit.test_report_charts import _texts
from tests.unit.test_report_render import _model, _parse, edge_report, make_report

HOSTILE = '<img src=x onerror=alert(1)> & "co" | *x*'


def _summary(p50: float, p95: float, count: int = 500) -> LatencySummary:
    return LatencySummary(
        count=count, mean=p50 * 1.05, p50=p50, p90=p95 * 0.9, p95=p95, p99=p95 * 1.3, max=p95 * 2
    )


def _llm(ttft: float, itl: float, *, sources: dict[str, int] | None = None) -> LlmLoadMetrics:
    return LlmLoadMetrics(
        ttft_ms=_summary(ttft, ttft * 2.5),
        time_to_first_reasoning_ms=None,
        itl_ms=_summary(itl, itl * 1.8, count=60_000),
        tpot_ms=_summary(itl * 1.1, itl * 1.6),
        output_tokens=61_234,
        output_tokens_per_s=1234.5,
        token_source=sources if sources is not None else {"usage": 500},
    )


def _concurrency_sweep() -> SweepResult:
    levels = [1, 2, 4, 8, 16, 32, 64]
    points = []
    for c in levels:
        rps = min(60.0 * c, 450.0) * (0.97 if c == 64 else 1.0)
        p95 = 40.0 if c <= 8 else 40.0 * c / 8
        points.append(
            SweepPoint(
                mode="concurrency",
                value=c,
                throughput_rps=rps,
                goodput_rps=rps if p95 <= 100 else rps * 0.2,
                p50_ms=p95 * 0.6,
                p95_ms=p95,
                p99_ms=p95 * 1.5,
                error_rate=0.02 if c == 64 else 0.0,
                ttft_p95_ms=p95 * 0.3,
                itl_p95_ms=12.5,
                client_bound=c == 64,
                slo_met=p95 <= 100,
            )
        )
    return SweepResult(
        kind="sweep", points=points, stopped_because="Reached the last level (64).", best=None
    )


def _sla_search() -> SweepResult:
    # Measured out of order, as a search does; the table and curve sort by level.
    rates = [100.0, 200.0, 400.0, 300.0, 350.0, 325.0]
    points = [
        SweepPoint(
            mode="rate",
            value=r,
            throughput_rps=min(r, 340.0) * 0.995,
            p50_ms=30.0 + max(0.0, r - 300) * 2,
            p95_ms=50.0 + max(0.0, r - 300) * 4,
            p99_ms=70.0 + max(0.0, r - 300) * 6,
            slo_met=r <= 325,
        )
        for r in rates
    ]
    return SweepResult(
        kind="sla_search",
        points=points,
        stopped_because="Bracket narrower than 10% of the rate.",
        best=points[-1],
    )


def llm_report() -> Report:
    """Two streaming models (one with a sweep, one with an SLA search) and a classic one."""
    chat = _model("chat-large", 0.88, 300.0, 900.0, 40.0, "0.50")
    assert chat.load is not None
    chat = chat.model_copy(
        update={
            "load": chat.load.model_copy(
                update={"llm": _llm(180.0, 21.0), "client_cpu_percent": 37.4}
            ),
            "sweep": _concurrency_sweep(),
        }
    )
    small = _model(HOSTILE, 0.81, 120.0, 350.0, 90.0, "0.20")
    assert small.load is not None
    small = small.model_copy(
        update={
            "load": small.load.model_copy(
                update={"llm": _llm(60.0, 8.0, sources={"usage": 480, "chunks": 20})}
            ),
            "sweep": _sla_search(),
        }
    )
    classic = _model("classifier", 0.84, 20.0, 35.0, 700.0, "0.01")
    return make_report([chat, small, classic])


def _svg_count(html: str) -> int:
    return html.count("<svg")


# --------------------------------------------------------------------------------------------
# Unchanged without LLM metrics or sweeps


@pytest.mark.parametrize("factory", [make_report, edge_report])
def test_plain_reports_get_no_new_sections_or_columns(factory: Callable[[], Report]) -> None:
    report = factory()
    html = render_html(report)
    markdown = render_markdown(report)
    for text in ("TTFT", "ITL", "tok/s", "LLM timing", "Load sweep", "SLA search", "goodput"):
        assert text not in html, text
        assert text not in markdown, text
    assert "chart-sweep" not in html and "chart-llm" not in html and "compact" not in html
    header = next(line for line in markdown.splitlines() if line.startswith("| model |"))
    assert header.count("|") == 12


# --------------------------------------------------------------------------------------------
# Summary


def test_summary_gains_llm_columns_with_dashes_for_non_llm_models() -> None:
    markdown = render_markdown(llm_report())
    lines = markdown.splitlines()
    header = next(line for line in lines if line.startswith("| model |"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells[7:10] == ["TTFT P95 ms", "ITL P95 ms", "output tok/s"]
    chat = next(line for line in lines if line.startswith("| chat-large |"))
    assert [c.strip() for c in chat.strip("|").split("|")][7:10] == ["450.0", "37.8", "1,234.5"]
    classic = next(line for line in lines if line.startswith("| **classifier** |"))
    assert [c.strip() for c in classic.strip("|").split("|")][7:10] == ["–", "–", "–"]
    assert "TTFT is timed from the actual send" in markdown


def test_summary_links_llm_columns_to_definitions_when_present() -> None:
    report = llm_report().model_copy(update={"definitions": {"ttft": "Time to first token."}})
    html = render_html(report)
    assert '<a class="def" href="#def-ttft" title="Time to first token.">TTFT P95 ms</a>' in html
    assert "ITL P95 ms</th>" in html


# --------------------------------------------------------------------------------------------
# Model details


def test_llm_timing_table_in_both_renderings() -> None:
    report = llm_report()
    html = render_html(report)
    markdown = render_markdown(report)
    assert "#### LLM timing" in markdown and "<h4>LLM timing</h4>" in html
    assert "| ms | P50 | P90 | P95 | P99 | max | count | percentiles from |" in markdown
    row = "| TTFT | 180.0 | 405.0 | 450.0 | 585.0 | 900.0 | 500 | exact |"
    assert row in markdown
    assert "| ITL | 21.0 | 34.0 | 37.8 | 49.1 | 75.6 | 60,000 | exact |" in markdown
    assert "| TPOT |" in markdown
    assert "time to first reasoning" not in markdown  # none measured: no empty row
    for text in (
        "Output tokens from server usage for 500 requests.",
        "61,234",
        "1,234.5 tok/s",
        "37% of one core",
    ):
        assert text in markdown, text
        assert text in html, text


def test_reasoning_row_when_measured() -> None:
    report = llm_report()
    load = report.models[0].load
    assert load is not None and load.llm is not None
    load.llm.time_to_first_reasoning_ms = _summary(95.0, 210.0)
    assert "| time to first reasoning | 95.0 |" in render_markdown(report)


@pytest.mark.parametrize(
    ("sources", "sentence"),
    [
        ({"usage": 500}, "Output tokens from server usage for 500 requests."),
        ({"tokenizer": 1}, "Output tokens from the supplied tokenizer for 1 request."),
        (
            {"chunks": 1200},
            "Output tokens counted by chunks for 1,200 requests — an estimate: servers may put "
            "several tokens in a chunk.",
        ),
        (
            {"chunks": 20, "usage": 480, "tokenizer": 3},
            "Output tokens from server usage for 480 requests, from the supplied tokenizer for 3 "
            "requests and counted by chunks for 20 requests — the chunk counts are an estimate: "
            "servers may put several tokens in a chunk.",
        ),
        ({}, "The run did not record where the output token counts came from."),
    ],
)
def test_token_source_sentence(sources: dict[str, int], sentence: str) -> None:
    assert token_source_sentence(_llm(1.0, 1.0, sources=sources)) == sentence
    assert token_source_sentence(None) == ""


def test_sweep_table_sorted_with_best_marked() -> None:
    report = llm_report()
    markdown = render_markdown(report)
    assert "#### Load sweep" in markdown and "#### SLA search" in markdown
    assert (
        "| concurrency | req/s | goodput req/s | P50 ms | P95 ms | P99 ms | TTFT P95 ms | "
        "ITL P95 ms | errors | SLO met | client-bound |" in markdown
    )
    assert "| 64 | 436.5 | 87.3 | 192.0 | 320.0 | 480.0 | 96.0 | 12.5 | 2.00% | no | yes |" in (
        markdown
    )
    # The search: no goodput or LLM columns, levels sorted, the best one in bold.
    assert (
        "| offered req/s | req/s | P50 ms | P95 ms | P99 ms | errors | SLO met | client-bound |"
        in (markdown)
    )
    search = [line for line in markdown.splitlines() if re.match(r"\| \**\d{3}\**  ?\|", line)]
    assert [line.split("|")[1].strip() for line in search] == [
        "100",
        "200",
        "300",
        "**325**",
        "350",
        "400",
    ]
    for text in (
        "Stopped because:** Bracket narrower than 10% of the rate.",
        "Best within the SLA:** 325 req/s offered: 323.4 req/s, P95 150.0 ms",
        "Levels measured:** 6",
    ):
        assert text in markdown, text
    html = render_html(report)
    assert '<tr class="chosen">' in html and '<span class="badge">best</span>' in html
    assert "Reached the last level (64)." in html
    assert '<a href="#chart-sweep-1">' in html and '<a href="#chart-sweep-2">' in html


def test_sweep_table_mixed_modes_names_the_unit_per_cell() -> None:
    sweep = SweepResult(
        kind="sweep",
        points=[
            SweepPoint(mode="rate", value=50, throughput_rps=49.0),
            SweepPoint(mode="concurrency", value=8, throughput_rps=300.0),
        ],
        stopped_because="done",
    )
    table = sweep_table(sweep)
    assert table is not None
    assert table.columns[0].header == "load level"
    assert [row.cells[0] for row in table.rows] == ["concurrency 8", "50 req/s offered"]
    assert sweep_table(SweepResult(kind="sweep", points=[], stopped_because="x")) is None


def test_sla_search_without_a_level_within_the_sla() -> None:
    report = llm_report()
    sweep = report.models[1].sweep
    assert sweep is not None
    sweep.best = None
    markdown = render_markdown(report)
    assert "Best within the SLA:** no level met the SLA" in markdown
    assert "**325**" not in markdown


# --------------------------------------------------------------------------------------------
# Charts


def test_svg_count_grows_by_llm_chart_and_two_per_sweep() -> None:
    plain = _svg_count(render_html(make_report()))
    html = render_html(llm_report())
    # One TTFT/ITL chart, a latency curve per sweep, and a goodput chart where goodput exists.
    assert _svg_count(html) == plain + 1 + 2 + 1
    for chart_id in ("chart-llm", "chart-sweep-1", "chart-goodput-1", "chart-sweep-2"):
        assert f'<svg class="chart" id="{chart_id}"' in html
    assert "chart-goodput-2" not in html


def test_chart_order() -> None:
    ids = [c.id for c in build_charts(llm_report())]
    assert ids[:3] == ["chart-quality", "chart-latency", "chart-llm"]
    assert ids.index("chart-throughput") < ids.index("chart-sweep-1") < ids.index("chart-cost")
    assert ids.index("chart-sweep-1") < ids.index("chart-goodput-1") < ids.index("chart-sweep-2")


def test_sweep_curve_marks_levels_sla_best_and_client_bound() -> None:
    charts = {c.id: c for c in build_charts(llm_report())}
    curve = charts["chart-sweep-1"]
    assert curve.svg is not None
    texts = _texts(curve.svg).texts
    assert "SLA: P95 ≤ 100.0 ms" in texts  # the report's p95_ms limit
    assert {"P95", "P99", "client-bound level"} <= set(texts)
    assert sum(t.startswith("c=") for t in texts) >= 5  # levels labelled where they fit
    assert 'stroke="#b42318"' in curve.svg  # the SLA line
    assert 'stroke-dasharray="6 4"' in curve.svg  # P99 dashed
    assert f'fill="#ffffff" stroke="{PALETTE[0]}" stroke-width="2"' in curve.svg  # hollow point
    assert "client-bound" in curve.caption and "Reached the last level (64)." in curve.caption
    assert PALETTE[0] in curve.svg

    search = charts["chart-sweep-2"]
    assert search.svg is not None and PALETTE[1] in search.svg
    assert "best within the SLA" in _texts(search.svg).texts
    assert "325/s" in _texts(search.svg).texts
    assert "circled point" in search.caption

    goodput = charts["chart-goodput-1"]
    assert goodput.svg is not None
    assert {"throughput", "goodput (met every SLO)", "requests in flight (log scale)"} <= set(
        _texts(goodput.svg).texts
    )


def test_sweep_curve_without_sla_has_no_limit_line() -> None:
    report = llm_report().model_copy(update={"sla": {}})
    curve = next(c for c in build_charts(report) if c.id == "chart-sweep-1")
    assert curve.svg is not None and "#b42318" not in curve.svg
    assert "SLA" not in _texts(curve.svg).texts


def test_llm_chart_groups_percentiles_per_model() -> None:
    chart = next(c for c in build_charts(llm_report()) if c.id == "chart-llm")
    assert chart.svg is not None
    texts = _texts(chart.svg).texts
    assert {"TTFT", "ITL", "P50", "P95", "P99", "450.0", "37.8"} <= set(texts)
    assert "Not plotted: classifier (no TTFT or ITL)." in chart.caption
    assert PALETTE[0] in chart.svg  # full colour for P99 of the first model


def test_sweep_points_without_figures_are_listed_not_drawn() -> None:
    report = llm_report()
    sweep = report.models[0].sweep
    assert sweep is not None
    sweep.points[0].throughput_rps = None
    sweep.points[1].p95_ms = float("nan")
    curve = next(c for c in build_charts(report) if c.id == "chart-sweep-1")
    assert "Not plotted: concurrency 1 (no throughput); concurrency 2 (no P95)." in curve.caption
    assert curve.svg is not None and "nan" not in curve.svg

    for point in sweep.points:
        point.p95_ms = None
    curve = next(c for c in build_charts(report) if c.id == "chart-sweep-1")
    assert curve.svg is None
    assert "Nothing to draw" in render_html(report)


def test_line_chart_switches_to_log_for_saturation() -> None:
    points = tuple(CurvePoint(x, y, label=f"c={x:g}") for x, y in ((1, 10), (2, 12), (3, 4000)))
    svg = line_chart(
        [Curve("P95", PALETTE[0], points)],
        chart_id="l",
        title="t",
        x_label="x",
        y_label="ms",
        desc="d",
        guides=[Guide(100.0, "SLA")],
    )
    texts = _texts(svg).texts
    assert "ms (log scale)" in texts and {"c=1", "c=3", "SLA"} <= set(texts)


def test_grouped_bars_show_missing_values() -> None:
    svg = grouped_bar_chart(
        [BarGroup(HOSTILE, PALETTE[0], ((1.0, 2.0, 3.0), (None, None, None)))],
        chart_id="g",
        title="t",
        panels=["TTFT", "ITL"],
        series=["P50", "P95", "P99"],
        unit="ms",
        value_format=lambda v: f"{v}",
    )
    texts = _texts(svg).texts
    assert texts.count("–") == 3 and "3.0" in texts
    assert "<img" not in svg


# --------------------------------------------------------------------------------------------
# Escaping, well-formedness, JSON


def test_hostile_names_are_escaped_everywhere() -> None:
    report = llm_report()
    html = render_html(report)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    for chart in build_charts(report):
        if chart.svg is not None:
            assert "<img" not in chart.svg
    markdown = render_markdown(report)
    assert re.search(r"(?<!\\)<", markdown) is None
    assert r'\<img src=x onerror=alert(1)\> \& "co" \| \*x\*' in markdown


def test_llm_html_is_balanced_and_self_contained() -> None:
    html = render_html(llm_report())
    parser = _parse(html)
    assert parser.errors == [] and parser.stack == []
    assert "http://" not in html and "https://" not in html and "<script" not in html.lower()
    for chart in build_charts(llm_report()):
        assert chart.svg is None or (
            re.search(
                r"<(?!/?(svg|title|desc|rect|line|circle|path|text|defs|linearGradient|stop)\b)",
                chart.svg,
            )
            is None
        )


def test_markdown_tables_stay_rectangular() -> None:
    lines = render_markdown(llm_report()).splitlines()
    table: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
            assert len(widths) == 1, table
            table = []


def test_json_round_trips_llm_and_sweeps() -> None:
    report = llm_report()
    text = render_json(report)
    assert Report.model_validate_json(text) == report
    again = Report.model_validate_json(text)
    first = again.models[0]
    assert first.load is not None and first.load.llm is not None
    assert first.load.llm.token_source == {"usage": 500}
    assert first.sweep is not None and first.sweep.points[-1].client_bound
    assert render_html(again) == render_html(report)


def test_sweep_helpers() -> None:
    sweep = _sla_search()
    assert [p.value for p in ordered_points(sweep)] == [100, 200, 300, 325, 350, 400]
    assert best_point(sweep) is sweep.points[-1]
    copy = sweep.model_copy(update={"best": sweep.points[-1].model_copy(update={"p50_ms": 1.0})})
    assert best_point(copy) is copy.points[-1]  # matched by level when the figures differ


def test_client_bound_reason_is_shown() -> None:
    report = llm_report()
    model: ModelResult = report.models[0]
    assert model.load is not None
    model.load.client_bound = True
    model.load.client_bound_reason = "The load generator used 93% of its CPU core (limit 80%)."
    for text in (render_html(report), render_markdown(report)):
        assert "used 93% of its CPU core" in text
