"""Render a Report as GitHub-flavoured Markdown (the same tables as the HTML, without charts)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from modelmeter.report import _decision_tables, _llm_tables, _tables
from modelmeter.report import _format as fmt
from modelmeter.report._decision_tables import DecisionView, LinkedFile
from modelmeter.report._format import INTERRUPTED_BANNER
from modelmeter.report._llm_tables import LlmView
from modelmeter.report._tables import Table
from modelmeter.results import Report

# Characters that Markdown (or the HTML it passes through) reads as syntax anywhere in a line.
_INLINE = frozenset("\\`*[]<>|&~")
# A line that starts like this would become a heading, list item, quote or rule.
_LINE_START = re.compile(r"^(\s*)(?:(\d+)([.)])|([#+=-]))")


def _inline(text: str) -> str:
    flat = " ".join(text.split())
    out = []
    for i, ch in enumerate(flat):
        if ch == "_":
            # Only an underscore at a word boundary can start emphasis; ``x86_64`` stays as is.
            before = flat[i - 1] if i > 0 else " "
            after = flat[i + 1] if i + 1 < len(flat) else " "
            out.append("_" if before.isalnum() and after.isalnum() else "\\_")
        elif ch in _INLINE:
            out.append(f"\\{ch}")
        else:
            out.append(ch)
    return "".join(out)


def escape(text: str) -> str:
    """``text`` shown literally on one line: syntax characters backslash-escaped.

    Figures such as ``0.881 (0.862–0.899)`` pass unchanged, so they read the same as in HTML.
    """
    line = _inline(text)
    match = _LINE_START.match(line)
    if match is None:
        return line
    at = match.start(3) if match.group(2) else match.start(4)
    return line[:at] + "\\" + line[at:]


# A table cell or list value: inline syntax and the column separator escaped.
_cell = _inline


def table(t: Table) -> list[str]:
    header = "| " + " | ".join(_cell(c.header) for c in t.columns) + " |"
    rule = "|" + "|".join("---:" if c.numeric else "---" for c in t.columns) + "|"
    lines = [header, rule]
    for row in t.rows:
        cells = [_cell(cell) for cell in row.cells]
        key = t.key_column
        if row.chosen and key < len(cells) and cells[key]:
            cells[key] = f"**{cells[key]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _facts(items: Sequence[tuple[str, str]]) -> list[str]:
    return [f"- **{_cell(label)}:** {_cell(value)}" for label, value in items]


def _items(lines: Sequence[str]) -> list[str]:
    return [f"- {escape(line)}" for line in lines]


def _tasks(llm: LlmView) -> list[str]:
    if not llm.tasks:
        return []
    out = [
        "",
        "## Tasks",
        "",
        "Each LLM task (evaluation set) with its own metric; intervals are 95%, n counts the "
        "items, failed the items without an answer or a grade, cached the answers taken from "
        "the response cache.",
    ]
    for task in llm.tasks:
        out += ["", f"### {escape(task.name)}", ""]
        if task.kinds:
            out += [f"*{_cell(task.kinds)}*", ""]
        out += [escape(task.metric), "", *table(task.table)]
        for key, slice_table in task.slices:
            out += ["", f"#### By {escape(key)}", "", *table(slice_table)]
    return out


def _costs(llm: LlmView) -> list[str]:
    if not llm.has_costs:
        return []
    out = ["", "## Costs and budget", ""]
    if llm.pricing_source:
        out += [f"Prices: {escape(llm.pricing_source)}", ""]
    out.append(
        "What the evaluated requests cost; blended 3:1 is the list price weighted 3 input : 1 "
        "output, as leaderboards quote it, for comparison only."
    )
    if llm.costs is not None:
        out += ["", *table(llm.costs)]
    for c in llm.cost_details:
        out += ["", f"### {escape(c.name)}"]
        if c.formulas:
            out += ["", *_items(c.formulas)]
        if c.budget is not None:
            out += ["", "#### Monthly budget", "", *_facts(c.budget.facts)]
            if c.budget.assumptions:
                out += ["", "Assumptions:", "", *_items(c.budget.assumptions)]
            if c.budget.formulas:
                out += ["", "Formulas:", "", *_items(c.budget.formulas)]
        if c.break_even_facts or c.break_even:
            out += ["", "#### API or self-hosting", ""]
            out += _facts(c.break_even_facts)
            if c.break_even:
                out += ["", "Formulas:", "", *_items(c.break_even)]
    return out


def _plan(report: Report) -> list[str]:
    """The advice, by horizon: the 90-day plan."""
    if not report.advice:
        return []
    out = [
        "",
        "## Advice and 90-day plan",
        "",
        "Each step cites the measurement behind it, the effect to expect and how to check it.",
    ]
    for horizon in ("weeks 1-2", "weeks 3-6", "weeks 7-12"):
        items = [a for a in report.advice if a.horizon == horizon]
        if not items:
            continue
        out += ["", f"### {horizon.capitalize()}"]
        for item in items:
            out += [
                "",
                f"**{_cell(item.title)}.** {escape(item.finding)}",
                "",
                f"- **Do:** {_cell(item.action)}",
                f"- **Expected:** {_cell(item.expected_effect)}",
                f"- **Verify:** {_cell(item.verify)}",
            ]
    return out


def _routing(llm: LlmView) -> list[str]:
    if llm.routing is None:
        return []
    out = ["", "## Routing", "", "Which model takes each kind of request, and why.", ""]
    out += table(llm.routing)
    if llm.routing_files:
        out += ["", "Router configurations written beside this report:", ""]
        for f in llm.routing_files:
            name = _cell(f.name)
            out.append(f"- [{name}]({f.href})" if f.href is not None else f"- {name}")
    return out


def _link(f: LinkedFile) -> str:
    name = _cell(f.name)
    return f"[{name}]({f.href})" if f.href is not None else name


def _comparisons(decision: DecisionView) -> list[str]:
    c = decision.comparisons
    if c is None:
        return []
    note = f"Each pair of models compared on the same items. {c.methods}"
    if c.definitions:
        note += " See Definitions: " + ", ".join(label for label, _key in c.definitions) + "."
    out = ["", "## Are the differences real?", "", escape(note)]
    if c.groups:
        out += ["", "Models by quality, in groups the tests cannot tell apart:", ""]
        out += [f"{i}. {_cell(line)}" for i, line in enumerate(c.groups, start=1)]
    if c.table is not None:
        out += ["", *table(c.table)]
        if c.sentences:
            out += ["", *_items(c.sentences)]
    return out


def _capacity(decision: DecisionView) -> list[str]:
    c = decision.capacity
    if c is None:
        return []
    out = [
        "",
        "## Capacity plan",
        "",
        escape(
            f"Replicas, autoscaling and monthly cost for {c.model} at the declared load, from "
            "one replica's measured capacity."
        ),
        "",
        *_facts(c.facts),
    ]
    if c.explanation:
        out += ["", "How it was computed:", "", *_items(c.explanation)]
    if c.manifest is not None:
        out += [
            "",
            "Kubernetes manifests (the Deployment and its autoscaler) written beside this "
            f"report: {_link(c.manifest)}",
        ]
    return out


def _business(decision: DecisionView) -> list[str]:
    b = decision.business
    if b is None:
        return []
    out = ["", "## Business case", "", f"### {escape(b.title)}", ""]
    out += [f"> **Verdict:** {_cell(b.verdict)}.", "", *_facts(b.facts)]
    if b.ranges_note:
        out += ["", escape(b.ranges_note)]
    if b.explanation:
        out += ["", "How it was computed:", "", *_items(b.explanation)]
    return out


def render_markdown(report: Report) -> str:
    """The report as Markdown; figures are formatted exactly as in the HTML report."""
    view = _tables.view(report)
    llm = _llm_tables.llm_view(report)
    decision = _decision_tables.decision_view(report)
    out: list[str] = [f"# {escape(report.name)}", "", "*modelmeter report*", ""]
    out += _facts(view.facts)
    if report.interrupted:
        out += ["", f"> **Interrupted run:** {INTERRUPTED_BANNER}"]
    if view.diagnoses:
        out += ["", "> **Load phases the target did not pace alone:**"]
        out += [f"> - {escape(name)}: {escape(text)}" for name, text in view.diagnoses]

    out += ["", "## Recommendation", ""]
    out += [
        f"> {escape(line)}" if line.strip() else ">"
        for line in report.recommendation.text.splitlines()
    ]
    out += ["", *table(view.priorities)]
    if report.decision is not None:
        out += ["", f"*How the choice is made:* {escape(report.decision.principle)}"]

    out += ["", "## Summary", "", *table(view.summary)]
    out += [
        "",
        "Latency is response time, measured from when each request was meant to be sent. "
        f"Intervals are 95%. ★ marks the Pareto frontier over quality, P95 latency and cost. "
        f"Missing values are shown as {fmt.MISSING}. The recommended model is in **bold**."
        + (f" {_tables.SUMMARY_LLM_NOTE}" if view.llm else ""),
    ]
    if view.client_bound:
        out += [
            "",
            "> **Client-bound:** "
            + ", ".join(escape(name) for name in view.client_bound)
            + ". The load generator may have set the pace in these runs, so their latency and "
            "throughput partly measure the client; see the model details.",
        ]
    out += _tasks(llm)

    out += ["", "## Ranking", "", *table(view.ranking)]
    if view.sla is not None:
        out += ["", "### SLA limits applied", "", *table(view.sla)]
    if view.weights is not None:
        out += ["", "### Priority weights", "", *table(view.weights)]

    out += ["", "Charts are in the HTML report."]
    out += _comparisons(decision)

    if view.slices:
        out += [
            "",
            "## Quality by slice",
            "",
            "F1 (macro) with its 95% interval where computed, and n, the samples in each slice.",
        ]
        for key, slice_table in view.slices:
            out += ["", f"### By {escape(key)}", "", *table(slice_table)]
    out += _costs(llm)
    out += _routing(llm)
    out += _capacity(decision)
    out += _business(decision)
    out += _plan(report)

    out += ["", "## Model details"]
    for m, model in zip(view.models, report.models, strict=True):
        title = escape(m.name) + (" (recommended)" if m.chosen else "")
        out += ["", f"### {title}", ""]
        tags = [f"target: {_cell(m.target_kind)}"]
        if m.on_frontier:
            tags.append("★ on the Pareto frontier")
        tags.append("SLA met" if m.sla_met else "SLA not met")
        out.append(" · ".join(tags))
        if m.description:
            out += ["", escape(m.description)]
        if m.sla_violations:
            out += ["", "> **SLA violations:** " + "; ".join(escape(v) for v in m.sla_violations)]

        out += ["", "#### Quality", ""]
        if m.quality is None:
            out.append(
                "Task scores are in Tasks."
                if model.tasks
                else "No quality was measured for this model."
            )
        else:
            out += [*_facts(m.quality_facts), "", *table(m.quality)]
            if m.per_class is not None:
                out += ["", "#### Per class", "", *table(m.per_class)]
            if m.confusion is not None:
                out += ["", "#### Confusion matrix", ""]
                out += table(m.confusion)

        out += ["", "#### Load", ""]
        if m.client_bound:
            out += [
                "> **Warning: client-bound run.** "
                + escape(
                    m.client_bound_reason
                    or "The load generator fell behind its schedule (schedule lag P99 passed "
                    "the threshold)."
                )
                + " Latency and throughput partly measure the client, not the model; rerun with "
                "fewer concurrent requests or more client CPU.",
                "",
            ]
        if m.load_facts:
            out += _facts(m.load_facts)
        else:
            out.append("No load phase was run for this model.")
        if m.latency is not None:
            out += ["", *table(m.latency)]
        if m.llm_facts:
            out += ["", "#### LLM timing", "", *_facts(m.llm_facts)]
            if m.llm is not None:
                out += ["", *table(m.llm)]
            note = m.token_source + (f" {_tables.LLM_COUNT_NOTE}" if m.llm is not None else "")
            out += ["", escape(note)]
        if m.sweep_facts:
            out += ["", f"#### {m.sweep_title}", "", *_facts(m.sweep_facts)]
            if m.sweep is not None:
                out += ["", *table(m.sweep)]

        out += ["", "#### Cost", "", *_facts(m.cost_facts)]
        if m.cost_explanation:
            out += ["", escape(m.cost_explanation)]

    if view.definitions:
        out += ["", "## Definitions", ""]
        out += [f"- **{_cell(key)}**: {escape(text)}" for key, text in view.definitions]
    if view.notes:
        out += ["", "## Notes", ""]
        out += [f"- {escape(note)}" for note in view.notes]
    return "\n".join(out) + "\n"
