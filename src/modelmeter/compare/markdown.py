"""The gate as Markdown, for a pull-request comment or a CI job summary.

It leads with the verdict, then one line per check, then the figures a reviewer needs to judge
the verdict: the paired quality test with its interval and adjusted p-value, and each model's
headline figures in both runs. Everything comes from the :class:`ComparisonResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from modelmeter._money import format_money
from modelmeter.compare.model import ComparisonResult, ModelFigures
from modelmeter.stats import format_p_value

__all__ = ["to_markdown"]

_MARKS = {"pass": "✅ pass", "fail": "❌ fail", "warn": "⚠️ warn", "skip": "➖ skip"}


def _cell(text: str) -> str:
    """Table cells may not hold a pipe or a line break."""
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _number(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _money(amount: Decimal | None, currency: str) -> str:
    return "–" if amount is None else format_money(amount, currency)


def _quality(figures: ModelFigures) -> str:
    if figures.quality is None or figures.quality_metric is None:
        return "–"
    text = f"{figures.quality_metric} {figures.quality:.3f}"
    if figures.quality_low is not None and figures.quality_high is not None:
        text += f" ({figures.quality_low:.3f}–{figures.quality_high:.3f})"
    return text


def _budget(figures: ModelFigures) -> str:
    if figures.monthly_cost is None:
        return "–"
    text = _money(figures.monthly_cost, figures.currency)
    if figures.monthly_budget is not None:
        text += f" of {_money(figures.monthly_budget, figures.currency)}"
    return text


def to_markdown(result: ComparisonResult) -> str:
    """A Markdown summary: verdict, checks, quality tests and the figures of both runs."""
    title = (
        f"## modelmeter compare: {result.baseline_run} → {result.new_run}"
        if result.baseline_run != result.new_run
        else f"## modelmeter compare: run {result.new_run}"
    )
    if result.passed:
        verdict = "**✅ No regression.**"
    else:
        verdict = f"**❌ {result.failures} regression(s) or breach(es).**"
    if result.warnings:
        verdict += f" {result.warnings} warning(s)."
    out = [
        title,
        "",
        verdict,
        "",
        f"BASELINE: {result.baseline_name} (run {result.baseline_run}); NEW: {result.new_name} "
        f"(run {result.new_run}). α = {result.alpha:g} (Holm-adjusted over the models), "
        f"quality tolerance {result.tolerance:g} absolute, latency tolerance "
        f"{result.latency_tolerance:.0%} of P95.",
        "",
        "### Checks",
        "",
    ]
    out += _table(
        ["model", "check", "result", "detail"],
        [
            [model.label, check.name, _MARKS[check.status], check.message]
            for model in result.models
            for check in model.checks
        ],
    )
    tested = [model for model in result.models if model.quality is not None]
    if tested:
        out += ["", "### Quality on the shared items", ""]
        rows = []
        for model in tested:
            q = model.quality
            assert q is not None
            rows.append(
                [
                    model.label,
                    q.metric,
                    f"{q.baseline_value:.4f}",
                    f"{q.new_value:.4f}",
                    f"{q.difference:+.4f} ({q.interval_low:+.4f} to {q.interval_high:+.4f})",
                    format_p_value(q.p_value, result.alpha),
                    format_p_value(q.adjusted_p_value, result.alpha),
                    str(q.n_shared),
                    f"{q.only_in_baseline} / {q.only_in_new}",
                    q.method,
                ]
            )
        level = f"{round((1.0 - result.alpha) * 100, 6):g}%"
        out += _table(
            [
                "model",
                "metric",
                "baseline",
                "new",
                f"new − baseline ({level} interval)",
                "p",
                "Holm p",
                "shared items",
                "only baseline / only new",
                "test",
            ],
            rows,
        )
        out += [""]
        out += [f"- {model.label}: {model.quality.sentence}." for model in tested if model.quality]
    out += ["", "### Figures", ""]
    rows = []
    for model in result.models:
        for role, figures in (("baseline", model.baseline), ("new", model.new)):
            rows.append(
                [
                    model.label,
                    f"{role} ({figures.model})",
                    _quality(figures),
                    _number(figures.p95_ms, ",.1f"),
                    _number(figures.error_rate, ".1%"),
                    _money(figures.cost_per_1000_requests, figures.currency),
                    "met" if figures.sla_met else "missed: " + "; ".join(figures.sla_violations),
                    _budget(figures),
                ]
            )
    out += _table(
        [
            "model",
            "run",
            "quality (95% interval)",
            "P95 ms",
            "errors",
            "cost / 1,000 req",
            "SLA",
            "monthly cost",
        ],
        rows,
    )
    if result.notes:
        out += ["", "### Notes", "", *[f"- {note}" for note in result.notes]]
    return "\n".join(out) + "\n"
