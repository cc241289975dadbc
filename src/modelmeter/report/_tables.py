"""The report's tables as plain strings, built once and drawn by both HTML and Markdown.

Keeping the cells here means the two renderings cannot disagree on a figure or its formatting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelmeter.report import _format as fmt
from modelmeter.report.charts import (
    best_point,
    load_level,
    model_colors,
    ordered_points,
    slice_layout,
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

SUMMARY_LLM_NOTE = (
    "TTFT is timed from the actual send to the first chunk with output, ITL between content "
    "chunks per token; output tok/s counts every request over the measured window."
)
LLM_COUNT_NOTE = "ITL's count is of gaps between chunks; the other counts are requests."


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    numeric: bool = False
    flag: bool = False
    """A yes/no column; HTML colours it."""
    definition: str | None = None
    """Key into ``Report.definitions`` that explains this column, when the report has one."""


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[str, ...]
    color: str | None = None
    """The model's chart colour, shown as a swatch before the first cell in HTML."""
    chosen: bool = False
    """The recommended model's row (emphasised)."""


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    key_column: int = 0
    """The column that names the row: a header cell in HTML, bold when the row is ``chosen``."""
    badge: str = ""
    """A label that HTML puts after the key cell of the ``chosen`` row."""
    diagonal: bool = False
    """A square matrix after the key column (confusion matrix): HTML emphasises its diagonal."""
    compact: bool = False
    """Many columns: HTML lets the headers wrap and tightens the cells so the table fits."""


@dataclass(frozen=True, slots=True)
class ModelDetail:
    """Everything the per-model section shows, formatted."""

    anchor: str
    name: str
    color: str
    target_kind: str
    description: str
    chosen: bool
    on_frontier: bool
    sla_met: bool
    sla_violations: tuple[str, ...]
    quality_facts: tuple[tuple[str, str], ...]
    quality: Table | None
    per_class: Table | None
    confusion: Table | None
    load_facts: tuple[tuple[str, str], ...]
    latency: Table | None
    client_bound: bool
    client_bound_reason: str
    cost_facts: tuple[tuple[str, str], ...]
    cost_explanation: str
    llm_facts: tuple[tuple[str, str], ...] = ()
    llm: Table | None = None
    """TTFT, time to first reasoning, ITL and TPOT percentiles; None for non-streaming targets."""
    token_source: str = ""
    """Where the output token counts came from, in a sentence."""
    sweep_title: str = ""
    sweep_facts: tuple[tuple[str, str], ...] = ()
    sweep: Table | None = None
    """One row per load level of the sweep or SLA search; None when the model had none."""
    sweep_chart: str = ""
    """Id of the throughput-vs-latency chart of this model, when there is one."""


@dataclass(frozen=True, slots=True)
class ReportView:
    """What the renderers draw, in reading order."""

    facts: tuple[tuple[str, str], ...]
    priorities: Table
    summary: Table
    ranking: Table
    sla: Table | None
    weights: Table | None
    slices: tuple[tuple[str, Table], ...]
    models: tuple[ModelDetail, ...]
    definitions: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    client_bound: tuple[str, ...] = field(default_factory=tuple)
    """Names of the models whose load generator could not keep up."""
    llm: bool = False
    """Some model streamed tokens: the summary has TTFT, ITL and output tokens/s columns."""


def _definition(report: Report, *candidates: str) -> str | None:
    return next((key for key in candidates if key in report.definitions), None)


def facts(report: Report) -> tuple[tuple[str, str], ...]:
    host = report.host
    rows: list[tuple[str, str]] = [
        ("Run id", report.run_id),
        ("Created", fmt.timestamp(report.created_at)),
        ("Task", report.task),
        (
            "Tool version",
            f"modelmeter {report.tool_version} (report schema {report.schema_version})",
        ),
        (
            "Host",
            f"{host.machine}, {fmt.integer(host.cpu_count)} CPUs, {host.platform}, "
            f"Python {host.python}",
        ),
    ]
    rows += [(f"Dataset {key}", fmt.fact(value)) for key, value in report.dataset.items()]
    rows += [("Seed", str(report.seed)), ("Spec hash", report.spec_hash)]
    return tuple(rows)


def priorities(report: Report) -> Table:
    rec = report.recommendation
    # The run's own priority is always listed, with the model chosen for it.
    choices = {**rec.by_priority}
    choices.setdefault(rec.priority, rec.chosen)
    order = ["quality", "latency", "cost", "balanced"]
    names = [p for p in order if p in choices] + [p for p in choices if p not in order]
    rows = []
    for priority in names:
        chosen = choices[priority]
        label = f"{priority} (this run)" if priority == rec.priority else priority
        rows.append(Row((label, chosen or fmt.MISSING), chosen=priority == rec.priority))
    return Table((Column("priority"), Column("chosen model")), tuple(rows))


def has_llm(report: Report) -> bool:
    """Whether any model has streaming LLM metrics (and the summary their columns)."""
    return any(m.load is not None and m.load.llm is not None for m in report.models)


def summary(report: Report) -> Table:
    d = report
    llm = has_llm(report)
    llm_columns = (
        (
            Column("TTFT P95 ms", numeric=True, definition=_definition(d, "ttft", "ttft_ms")),
            Column("ITL P95 ms", numeric=True, definition=_definition(d, "itl", "itl_ms")),
            Column(
                "output tok/s",
                numeric=True,
                definition=_definition(d, "output_tokens_per_s", "output_tokens"),
            ),
        )
        if llm
        else ()
    )
    columns = (
        Column("model"),
        _quality_column(report),
        Column("accuracy", numeric=True, definition=_definition(d, "accuracy")),
        Column("P50 ms", numeric=True, definition=_definition(d, "p50", "response_time")),
        Column("P95 ms", numeric=True, definition=_definition(d, "p95", "response_time")),
        Column("P99 ms", numeric=True, definition=_definition(d, "p99", "response_time")),
        Column("req/s", numeric=True, definition=_definition(d, "throughput_rps", "throughput")),
        *llm_columns,
        Column("errors (rate)", numeric=True, definition=_definition(d, "error_rate", "errors")),
        Column(
            "cost / 1,000 req",
            numeric=True,
            definition=_definition(d, "cost_per_1000_requests", "per_1000_requests", "cost"),
        ),
        Column("SLA met", flag=True, definition=_definition(d, "sla")),
        Column("Pareto", definition=_definition(d, "pareto")),
    )
    frontier = set(report.pareto)
    chosen = report.recommendation.chosen
    rows = []
    for model, color in zip(report.models, model_colors(report), strict=True):
        q = model.quality
        lat = model.latency_ms
        rows.append(
            Row(
                (
                    model.name,
                    _quality_cell(model),
                    fmt.score(q.accuracy) if q else fmt.MISSING,
                    fmt.ms(lat.p50) if lat else fmt.MISSING,
                    fmt.ms(lat.p95) if lat else fmt.MISSING,
                    fmt.ms(lat.p99) if lat else fmt.MISSING,
                    fmt.rps(model.throughput_rps),
                    *(_llm_summary_cells(model) if llm else ()),
                    _errors(model),
                    fmt.money(model.cost.per_1000_requests, model.cost.currency),
                    fmt.yes_no(model.sla.met),
                    "★" if model.name in frontier else "",
                ),
                color=color,
                chosen=model.name == chosen,
            )
        )
    return Table(columns, tuple(rows), badge="recommended", compact=llm)


def _quality_column(report: Report) -> Column:
    """F1 for classification; LLM runs show their pooled task score in the same column."""
    classified = any(m.quality is not None for m in report.models)
    scored = any(m.quality is None and m.task_score is not None for m in report.models)
    if scored and not classified:
        return Column(
            "task score (95% CI)", numeric=True, definition=_definition(report, "task_score")
        )
    header = "F1 (macro) / task score (95% CI)" if scored else "F1 (macro, 95% CI)"
    return Column(header, numeric=True, definition=_definition(report, "f1_macro", "f1"))


def _quality_cell(model: ModelResult) -> str:
    q = model.quality
    if q is not None:
        return fmt.with_interval(q.f1_macro, q.intervals.get("f1_macro"))
    if model.task_score is not None:
        return fmt.with_interval(model.task_score, model.task_score_ci)
    return fmt.MISSING


def _llm_summary_cells(model: ModelResult) -> tuple[str, str, str]:
    llm = model.load.llm if model.load is not None else None
    if llm is None:
        return (fmt.MISSING, fmt.MISSING, fmt.MISSING)
    return (
        fmt.ms(llm.ttft_ms.p95) if llm.ttft_ms is not None else fmt.MISSING,
        fmt.ms(llm.itl_ms.p95) if llm.itl_ms is not None else fmt.MISSING,
        fmt.adaptive(llm.output_tokens_per_s),
    )


def _errors(model: ModelResult) -> str:
    if model.load is None:
        return fmt.MISSING
    count = sum(model.load.errors.values())
    return f"{fmt.integer(count)} ({fmt.percent(model.load.error_rate)})"


def ranking(report: Report) -> Table:
    columns = (
        Column("rank", numeric=True),
        Column("model"),
        Column("score", numeric=True),
        Column("eligible", flag=True),
        Column("reasons"),
    )
    chosen = report.recommendation.chosen
    colors = dict(zip((m.name for m in report.models), model_colors(report), strict=True))
    rows = tuple(
        Row(
            (
                str(i),
                ranked.name,
                fmt.score(ranked.score),
                fmt.yes_no(ranked.eligible),
                "; ".join(ranked.reasons) or fmt.MISSING,
            ),
            color=colors.get(ranked.name),
            chosen=ranked.name == chosen,
        )
        for i, ranked in enumerate(report.ranking, start=1)
    )
    return Table(columns, rows, key_column=1)


def sla(report: Report) -> Table | None:
    if not report.sla:
        return None
    rows = tuple(Row((key, fmt.fact(value))) for key, value in report.sla.items())
    return Table((Column("limit"), Column("value", numeric=True)), rows)


def weights(report: Report) -> Table | None:
    if not report.priority_weights:
        return None
    metrics: list[str] = []
    for by_metric in report.priority_weights.values():
        metrics += [m for m in by_metric if m not in metrics]
    columns = (Column("priority"), *(Column(m, numeric=True) for m in metrics))
    rows = tuple(
        Row(
            (priority, *(fmt.fact(by_metric.get(m)) for m in metrics)),
            chosen=priority == report.recommendation.priority,
        )
        for priority, by_metric in report.priority_weights.items()
    )
    return Table(columns, rows)


def slices(report: Report) -> tuple[tuple[str, Table], ...]:
    """Per slice key: rows are slice values, a column of F1 (with interval) per model, and n.

    When every model was scored on the same number of samples per slice value (the usual case:
    one dataset), one n column serves them all; otherwise each model gets its own.
    """
    out = []
    for key, values, models in slice_layout(report):
        cells_by_value = {
            value: [
                m.quality.by_slice.get(key, {}).get(value) if m.quality is not None else None
                for m in models
            ]
            for value in values
        }
        shared_n = all(
            len({c.n for c in cells if c is not None}) <= 1 for cells in cells_by_value.values()
        )
        columns = [Column(key)]
        if shared_n:
            columns.append(Column("n", numeric=True))
        for model in models:
            columns.append(Column(f"{model.name} F1", numeric=True))
            if not shared_n:
                columns.append(Column(f"{model.name} n", numeric=True))
        rows = []
        for value, cells in cells_by_value.items():
            row = [value]
            if shared_n:
                row.append(next((fmt.integer(c.n) for c in cells if c is not None), fmt.MISSING))
            for cell in cells:
                row.append(
                    fmt.with_interval(cell.f1_macro, cell.f1_macro_ci) if cell else fmt.MISSING
                )
                if not shared_n:
                    row.append(fmt.integer(cell.n) if cell else fmt.MISSING)
            rows.append(Row(tuple(row)))
        out.append((key, Table(tuple(columns), tuple(rows))))
    return tuple(out)


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
            ", ".join(f"{kind}: {fmt.integer(n)}" for kind, n in sorted(load.errors.items()))
            or "none",
        ),
    ]
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


def view(report: Report) -> ReportView:
    return ReportView(
        facts=facts(report),
        priorities=priorities(report),
        summary=summary(report),
        ranking=ranking(report),
        sla=sla(report),
        weights=weights(report),
        slices=slices(report),
        models=model_details(report),
        definitions=tuple(report.definitions.items()),
        notes=tuple(report.notes),
        client_bound=tuple(m.name for m in report.models if m.load and m.load.client_bound),
        llm=has_llm(report),
    )
