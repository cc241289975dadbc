"""The report-wide tables: facts, the summary, ranking, SLA, weights, slices; and the view of the
whole report.
"""

from __future__ import annotations

from modelmeter.report import _format as fmt
from modelmeter.report._tables.models import model_details
from modelmeter.report._tables.table import Column, ReportView, Row, Table
from modelmeter.report.charts import (
    model_colors,
    slice_layout,
)
from modelmeter.results import (
    ModelResult,
    Report,
)

__all__ = [
    "facts",
    "has_llm",
    "priorities",
    "ranking",
    "sla",
    "slices",
    "summary",
    "view",
    "weights",
]


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
    """Per priority: the model its rule chose, the rule, and the steps with their figures."""
    rec = report.recommendation
    decision = report.decision
    # The run's own priority is always listed, with the model chosen for it.
    choices = {**rec.by_priority}
    choices.setdefault(rec.priority, rec.chosen)
    order = ["quality", "latency", "cost", "balanced"]
    names = [p for p in order if p in choices] + [p for p in choices if p not in order]
    rows = []
    for priority in names:
        chosen = choices[priority]
        label = f"{priority} (this run)" if priority == rec.priority else priority
        made = decision.choice(priority) if decision is not None else None
        rule = made.rule if made is not None else fmt.MISSING
        steps = "; then ".join(made.steps) if made is not None and made.steps else fmt.MISSING
        rows.append(
            Row((label, chosen or fmt.MISSING, rule, steps), chosen=priority == rec.priority)
        )
    columns = (Column("priority"), Column("chosen model"), Column("rule"), Column("how it chose"))
    return Table(columns, tuple(rows))


def has_llm(report: Report) -> bool:
    """Whether any model has streaming LLM metrics (and the summary their columns)."""
    return any(m.load is not None and m.load.llm is not None for m in report.models)


def _sla_cell(model: ModelResult) -> str:
    """yes / no, or "not measured" for a model with no figure at all (an interrupted run)."""
    if not model.sla.met and not model.measured:
        return "not measured"
    return fmt.yes_no(model.sla.met)


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
                    _sla_cell(model),
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
        Column("net value / score", numeric=True),
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
        diagnoses=tuple(
            (m.name, m.load.diagnosis)
            for m in report.models
            if m.load is not None and m.load.verdict != "ok" and m.load.diagnosis
        ),
        llm=has_llm(report),
    )
