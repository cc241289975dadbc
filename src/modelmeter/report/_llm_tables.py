"""The LLM parts of a report as plain strings: tasks, costs and budget, routing.

Built once here and drawn by both the HTML and the Markdown rendering, like ``_tables``, so the
two cannot disagree on a figure. A classification report has none of these parts: every
section comes back empty and the renderings leave it out.

Which figure heads a task's table follows its metric: a right/wrong grade (accuracy, exact
match, regex) is a share with a Wilson interval; a graded score (token F1, judge) and pass@1
(the unbiased c/n estimate per problem) are means with a bootstrap interval, shown with the
share graded right beside them for the graded scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelmeter._money import Money
from modelmeter.report import _format as fmt
from modelmeter.report._tables import Column, Row, Table
from modelmeter.report.charts import model_colors
from modelmeter.results import (
    Interval,
    ModelResult,
    Report,
    SliceScore,
    TaskMetric,
    TaskQuality,
    TaskResult,
)

__all__ = [
    "BudgetView",
    "CostView",
    "LlmView",
    "RoutingFile",
    "TaskView",
    "costs",
    "llm_view",
    "metric_sentence",
    "routing",
    "tasks",
]

# Metrics graded right or wrong per item: the headline is the share right, Wilson interval.
_SHARE_METRICS: frozenset[TaskMetric] = frozenset({"accuracy", "exact_match", "regex"})
# Graded scores in [0, 1]: the headline is the mean score; the share graded right follows.
_GRADED_METRICS: frozenset[TaskMetric] = frozenset({"token_f1", "judge"})

_METRIC_LABELS: dict[TaskMetric, str] = {
    "accuracy": "accuracy",
    "exact_match": "exact match",
    "regex": "regex match",
    "token_f1": "token F1",
    "judge": "judge score",
    "pass@1": "pass@1",
}

_METRIC_SENTENCES: dict[TaskMetric, str] = {
    "accuracy": "accuracy, the share of questions answered with the right choice, with its "
    "Wilson 95% interval",
    "exact_match": "exact match, the share of answers equal to a reference once both are "
    "normalised (SQuAD: lower case, no punctuation or articles), with its Wilson 95% interval",
    "regex": "regex match, the share of answers the expected pattern accepts, with its Wilson "
    "95% interval",
    "token_f1": "token F1, the mean token overlap with the best reference in [0, 1], with a "
    "bootstrap 95% interval; accuracy is the share whose F1 reached the task's threshold, with "
    "its Wilson interval",
    "judge": "judge score, the judge's grade normalised to [0, 1] and averaged, with a "
    "bootstrap 95% interval; accuracy is the share the judge passed, with its Wilson interval",
    "pass@1": "pass@1, the unbiased estimate c/n per problem (c of n drafts pass the tests) "
    "averaged over the problems, with a bootstrap 95% interval",
}

# A routing file is linked only when it is a plain file name beside the report: never a path,
# never a URL.
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class TaskView:
    """One task: its metric in words, a row per model, and its slices."""

    anchor: str
    name: str
    kinds: str
    """The task kind(s) and route(s), e.g. ``multiple_choice, route default``."""
    metric: str
    """Which metric heads the table, in a sentence."""
    table: Table
    slices: tuple[tuple[str, Table], ...] = ()
    """Per slice key: rows are slice values, a column of the task's figure per model, and n."""


@dataclass(frozen=True, slots=True)
class BudgetView:
    """The monthly budget of one model's declared workload."""

    facts: tuple[tuple[str, str], ...]
    """Total, volumes, the limit and whether the total is within it."""
    assumptions: tuple[str, ...]
    formulas: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CostView:
    """One model's LLM costs: the formulas, its budget and its break-even, when it has them."""

    anchor: str
    name: str
    color: str
    formulas: tuple[str, ...]
    budget: BudgetView | None
    break_even_facts: tuple[tuple[str, str], ...]
    break_even: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoutingFile:
    name: str
    href: str | None
    """The link, relative to the report; None when the name is not a plain file name."""


@dataclass(frozen=True, slots=True)
class LlmView:
    """What the renderings draw for an LLM run; empty parts are left out."""

    tasks: tuple[TaskView, ...] = ()
    pricing_source: str = ""
    costs: Table | None = None
    """A row per model with LLM costs: total, per request, per 1,000, per 1M, per correct."""
    cost_details: tuple[CostView, ...] = ()
    routing: Table | None = None
    routing_files: tuple[RoutingFile, ...] = ()

    @property
    def has_costs(self) -> bool:
        return self.costs is not None or bool(self.cost_details)


def metric_sentence(metric: TaskMetric) -> str:
    """What ``metric`` means, in words, as the task's table shows it."""
    return _METRIC_SENTENCES[metric]


# --------------------------------------------------------------------------------------------
# Tasks


def _task_names(report: Report) -> list[str]:
    names: list[str] = []
    for model in report.models:
        names += [t.name for t in model.tasks if t.name not in names]
    return names


def _headline(
    quality: TaskQuality | SliceScore, metric: TaskMetric
) -> tuple[float, Interval | None]:
    """The figure that heads a task's table under ``metric``, with its interval."""
    if metric in _SHARE_METRICS:
        return quality.accuracy, quality.accuracy_ci
    return quality.mean_score, quality.mean_score_ci


def _money(value: Money | None, currency: str | None) -> str:
    return fmt.money(value, currency) if value is not None else fmt.MISSING


def _ks(results: list[TaskResult]) -> list[str]:
    """The pass@k levels beyond k = 1 that some model has, smallest first."""
    ks = {k for r in results for k in r.pass_at_k if k != "1"}
    return sorted(ks, key=lambda k: (int(k) if k.isdigit() else 1 << 30, k))


def _task_table(
    report: Report, by_model: list[tuple[ModelResult, str, TaskResult | None]]
) -> tuple[Table, list[TaskMetric]]:
    present = [r for _m, _c, r in by_model if r is not None]
    metrics: list[TaskMetric] = []
    for r in present:
        if r.quality.metric not in metrics:
            metrics.append(r.quality.metric)
    graded = any(m in _GRADED_METRICS for m in metrics)
    ks = _ks(present)
    headline = f"{_METRIC_LABELS[metrics[0]]} (95% CI)" if len(metrics) == 1 else "score (95% CI)"
    columns = [Column("model"), Column(headline, numeric=True)]
    if graded:
        columns.append(Column("accuracy (95% CI)", numeric=True))
    columns += [Column(f"pass@{k}", numeric=True) for k in ks]
    columns += [
        Column("n", numeric=True),
        Column("failed", numeric=True),
        Column("cached", numeric=True),
        Column("cost / correct answer", numeric=True),
    ]
    currency = {m.name: m.llm_cost.currency for m, _c, _r in by_model if m.llm_cost is not None}
    chosen = report.recommendation.chosen
    rows = []
    for model, color, result in by_model:
        if result is None:
            cells = [model.name] + [fmt.MISSING] * (len(columns) - 1)
            rows.append(Row(tuple(cells), color=color, chosen=model.name == chosen))
            continue
        q = result.quality
        value, ci = _headline(q, q.metric)
        cells = [model.name, fmt.with_interval(value, ci)]
        if graded:
            cells.append(
                fmt.with_interval(q.accuracy, q.accuracy_ci)
                if q.metric in _GRADED_METRICS
                else fmt.MISSING
            )
        cells += [fmt.score(result.pass_at_k.get(k)) for k in ks]
        cells += [
            fmt.integer(q.n),
            fmt.integer(q.n_failed),
            fmt.integer(result.cached),
            _money(result.cost_per_correct, currency.get(model.name)),
        ]
        rows.append(Row(tuple(cells), color=color, chosen=model.name == chosen))
    return Table(tuple(columns), tuple(rows), badge="recommended"), metrics


def _task_slices(
    by_model: list[tuple[ModelResult, str, TaskResult | None]],
) -> tuple[tuple[str, Table], ...]:
    """Like the classification "Quality by slice": one n column when every model agrees."""
    results = [(m, r) for m, _c, r in by_model if r is not None and r.quality.by_slice]
    keys: dict[str, set[str]] = {}
    for _m, r in results:
        for key, by_value in r.quality.by_slice.items():
            keys.setdefault(key, set()).update(by_value)
    out = []
    for key, values in keys.items():
        having = [(m, r) for m, r in results if key in r.quality.by_slice]
        cells_by_value = {
            value: [r.quality.by_slice[key].get(value) for _m, r in having]
            for value in sorted(values)
        }
        shared_n = all(
            len({c.n for c in cells if c is not None}) <= 1 for cells in cells_by_value.values()
        )
        columns = [Column(key)]
        if shared_n:
            columns.append(Column("n", numeric=True))
        for model, result in having:
            label = _METRIC_LABELS[result.quality.metric]
            columns.append(Column(f"{model.name} {label}", numeric=True))
            if not shared_n:
                columns.append(Column(f"{model.name} n", numeric=True))
        rows = []
        for value, cells in cells_by_value.items():
            row = [value]
            if shared_n:
                row.append(next((fmt.integer(c.n) for c in cells if c is not None), fmt.MISSING))
            for (_m, result), cell in zip(having, cells, strict=True):
                if cell is None:
                    row.append(fmt.MISSING)
                else:
                    row.append(fmt.with_interval(*_headline(cell, result.quality.metric)))
                if not shared_n:
                    row.append(fmt.integer(cell.n) if cell is not None else fmt.MISSING)
            rows.append(Row(tuple(row)))
        out.append((key, Table(tuple(columns), tuple(rows))))
    return tuple(out)


def _kinds(results: list[TaskResult]) -> str:
    pairs: list[str] = []
    for r in results:
        text = f"{r.kind}, route {r.route}"
        if text not in pairs:
            pairs.append(text)
    return "; ".join(pairs)


def tasks(report: Report) -> tuple[TaskView, ...]:
    """One view per task, in the order the tasks first appear among the models."""
    colors = model_colors(report)
    out = []
    for i, name in enumerate(_task_names(report), start=1):
        by_model = [
            (model, color, next((t for t in model.tasks if t.name == name), None))
            for model, color in zip(report.models, colors, strict=True)
            if model.tasks
        ]
        table, metrics = _task_table(report, by_model)
        present = [r for _m, _c, r in by_model if r is not None]
        metric = "Metric: " + "; ".join(metric_sentence(m) for m in metrics) + "."
        if _ks(present):
            metric += " pass@k: the unbiased estimate that at least one of k drafts passes."
        if any(r.cost_per_correct is not None for r in present):
            metric += " Cost / correct answer: this task's token cost / its correct answers."
        metric += " Failed requests count as wrong."
        out.append(
            TaskView(
                anchor=f"task-{i}",
                name=name,
                kinds=_kinds(present),
                metric=metric,
                table=table,
                slices=_task_slices(by_model),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Costs and budget


def _cost_table(report: Report) -> Table | None:
    priced = [
        (model, color)
        for model, color in zip(report.models, model_colors(report), strict=True)
        if model.llm_cost is not None
    ]
    if not priced:
        return None
    columns = (
        Column("model"),
        Column("requests", numeric=True),
        Column("tokens", numeric=True),
        Column("total", numeric=True),
        Column("per request", numeric=True),
        Column("per 1,000 evaluated requests", numeric=True),
        Column("per 1M tokens", numeric=True),
        Column("per correct answer", numeric=True),
        Column("blended 3:1 per 1M", numeric=True),
    )
    chosen = report.recommendation.chosen
    rows = []
    for model, color in priced:
        c = model.llm_cost
        assert c is not None
        rows.append(
            Row(
                (
                    model.name,
                    fmt.integer(c.requests),
                    fmt.integer(c.total_tokens),
                    _money(c.total, c.currency),
                    _money(c.per_request, c.currency),
                    _money(c.per_1000_requests, c.currency),
                    _money(c.per_1m_tokens, c.currency),
                    _money(c.per_correct_answer, c.currency),
                    _money(c.blended_3_to_1_per_1m, c.currency),
                ),
                color=color,
                chosen=model.name == chosen,
            )
        )
    return Table(columns, tuple(rows), badge="recommended", compact=True)


def _budget(model: ModelResult) -> BudgetView | None:
    b = model.budget
    if b is None:
        return None
    facts = [("Total per month", fmt.money(b.total, b.currency))]
    if b.requests_per_month is not None:
        facts.append(("Requests per month", fmt.significant(float(b.requests_per_month))))
    facts += [
        ("Input tokens per month", fmt.significant(float(b.input_tokens_per_month))),
        ("Output tokens per month", fmt.significant(float(b.output_tokens_per_month))),
    ]
    if b.limit is not None:
        facts.append(("Monthly limit", fmt.money(b.limit, b.currency)))
    if b.within_budget is not None:
        facts.append(("Verdict", "within the budget" if b.within_budget else "over the budget"))
    elif b.limit is None:
        facts.append(("Monthly limit", "none declared"))
    return BudgetView(
        facts=tuple(facts),
        assumptions=tuple(b.assumptions),
        formulas=tuple(b.explanation),
    )


_CHEAPER = {"api": "the API", "self_hosted": "self-hosting", "same": "neither (equal)"}


def _break_even_facts(model: ModelResult) -> tuple[tuple[str, str], ...]:
    be = model.break_even
    if be is None:
        return ()
    volume = be.break_even_requests_per_month
    facts = [
        ("API cost per request", fmt.money(be.api_cost_per_request, be.currency)),
        ("Self-hosted fixed cost per month", fmt.money(be.fixed_monthly_cost, be.currency)),
        (
            "Break-even",
            f"{fmt.significant(float(volume))} requests per month"
            if volume is not None
            else "none (the API is free)",
        ),
        ("Self-hosting can cost less", fmt.yes_no(be.self_hosting_can_win)),
    ]
    if be.cheaper is not None:
        facts.append(("Cheaper at the declared volume", _CHEAPER[be.cheaper]))
    return tuple(facts)


def costs(report: Report) -> tuple[Table | None, tuple[CostView, ...]]:
    """The cost table (a row per model with LLM costs) and each model's formulas."""
    details = []
    for i, (model, color) in enumerate(zip(report.models, model_colors(report), strict=True)):
        if model.llm_cost is None and model.budget is None and model.break_even is None:
            continue
        details.append(
            CostView(
                anchor=f"costs-{i + 1}",
                name=model.name,
                color=color,
                formulas=tuple(model.llm_cost.explanation) if model.llm_cost else (),
                budget=_budget(model),
                break_even_facts=_break_even_facts(model),
                break_even=tuple(model.break_even.explanation) if model.break_even else (),
            )
        )
    return _cost_table(report), tuple(details)


# --------------------------------------------------------------------------------------------
# Routing


def _routing_file(name: str) -> RoutingFile:
    return RoutingFile(name=name, href=name if _FILE_NAME.fullmatch(name) else None)


def routing(report: Report) -> tuple[Table | None, tuple[RoutingFile, ...]]:
    """Route → model → reason, and the router configurations written beside the report."""
    files = tuple(_routing_file(name) for name in report.routing_files)
    if not report.routing:
        return None, files
    colors = dict(zip((m.name for m in report.models), model_colors(report), strict=True))
    rows = tuple(
        Row((choice.route, choice.model, choice.reason), color=colors.get(choice.model))
        for choice in report.routing
    )
    columns = (Column("route"), Column("model"), Column("reason"))
    return Table(columns, rows, key_column=1), files


def llm_view(report: Report) -> LlmView:
    cost_table, cost_details = costs(report)
    routing_table, files = routing(report)
    return LlmView(
        tasks=tasks(report),
        pricing_source=report.pricing_source or "",
        costs=cost_table,
        cost_details=cost_details,
        routing=routing_table,
        routing_files=files,
    )
