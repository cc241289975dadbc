"""Each model's detail tables: quality, per class, confusion, latency, LLM timing, sweeps."""

from __future__ import annotations

from modelmeter.report import _format as fmt
from modelmeter.report._tables.table import Column, ModelDetail, Row, Table
from modelmeter.report.charts import (
    best_point,
    load_level,
    model_colors,
    ordered_points,
)
from modelmeter.results import (
    Interval,
    LatencySummary,
    LlmLoadMetrics,
    ModelResult,
    Report,
    SweepPoint,
    SweepResult,
)

__all__ = ["model_details", "sweep_table", "token_source_sentence"]


_QUALITY_METRICS = (
    ("accuracy", "accuracy"),
    ("precision_macro", "precision (macro)"),
    ("recall_macro", "recall (macro)"),
    ("f1_macro", "F1 (macro)"),
    ("precision_weighted", "precision (weighted)"),
    ("recall_weighted", "recall (weighted)"),
    ("f1_weighted", "F1 (weighted)"),
)


def _quality_table(model: ModelResult) -> Table | None:
    q = model.quality
    if q is None:
        return None
    rows = []
    for key, label in _QUALITY_METRICS:
        ci = q.intervals.get(key)
        rows.append(
            Row(
                (
                    label,
                    fmt.score(getattr(q, key)),
                    fmt.interval(ci),
                    ci.method if ci is not None else fmt.MISSING,
                )
            )
        )
    known = {key for key, _ in _QUALITY_METRICS}
    for key, ci in q.intervals.items():
        if key not in known:
            rows.append(Row((key, fmt.MISSING, fmt.interval(ci), ci.method)))
    columns = (
        Column("metric"),
        Column("value", numeric=True),
        Column("95% interval", numeric=True),
        Column("interval method"),
    )
    return Table(columns, tuple(rows))


def _per_class_table(model: ModelResult) -> Table | None:
    q = model.quality
    if q is None or not q.per_class:
        return None
    columns = (
        Column("class"),
        Column("precision", numeric=True),
        Column("recall", numeric=True),
        Column("F1", numeric=True),
        Column("support", numeric=True),
    )
    rows = tuple(
        Row(
            (
                label,
                fmt.score(m.precision),
                fmt.score(m.recall),
                fmt.score(m.f1),
                fmt.integer(m.support),
            )
        )
        for label, m in q.per_class.items()
    )
    return Table(columns, rows)


def _confusion_table(model: ModelResult) -> Table | None:
    q = model.quality
    if q is None or not q.confusion_matrix:
        return None
    labels = q.confusion_labels or [str(i) for i in range(len(q.confusion_matrix))]
    columns = (Column("true ↓ / predicted →"), *(Column(label, numeric=True) for label in labels))
    rows = tuple(
        Row((labels[i] if i < len(labels) else str(i), *(fmt.integer(c) for c in counts)))
        for i, counts in enumerate(q.confusion_matrix)
    )
    return Table(columns, rows, diagonal=True)


def _ms_with_interval(value: float, ci: Interval | None) -> str:
    """``8.12 (8.00–8.25)``: a percentile and its interval, all at the value's decimals."""
    if ci is None or not fmt.finite(value):
        return fmt.ms(value)
    decimals = 2 if abs(value) < 10 else 1
    return f"{fmt.fixed(value, decimals)} ({fmt.interval(ci, decimals)})"


def _tail_headers(summaries: list[LatencySummary]) -> tuple[str, str]:
    """P95 and P99 headers; they name the interval when a row shows one."""
    p95 = "P95 (95% CI)" if any(s.p95_ci is not None for s in summaries) else "P95"
    p99 = "P99 (95% CI)" if any(s.p99_ci is not None for s in summaries) else "P99"
    return p95, p99


def _latency_row(label: str, s: LatencySummary) -> Row:
    return Row(
        (
            label,
            fmt.integer(s.count),
            fmt.ms(s.mean),
            fmt.ms(s.p50),
            fmt.ms(s.p90),
            _ms_with_interval(s.p95, s.p95_ci),
            _ms_with_interval(s.p99, s.p99_ci),
            fmt.ms(s.max),
            s.method,
        )
    )


def _latency_table(model: ModelResult) -> Table | None:
    """Response time, service time and schedule lag; P95 and P99 with their intervals."""
    summaries: list[tuple[str, LatencySummary]] = []
    if model.latency_ms is not None:
        summaries.append(("response time", model.latency_ms))
    if model.load is not None and model.load.service_time_ms is not None:
        summaries.append(("service time", model.load.service_time_ms))
    if model.load is not None and model.load.schedule_lag_ms is not None:
        summaries.append(("schedule lag", model.load.schedule_lag_ms))
    if not summaries:
        return None
    p95, p99 = _tail_headers([s for _label, s in summaries])
    columns = (
        Column("ms"),
        Column("count", numeric=True),
        *(Column(h, numeric=True) for h in ("mean", "P50", "P90", p95, p99, "max")),
        Column("percentiles from"),
    )
    return Table(columns, tuple(_latency_row(label, s) for label, s in summaries))


def _load_facts(model: ModelResult) -> tuple[tuple[str, str], ...]:
    load = model.load
    if load is None:
        return ()
    rows = [("Mode", load.mode)]
    if load.concurrency is not None:
        rows.append(("Concurrency", fmt.integer(load.concurrency)))
    if load.rate_rps is not None:
        rows.append(("Arrival rate", f"{fmt.rps(load.rate_rps)} req/s"))
    rows += [
        ("Measured window", f"{fmt.significant(load.duration_s)} s"),
        ("Requests", fmt.integer(load.requests)),
        ("Completed", fmt.integer(load.completed)),
        ("Throughput", f"{fmt.rps(model.throughput_rps)} req/s"),
        ("Error rate", fmt.percent(load.error_rate)),
        (
            "Load generator CPU",
            f"{fmt.fixed(load.client_cpu_percent, 0)}% of one core"
            if fmt.finite(load.client_cpu_percent)
            else fmt.MISSING,
        ),
        (
            "Errors by kind",
            ", ".join(
                f"{kind}: {fmt.integer(n)}"
                for kind, n in sorted((load.errors_by_status or load.errors).items())
            )
            or "none",
        ),
    ]
    rows += [
        (f"First {kind} message", message[:300])
        for kind, message in sorted(load.error_samples.items())
    ]
    if load.verdict != "ok" or load.host_busy_before_percent is not None:
        rows.append(("What set the pace", load.diagnosis or "the target (verdict ok)"))
    return tuple(rows)


def _cost_facts(model: ModelResult) -> tuple[tuple[str, str], ...]:
    cost = model.cost
    rows = [
        ("Per 1,000 requests", fmt.money(cost.per_1000_requests, cost.currency)),
        ("Basis", cost.basis),
    ]
    if cost.throughput_basis_rps is not None:
        rows.append(("Throughput used", f"{fmt.rps(cost.throughput_basis_rps)} req/s"))
    if cost.within_sla is not None:
        rows.append(("Throughput within SLA", fmt.yes_no(cost.within_sla)))
    return tuple(rows)


def _quality_facts(model: ModelResult) -> tuple[tuple[str, str], ...]:
    q = model.quality
    if q is None:
        return ()
    return (("Samples", fmt.integer(q.n)), ("Failed (counted wrong)", fmt.integer(q.n_failed)))


_LLM_ROWS = (
    ("ttft_ms", "TTFT"),
    ("time_to_first_reasoning_ms", "time to first reasoning"),
    ("itl_ms", "ITL"),
    ("tpot_ms", "TPOT"),
)


def _llm_table(llm: LlmLoadMetrics | None) -> Table | None:
    if llm is None:
        return None
    rows = []
    shown: list[LatencySummary] = []
    for key, label in _LLM_ROWS:
        s: LatencySummary | None = getattr(llm, key)
        if s is None:
            continue
        shown.append(s)
        rows.append(
            Row(
                (
                    label,
                    fmt.ms(s.p50),
                    fmt.ms(s.p90),
                    _ms_with_interval(s.p95, s.p95_ci),
                    _ms_with_interval(s.p99, s.p99_ci),
                    fmt.ms(s.max),
                    fmt.integer(s.count),
                    s.method,
                )
            )
        )
    if not rows:
        return None
    p95, p99 = _tail_headers(shown)
    columns = (
        Column("ms"),
        *(Column(h, numeric=True) for h in ("P50", "P90", p95, p99, "max", "count")),
        Column("percentiles from"),
    )
    return Table(columns, tuple(rows))


def _llm_facts(llm: LlmLoadMetrics | None) -> tuple[tuple[str, str], ...]:
    if llm is None:
        return ()
    per_s = llm.output_tokens_per_s
    return (
        ("Output tokens", fmt.integer(llm.output_tokens)),
        ("Output tokens/s", f"{fmt.adaptive(per_s)} tok/s" if fmt.finite(per_s) else fmt.MISSING),
    )


_TOKEN_SOURCES = {
    "usage": "from server usage",
    "tokenizer": "from the supplied tokenizer",
    "chunks": "counted by chunks",
}


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def token_source_sentence(llm: LlmLoadMetrics | None) -> str:
    """Where the output token counts came from, e.g. "Output tokens from server usage for 500
    requests."; chunk counts are called what they are, an estimate."""
    if llm is None:
        return ""
    sources = {key: n for key, n in llm.token_source.items() if n > 0}
    if not sources:
        return "The run did not record where the output token counts came from."
    keys = [k for k in _TOKEN_SOURCES if k in sources] + sorted(
        k for k in sources if k not in _TOKEN_SOURCES
    )
    parts = [
        f"{_TOKEN_SOURCES.get(k, f'from {k}')} for {fmt.integer(sources[k])} "
        + ("request" if sources[k] == 1 else "requests")
        for k in keys
    ]
    text = "Output tokens " + _and(parts)
    if "chunks" in sources:
        text += " — " if len(keys) == 1 else " — the chunk counts are "
        text += "an estimate: servers may put several tokens in a chunk"
    return text + "."


def _sweep_title(sweep: SweepResult | None) -> str:
    if sweep is None:
        return ""
    return "SLA search" if sweep.kind == "sla_search" else "Load sweep"


def _level_cell(point: SweepPoint, header: str | None) -> str:
    """The load level; a bare number when the column header already names its unit."""
    return fmt.significant(point.value) if header else load_level(point)


def _sweep_facts(sweep: SweepResult | None) -> tuple[tuple[str, str], ...]:
    if sweep is None:
        return ()
    rows = [("Levels measured", fmt.integer(len(sweep.points)))]
    best = sweep.best
    if best is not None:
        rows.append(
            (
                "Best within the SLA",
                f"{load_level(best)}: {fmt.rps(best.throughput_rps)} req/s, "
                f"P95 {fmt.ms(best.p95_ms)} ms",
            )
        )
    elif sweep.kind == "sla_search":
        rows.append(("Best within the SLA", "no level met the SLA"))
    rows.append(("Stopped because", sweep.stopped_because or fmt.MISSING))
    return tuple(rows)


def sweep_table(sweep: SweepResult | None) -> Table | None:
    """One row per load level, lowest first; the best level (SLA search) is marked."""
    if sweep is None or not sweep.points:
        return None
    points = ordered_points(sweep)
    best = best_point(sweep)
    modes = {p.mode for p in points}
    header = None
    if modes == {"concurrency"}:
        header = "concurrency"
    elif modes == {"rate"}:
        header = "offered req/s"
    goodput = any(p.goodput_rps is not None for p in points)
    ttft = any(p.ttft_p95_ms is not None for p in points)
    itl = any(p.itl_p95_ms is not None for p in points)
    slo = any(p.slo_met is not None for p in points)
    columns = [
        Column(header or "load level", numeric=header is not None),
        Column("req/s", numeric=True),
    ]
    if goodput:
        columns.append(Column("goodput req/s", numeric=True))
    columns += [Column(h, numeric=True) for h in ("P50 ms", "P95 ms", "P99 ms")]
    if ttft:
        columns.append(Column("TTFT P95 ms", numeric=True))
    if itl:
        columns.append(Column("ITL P95 ms", numeric=True))
    columns.append(Column("errors", numeric=True))
    if slo:
        columns.append(Column("SLO met", flag=True))
    columns.append(Column("client-bound"))
    rows = []
    for p in points:
        cells = [_level_cell(p, header), fmt.rps(p.throughput_rps)]
        if goodput:
            cells.append(fmt.rps(p.goodput_rps))
        cells += [fmt.ms(p.p50_ms), fmt.ms(p.p95_ms), fmt.ms(p.p99_ms)]
        if ttft:
            cells.append(fmt.ms(p.ttft_p95_ms))
        if itl:
            cells.append(fmt.ms(p.itl_p95_ms))
        cells.append(fmt.percent(p.error_rate))
        if slo:
            cells.append(fmt.yes_no(p.slo_met))
        cells.append(fmt.yes_no(p.client_bound))
        rows.append(Row(tuple(cells), chosen=p is best))
    return Table(tuple(columns), tuple(rows), badge="best")


def model_details(report: Report) -> tuple[ModelDetail, ...]:
    frontier = set(report.pareto)
    out = []
    for i, (model, color) in enumerate(zip(report.models, model_colors(report), strict=True)):
        llm = model.load.llm if model.load is not None else None
        out.append(
            ModelDetail(
                anchor=f"model-{i + 1}",
                name=model.name,
                color=color,
                target_kind=model.target_kind,
                description=model.description,
                chosen=model.name == report.recommendation.chosen,
                on_frontier=model.name in frontier,
                sla_met=model.sla.met,
                sla_violations=tuple(model.sla.violations),
                quality_facts=_quality_facts(model),
                quality=_quality_table(model),
                per_class=_per_class_table(model),
                confusion=_confusion_table(model),
                load_facts=_load_facts(model),
                latency=_latency_table(model),
                client_bound=model.load is not None and model.load.client_bound,
                client_bound_reason=model.load.client_bound_reason if model.load else "",
                cost_facts=_cost_facts(model),
                cost_explanation=model.cost.explanation,
                llm_facts=_llm_facts(llm),
                llm=_llm_table(llm),
                token_source=token_source_sentence(llm),
                sweep_title=_sweep_title(model.sweep),
                sweep_facts=_sweep_facts(model.sweep),
                sweep=sweep_table(model.sweep),
                sweep_chart=f"chart-sweep-{i + 1}" if model.sweep and model.sweep.points else "",
            )
        )
    return tuple(out)
