"""From a Report to its charts: which figures are drawn, in which order, with what labels.

:func:`build_charts` only selects, sorts and rescales what the report holds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from modelmeter.report import _format as fmt
from modelmeter.report.charts.distributions import Bar, CdfSeries, bar_chart, cdf_chart, cdf_points
from modelmeter.report.charts.grids import BarGroup, grouped_bar_chart, heatmap_chart
from modelmeter.report.charts.lines import Curve, CurvePoint, Guide, line_chart
from modelmeter.report.charts.scatter import ScatterPoint, scatter_chart
from modelmeter.report.charts.svg import MUTED, LegendItem, model_colors
from modelmeter.results import Interval, ModelResult, Report, SweepPoint, SweepResult

__all__ = [
    "Chart",
    "best_point",
    "build_charts",
    "cost_charts",
    "latency_chart",
    "llm_chart",
    "load_level",
    "ordered_points",
    "quality_chart",
    "slice_charts",
    "slice_layout",
    "sweep_charts",
    "throughput_chart",
]


# --------------------------------------------------------------------------------------------
# From a Report


@dataclass(frozen=True, slots=True)
class Chart:
    """One figure of the report: ``svg`` is None when the report holds nothing to draw."""

    id: str
    title: str
    svg: str | None
    caption: str


def _not_plotted(skipped: Sequence[tuple[str, str]]) -> str:
    if not skipped:
        return ""
    return " Not plotted: " + "; ".join(f"{name} ({why})" for name, why in skipped) + "."


def _cost_currency(models: Sequence[ModelResult]) -> str | None:
    currencies = Counter(m.cost.currency for m in models if m.cost.per_1000_requests is not None)
    return currencies.most_common(1)[0][0] if currencies else None


def _headline_quality(model: ModelResult) -> tuple[float | None, Interval | None]:
    """Macro F1 for classification, the pooled task score for LLM runs; with its interval."""
    if model.quality is not None:
        return model.quality.f1_macro, model.quality.intervals.get("f1_macro")
    return model.task_score, model.task_score_ci


def quality_chart(report: Report, colors: Sequence[str]) -> Chart:
    """F1 (LLM runs: the task score) against cost per 1,000 requests, or against P95 when no
    model has a cost."""
    currency = _cost_currency(report.models)
    frontier = set(report.pareto)
    points: list[ScatterPoint] = []
    skipped: list[tuple[str, str]] = []
    llm = any(model.task_score is not None for model in report.models)
    metric = "task score" if llm else "F1"
    for model, color in zip(report.models, colors, strict=True):
        value, ci = _headline_quality(model)
        if value is None:
            skipped.append((model.name, "no quality"))
            continue
        x: float | None
        if currency is not None:
            cost = model.cost.per_1000_requests
            if cost is None:
                skipped.append((model.name, "no cost"))
                continue
            if model.cost.currency != currency:
                skipped.append((model.name, f"cost in {model.cost.currency}"))
                continue
            x = float(cost)
            x_text = fmt.money(cost, currency) + " / 1,000 req"
        else:
            x = model.latency_ms.p95 if model.latency_ms is not None else None
            if x is None:
                skipped.append((model.name, "no latency"))
                continue
            x_text = f"P95 {fmt.ms(x)} ms"
        if not (math.isfinite(x) and math.isfinite(value)):
            skipped.append((model.name, "not a finite value"))
            continue
        points.append(
            ScatterPoint(
                label=model.name,
                x=x,
                y=value,
                color=color,
                frontier=model.name in frontier,
                y_low=ci.low if ci is not None else None,
                y_high=ci.high if ci is not None else None,
                tooltip=f"{model.name}: {metric} {fmt.score(value)}, {x_text}",
            )
        )
    if currency is not None:
        title = "Quality vs cost"
        x_label = f"cost per 1,000 requests ({currency})"
        where = "Up and to the left is better."
    else:
        title = "Quality vs P95 latency"
        x_label = "P95 response time (ms)"
        where = "No model has a cost, so latency stands in for it. Up and to the left is better."
    label = "Task score (share of task items right)" if llm else "F1 (macro)"
    caption = (
        f"{label} of each model against its {x_label}. {where} Ringed points joined by the "
        "dashed line are on the Pareto frontier (no other model is at least as good on quality, "
        f"P95 latency and cost and better on one); vertical bars are 95% intervals of {metric}."
        + _not_plotted(skipped)
    )
    svg = (
        scatter_chart(
            points,
            chart_id="chart-quality",
            title=title,
            x_label=x_label,
            y_label="task score" if llm else "F1 (macro)",
        )
        if points
        else None
    )
    return Chart("chart-quality", title, svg, caption)


def latency_chart(report: Report, colors: Sequence[str]) -> Chart:
    series: list[CdfSeries] = []
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        summary = model.latency_ms
        buckets = model.load.latency_histogram_ms if model.load is not None else []
        points = cdf_points(buckets, summary.max if summary is not None else None)
        if not points:
            skipped.append((model.name, "no latency histogram"))
            continue
        marker = summary.p95 if summary is not None and math.isfinite(summary.p95) else None
        series.append(CdfSeries(model.name, color, points, marker))
    title = "Latency distribution"
    caption = (
        "Share of requests answered within a given response time (measured from the intended "
        "send time, so waiting behind a slow server counts). Further left is faster; the dashed "
        "marks show each model's P95." + _not_plotted(skipped)
    )
    svg = (
        cdf_chart(series, chart_id="chart-latency", title=title, x_label="response time (ms)")
        if series
        else None
    )
    return Chart("chart-latency", title, svg, caption)


def throughput_chart(report: Report, colors: Sequence[str]) -> Chart:
    bars: list[Bar] = []
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        value = model.throughput_rps
        if value is None or not math.isfinite(value):
            skipped.append((model.name, "no throughput"))
            continue
        bars.append(Bar(model.name, value, color, f"{fmt.rps(value)} req/s"))
    title = "Throughput"
    caption = (
        "Completed requests per second over the measured window (warm-up excluded). Longer is "
        "better." + _not_plotted(skipped)
    )
    svg = (
        bar_chart(bars, chart_id="chart-throughput", title=title, x_label="requests per second")
        if bars
        else None
    )
    return Chart("chart-throughput", title, svg, caption)


def cost_charts(report: Report, colors: Sequence[str]) -> list[Chart]:
    """One bar chart per currency: amounts in different currencies are never drawn together."""
    by_currency: dict[str, list[Bar]] = {}
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        cost = model.cost.per_1000_requests
        if cost is None or not cost.is_finite():
            skipped.append((model.name, "no cost"))
            continue
        text = fmt.money(cost, model.cost.currency)
        by_currency.setdefault(model.cost.currency, []).append(
            Bar(model.name, float(cost), color, text)
        )
    if not by_currency:
        return [
            Chart(
                "chart-cost",
                "Cost per 1,000 requests",
                None,
                "No model has a cost per 1,000 requests." + _not_plotted(skipped),
            )
        ]
    charts: list[Chart] = []
    several = len(by_currency) > 1
    for currency, bars in by_currency.items():
        chart_id = f"chart-cost-{fmt.slug(currency)}" if several else "chart-cost"
        title = f"Cost per 1,000 requests ({currency})"
        caption = (
            "Cost of 1,000 requests; shorter is better. Each model's basis and formula are in its "
            "details below." + _not_plotted(skipped)
        )
        svg = bar_chart(
            bars, chart_id=chart_id, title=title, x_label=f"{currency} per 1,000 requests"
        )
        charts.append(Chart(chart_id, title, svg, caption))
    return charts


def slice_charts(report: Report, colors: Sequence[str]) -> list[Chart]:
    """One heat map per slice key (e.g. language): rows are slice values, columns models."""
    color_of = {id(m): c for m, c in zip(report.models, colors, strict=True)}
    charts: list[Chart] = []
    for key, values, models in slice_layout(report):
        grid: list[list[float | None]] = []
        notes: list[list[str]] = []
        for value in values:
            row: list[float | None] = []
            note_row: list[str] = []
            for model in models:
                quality = model.quality
                cell = quality.by_slice.get(key, {}).get(value) if quality is not None else None
                row.append(cell.f1_macro if cell is not None else None)
                note_row.append(f"n={fmt.integer(cell.n)}" if cell is not None else "")
            grid.append(row)
            notes.append(note_row)
        chart_id = f"chart-slice-{fmt.slug(key)}"
        title = f"F1 by {key}"
        svg = heatmap_chart(
            chart_id=chart_id,
            title=title,
            row_labels=values,
            col_labels=[m.name for m in models],
            values=grid,
            notes=notes,
            value_format=fmt.score,
            value_label="F1 (macro)",
            col_colors=[color_of[id(m)] for m in models],
        )
        caption = (
            f"F1 (macro) of each model on the samples of each {key}; darker is higher, the scale "
            "runs from the lowest to the highest cell shown. n is the number of samples."
        )
        charts.append(Chart(chart_id, title, svg, caption))
    return charts


def load_level(point: SweepPoint) -> str:
    """A load level in words: ``concurrency 32`` or ``50 req/s offered``."""
    if point.mode == "concurrency":
        return f"concurrency {fmt.significant(point.value)}"
    return f"{fmt.significant(point.value)} req/s offered"


def _level_tag(point: SweepPoint) -> str:
    """A load level as a short point label: ``c=32`` or ``50/s``."""
    if point.mode == "concurrency":
        return f"c={fmt.significant(point.value)}"
    return f"{fmt.significant(point.value)}/s"


def ordered_points(sweep: SweepResult) -> list[SweepPoint]:
    """The levels from lowest to highest load (an SLA search measures them out of order)."""
    return sorted(sweep.points, key=lambda p: (p.mode != "concurrency", p.value))


def best_point(sweep: SweepResult) -> SweepPoint | None:
    """The element of ``sweep.points`` that ``sweep.best`` names, if any."""
    best = sweep.best
    if best is None:
        return None
    same = next((p for p in sweep.points if p == best), None)
    return same or next(
        (p for p in sweep.points if (p.mode, p.value) == (best.mode, best.value)), None
    )


def _sweep_tooltip(name: str, p: SweepPoint) -> str:
    parts = [
        f"{name}, {load_level(p)}: {fmt.rps(p.throughput_rps)} req/s",
        f"P50 {fmt.ms(p.p50_ms)} ms",
        f"P95 {fmt.ms(p.p95_ms)} ms",
        f"P99 {fmt.ms(p.p99_ms)} ms",
        f"errors {fmt.percent(p.error_rate)}",
    ]
    if p.goodput_rps is not None:
        parts.append(f"goodput {fmt.rps(p.goodput_rps)} req/s")
    if p.slo_met is not None:
        parts.append("SLO met" if p.slo_met else "SLO missed")
    if p.client_bound:
        parts.append("client-bound")
    return ", ".join(parts)


def _finite_pair(x: float | None, y: float | None) -> tuple[float, float] | None:
    if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
        return None
    return x, y


def sweep_charts(report: Report, colors: Sequence[str]) -> list[Chart]:
    """Per model with a sweep: P95/P99 against throughput, and goodput against offered load."""
    limit = report.sla.get("p95_ms")
    guides = (
        [Guide(limit, f"SLA: P95 ≤ {fmt.ms(limit)} ms")]
        if limit is not None and math.isfinite(limit) and limit > 0
        else []
    )
    charts: list[Chart] = []
    for i, (model, color) in enumerate(zip(report.models, colors, strict=True), start=1):
        sweep = model.sweep
        if sweep is None or not sweep.points:
            continue
        charts.append(_latency_curve(model.name, sweep, color, guides, f"chart-sweep-{i}"))
        if any(p.goodput_rps is not None for p in sweep.points):
            charts.append(_goodput_curve(model.name, sweep, color, f"chart-goodput-{i}"))
    return charts


def _latency_curve(
    name: str, sweep: SweepResult, color: str, guides: Sequence[Guide], chart_id: str
) -> Chart:
    best = best_point(sweep)
    p95: list[CurvePoint] = []
    p99: list[CurvePoint] = []
    skipped: list[tuple[str, str]] = []
    for p in ordered_points(sweep):
        pair = _finite_pair(p.throughput_rps, p.p95_ms)
        if pair is None:
            why = "no throughput" if not fmt.finite(p.throughput_rps) else "no P95"
            skipped.append((load_level(p), why))
            continue
        p95.append(
            CurvePoint(
                *pair,
                label=_level_tag(p),
                tooltip=_sweep_tooltip(name, p),
                hollow=p.client_bound,
                highlight=p is best,
            )
        )
        pair99 = _finite_pair(p.throughput_rps, p.p99_ms)
        if pair99 is not None:
            p99.append(CurvePoint(*pair99))
    kind = "SLA search" if sweep.kind == "sla_search" else "Load sweep"
    title = f"Throughput vs latency: {name}"
    legend = [LegendItem("P95", color, "line")]
    if p99:
        legend.append(LegendItem("P99", color, "dash"))
    legend += [LegendItem(g.label, g.color, "dash") for g in guides]
    if any(p.hollow for p in p95):
        legend.append(LegendItem("client-bound level", color, "ring"))
    if any(p.highlight for p in p95):
        legend.append(LegendItem("best within the SLA", color, "best"))
    caption = (
        f"{kind} of {name}: P95 response time (solid) and P99 (dashed) against the throughput "
        "achieved at each load level; points are labelled c=N for N requests in flight, N/s for "
        "N requests per second offered. Where the curve turns upward the target is saturated: "
        "more load adds waiting, not throughput."
    )
    if guides:
        caption += " The red dashed line is the SLA's P95 limit."
    if any(p.hollow for p in p95):
        caption += " Hollow points are client-bound: the load generator may have set the pace."
    if any(p.highlight for p in p95):
        caption += " The circled point is the highest level that met the SLA."
    if sweep.stopped_because:
        caption += f" Stopped because: {sweep.stopped_because.rstrip('.')}."
    caption += _not_plotted(skipped)
    curves = [Curve("P95", color, tuple(p95))]
    if p99:
        # The P95 point's tooltip carries P99 too: no markers to clutter the dashed line.
        curves.append(Curve("P99", color, tuple(p99), dash="6 4", marker=0))
    svg = (
        line_chart(
            curves,
            chart_id=chart_id,
            title=title,
            x_label="throughput (requests per second)",
            y_label="response time (ms)",
            desc=f"P95 and P99 response time of {name} against throughput, one point per load "
            "level.",
            guides=guides,
            legend=legend,
        )
        if p95
        else None
    )
    return Chart(chart_id, title, svg, caption)


def _goodput_curve(name: str, sweep: SweepResult, color: str, chart_id: str) -> Chart:
    modes = Counter(p.mode for p in sweep.points)
    mode = modes.most_common(1)[0][0]
    best = best_point(sweep)
    served: list[CurvePoint] = []
    good: list[CurvePoint] = []
    skipped = [(load_level(p), "another load mode") for p in sweep.points if p.mode != mode]
    for p in ordered_points(sweep):
        if p.mode != mode:
            continue
        tip = _sweep_tooltip(name, p)
        pair = _finite_pair(p.value, p.throughput_rps)
        if pair is not None:
            served.append(CurvePoint(*pair, tooltip=tip))
        pair = _finite_pair(p.value, p.goodput_rps)
        if pair is not None:
            good.append(CurvePoint(*pair, tooltip=tip, highlight=p is best))
    title = f"Goodput vs offered load: {name}"
    rate = mode == "rate"
    legend = [
        LegendItem("throughput", color, "line"),
        LegendItem("goodput (met every SLO)", color, "dash"),
    ]
    if rate:
        legend.append(LegendItem("offered", MUTED, "dotted"))
    if any(p.highlight for p in good):
        legend.append(LegendItem("best within the SLA", color, "best"))
    caption = (
        f"Completed requests per second (solid) and goodput, the requests per second that met "
        f"every SLO with errors counted as misses (dashed), at each load level of {name}. The gap "
        "between the lines is traffic served too slowly or not at all."
    )
    if rate:
        caption += " The dotted grey line is the offered load."
    caption += _not_plotted(skipped)
    svg = (
        line_chart(
            [
                Curve("throughput", color, tuple(served)),
                Curve("goodput", color, tuple(good), dash="6 4"),
            ],
            chart_id=chart_id,
            title=title,
            x_label="offered load (requests per second)" if rate else "requests in flight",
            y_label="requests per second",
            desc=f"Throughput and goodput of {name} against the load level.",
            legend=legend,
            diagonal="offered" if rate else None,
            plot_height=200,
            log_x=True,
        )
        if served or good
        else None
    )
    return Chart(chart_id, title, svg, caption)


def llm_chart(report: Report, colors: Sequence[str]) -> Chart | None:
    """TTFT and ITL percentiles per model; None when no model streamed tokens."""
    names = ("TTFT", "ITL")
    groups: list[BarGroup] = []
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        llm = model.load.llm if model.load is not None else None
        if llm is None or (llm.ttft_ms is None and llm.itl_ms is None):
            skipped.append((model.name, "no TTFT or ITL"))
            continue
        values: list[tuple[float | None, ...]] = [
            (s.p50, s.p95, s.p99) if s is not None else (None, None, None)
            for s in (llm.ttft_ms, llm.itl_ms)
        ]
        groups.append(BarGroup(model.name, color, tuple(values)))
    if not groups:
        return None
    keep = [k for k in range(len(names)) if any(v is not None for g in groups for v in g.values[k])]
    bars = [BarGroup(g.label, g.color, tuple(g.values[k] for k in keep)) for g in groups]
    title = "Time to first token and inter-token latency"
    if keep == [0]:
        title = "Time to first token"
    elif keep == [1]:
        title = "Inter-token latency"
    chart_id = "chart-llm"
    svg = grouped_bar_chart(
        bars,
        chart_id=chart_id,
        title=title,
        panels=[names[k] for k in keep],
        series=("P50", "P95", "P99"),
        unit="ms",
        value_format=fmt.ms,
    )
    caption = (
        "P50, P95 and P99 per streaming model, lighter to darker; shorter is better. TTFT runs "
        "from the actual send to the first chunk that carries output; ITL is the gap between "
        "content chunks divided by the tokens each carries. Each panel has its own scale."
        + _not_plotted(skipped)
    )
    return Chart(chart_id, title, svg, caption)


def slice_layout(report: Report) -> list[tuple[str, list[str], list[ModelResult]]]:
    """Slice keys in first-seen order with their values (sorted) and the models that have them."""
    keys: dict[str, set[str]] = {}
    for model in report.models:
        if model.quality is None:
            continue
        for key, by_value in model.quality.by_slice.items():
            keys.setdefault(key, set()).update(by_value)
    layout = []
    for key, values in keys.items():
        models = [m for m in report.models if m.quality is not None and key in m.quality.by_slice]
        layout.append((key, sorted(values), models))
    return layout


def build_charts(report: Report) -> list[Chart]:
    """Every chart of the report, in reading order."""
    colors = model_colors(report)
    llm = llm_chart(report, colors)
    return [
        quality_chart(report, colors),
        latency_chart(report, colors),
        *([llm] if llm is not None else []),
        throughput_chart(report, colors),
        *sweep_charts(report, colors),
        *cost_charts(report, colors),
        *slice_charts(report, colors),
    ]
