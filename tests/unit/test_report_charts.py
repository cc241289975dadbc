"""Inline SVG charts: scales, the histogram-to-CDF step, escaping, and the report mapping."""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from modelmeter.report.charts import (
    PALETTE,
    Bar,
    CdfSeries,
    ScatterPoint,
    bar_chart,
    build_charts,
    cdf_chart,
    cdf_points,
    heatmap_chart,
    log_ticks,
    model_colors,
    nice_ticks,
    scatter_chart,
    tick_labels,
)
from modelmeter.results import (
    CostResult,
    HostFacts,
    LatencySummary,
    LoadResult,
    ModelResult,
    QualityResult,
    Recommendation,
    Report,
    SlaCheck,
    SliceQuality,
)

HOSTILE = "<b onload=x>&\"'"


class _Texts(HTMLParser):
    """The text content of every <text> element (not of its tooltip), and every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.texts: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] == "text":
            self.texts.append(data)


def _texts(svg: str) -> _Texts:
    parser = _Texts()
    parser.feed(svg)
    parser.close()
    return parser


# --------------------------------------------------------------------------------------------
# Scales


@pytest.mark.parametrize(
    ("lo", "hi"), [(0.0, 1.0), (0.083, 0.22), (0.75, 0.93), (3.0, 3.0), (0.0, 720.0), (-2.0, 5.0)]
)
def test_nice_ticks_cover_the_range(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


def test_tick_labels_use_the_fewest_decimals() -> None:
    assert tick_labels([0.0, 0.05, 0.1]) == ["0.00", "0.05", "0.10"]
    assert tick_labels([0.0, 200.0, 400.0]) == ["0", "200", "400"]
    assert tick_labels([0.0, 2500.0]) == ["0", "2,500"]


def test_log_ticks() -> None:
    assert log_ticks(9.0, 260.0) == [5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]
    wide = log_ticks(0.3, 40_000.0)
    assert wide == [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]


# --------------------------------------------------------------------------------------------
# Histogram to CDF


def test_cdf_points_start_at_zero_and_end_at_one() -> None:
    buckets = [(1.0, 0), (2.0, 0), (4.0, 5), (8.0, 10), (16.0, 5), (32.0, 0)]
    assert cdf_points(buckets) == ((2.0, 0.0), (4.0, 0.25), (8.0, 0.75), (16.0, 1.0))


def test_cdf_points_unsorted_and_unbounded_last_bucket() -> None:
    buckets = [(math.inf, 2), (10.0, 6), (5.0, 2)]
    assert cdf_points(buckets, upper=25.0) == ((5.0, 0.2), (10.0, 0.8), (25.0, 1.0))
    # Without a known maximum the unbounded bucket cannot be placed: the line stops short.
    assert cdf_points(buckets) == ((5.0, 0.2), (10.0, 0.8))


def test_cdf_points_empty() -> None:
    assert cdf_points([]) == ()
    assert cdf_points([(1.0, 0), (2.0, 0)]) == ()


# --------------------------------------------------------------------------------------------
# Chart functions


def test_scatter_escapes_labels_and_has_axes() -> None:
    svg = scatter_chart(
        [
            ScatterPoint(HOSTILE, 0.1, 0.8, PALETTE[0], frontier=True, y_low=0.78, y_high=0.82),
            ScatterPoint("b", 0.2, 0.9, PALETTE[1], frontier=True),
            ScatterPoint("c", 0.3, 0.7, PALETTE[2]),
        ],
        chart_id="t",
        title="Quality vs cost",
        x_label="cost",
        y_label="F1",
    )
    assert "<b " not in svg and "onload=x>" not in svg
    parsed = _texts(svg)
    assert HOSTILE in parsed.texts
    assert {"Quality vs cost", "cost", "F1", "Pareto frontier", "0.80"} <= set(parsed.texts)
    assert parsed.tags.count("circle") >= 3
    assert 'stroke-dasharray="5 4"' in svg  # the frontier line


def test_scatter_single_point() -> None:
    svg = scatter_chart(
        [ScatterPoint("only", 0.1, 0.9, PALETTE[0], frontier=True)],
        chart_id="t",
        title="t",
        x_label="x",
        y_label="y",
    )
    assert "only" in _texts(svg).texts


def test_cdf_chart_switches_to_log_for_wide_ranges() -> None:
    narrow = CdfSeries("a", PALETTE[0], ((10.0, 0.0), (12.0, 0.5), (15.0, 1.0)), marker=14.0)
    wide = CdfSeries("b", PALETTE[1], ((1.0, 0.0), (100.0, 0.5), (900.0, 1.0)), marker=800.0)
    assert "log scale" not in cdf_chart([narrow], chart_id="n", title="t", x_label="ms")
    svg = cdf_chart([narrow, wide], chart_id="w", title="t", x_label="ms")
    assert "log scale" in svg
    texts = _texts(svg).texts
    assert {"a", "b", "P95"} <= set(texts)


def test_bar_chart_labels_values() -> None:
    svg = bar_chart(
        [Bar("x" * 80, 450.0, PALETTE[0], "450.0 req/s"), Bar("y", 720.0, PALETTE[1], "720.0")],
        chart_id="b",
        title="Throughput",
        x_label="req/s",
    )
    texts = _texts(svg).texts
    assert "450.0 req/s" in texts
    assert any(t.endswith("…") for t in texts)  # the long label is cut, its tooltip is whole
    assert f"<title>{'x' * 80}</title>" in svg


def test_heatmap_shows_missing_cells() -> None:
    svg = heatmap_chart(
        chart_id="h",
        title="F1 by language",
        row_labels=["de", "fr"],
        col_labels=["a", HOSTILE],
        values=[[0.8, None], [0.7, 0.9]],
        notes=[["n=10", ""], ["n=12", "n=12"]],
        value_format=lambda v: "–" if v is None else f"{v:.3f}",
        value_label="F1",
        col_colors=[PALETTE[0], PALETTE[1]],
    )
    texts = _texts(svg).texts
    assert {"0.800", "–", "0.900", "n=12"} <= set(texts)
    assert "<b " not in svg
    assert 'fill="url(#h-ramp)"' in svg


# --------------------------------------------------------------------------------------------
# From a Report


def _model(
    name: str, *, f1: float | None, cost: str | None, currency: str = "EUR", p95: float = 80.0
) -> ModelResult:
    quality = (
        QualityResult(
            n=100,
            accuracy=f1,
            precision_macro=f1,
            recall_macro=f1,
            f1_macro=f1,
            precision_weighted=f1,
            recall_weighted=f1,
            f1_weighted=f1,
            by_slice={"language": {"en": SliceQuality(n=50, accuracy=f1, f1_macro=f1)}},
        )
        if f1 is not None
        else None
    )
    latency = LatencySummary(count=100, mean=50, p50=45, p90=70, p95=p95, p99=95, max=120)
    return ModelResult(
        name=name,
        target_kind="python",
        quality=quality,
        latency_ms=latency,
        throughput_rps=300.0,
        load=LoadResult(
            mode="concurrency",
            concurrency=8,
            duration_s=10.0,
            requests=100,
            completed=100,
            error_rate=0.0,
            latency_histogram_ms=[(25.0, 0), (50.0, 50), (100.0, 45), (200.0, 5)],
        ),
        cost=CostResult(
            currency=currency,
            per_1000_requests=Decimal(cost) if cost is not None else None,
            basis="instance" if cost is not None else "none",
            explanation="",
        ),
        sla=SlaCheck(met=True),
    )


def _report(models: list[ModelResult]) -> Report:
    return Report(
        tool_version="0.1.0",
        run_id="r",
        name="n",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        spec_hash="h",
        seed=1,
        host=HostFacts(python="3.11", platform="linux", cpu_count=2, machine="x86_64"),
        task="classify",
        models=models,
        pareto=[m.name for m in models[:1]],
        ranking=[],
        recommendation=Recommendation(text="t", by_priority={}, chosen=None, priority="balanced"),
    )


def test_colors_are_stable_per_model() -> None:
    report = _report([_model(f"m{i}", f1=0.8, cost="0.1") for i in range(12)])
    colors = model_colors(report)
    assert colors[:10] == list(PALETTE) and colors[10] == PALETTE[0]
    charts = {c.id: c.svg or "" for c in build_charts(report)}
    # The same model has the same colour in every chart.
    for chart_id in ("chart-quality", "chart-throughput", "chart-cost"):
        assert PALETTE[3] in charts[chart_id]


def test_quality_chart_falls_back_to_p95_without_costs() -> None:
    report = _report([_model("a", f1=0.8, cost=None), _model("b", f1=0.9, cost=None, p95=60)])
    charts = {c.id: c for c in build_charts(report)}
    quality = charts["chart-quality"]
    assert quality.title == "Quality vs P95 latency"
    assert quality.svg is not None and "P95 response time (ms)" in quality.svg
    cost = charts["chart-cost"]
    assert cost.svg is None and "No model has a cost" in cost.caption


def test_cost_charts_never_mix_currencies() -> None:
    report = _report(
        [
            _model("eur", f1=0.8, cost="0.1"),
            _model("usd", f1=0.9, cost="0.2", currency="USD"),
            _model("eur2", f1=0.85, cost="0.3"),
        ]
    )
    charts = {c.id: c for c in build_charts(report)}
    assert {"chart-cost-eur", "chart-cost-usd"} <= set(charts)
    quality = charts["chart-quality"]
    assert "usd (cost in USD)" in quality.caption  # the scatter uses one currency only


def test_charts_without_quality_or_load() -> None:
    model = _model("bare", f1=None, cost=None).model_copy(
        update={"load": None, "latency_ms": None, "throughput_rps": None}
    )
    charts = build_charts(_report([model]))
    assert all(c.svg is None for c in charts)
    assert all(c.caption for c in charts)


def test_every_chart_is_well_formed_svg() -> None:
    report = _report([_model("a", f1=0.8, cost="0.1"), _model(HOSTILE, f1=0.9, cost="0.2")])
    for chart in build_charts(report):
        assert chart.svg is not None
        assert chart.svg.startswith("<svg") and chart.svg.endswith("</svg>")
        assert "http" not in chart.svg
        assert (
            re.search(
                r"<(?!/?(svg|title|desc|rect|line|circle|path|text|defs|linearGradient|stop)\b)",
                chart.svg,
            )
            is None
        )


def test_crowded_scatter_names_every_point_once() -> None:
    points = [
        ScatterPoint(f"model-{i}", 0.1 + i * 0.001, 0.8 + i * 0.001, PALETTE[i % 10])
        for i in range(12)
    ]
    svg = scatter_chart(points, chart_id="c", title="t", x_label="x", y_label="y")
    texts = _texts(svg).texts
    for point in points:
        assert texts.count(point.label) == 1, point.label
