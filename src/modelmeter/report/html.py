"""Render a Report as one self-contained HTML file (inline CSS and SVG, no scripts, no URLs)."""

from __future__ import annotations

from functools import cache

import jinja2
from markupsafe import Markup

from modelmeter.report import _decision_tables, _llm_tables, _tables
from modelmeter.report import _format as fmt
from modelmeter.report.charts import Chart, build_charts
from modelmeter.results import Report

_TEMPLATE = "report.html.j2"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modelmeter.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["slug"] = fmt.slug
    return env


def _trusted(chart: Chart) -> Chart:
    """Mark chart SVG as safe for the template: charts.py escapes every text it writes."""
    if chart.svg is None:
        return chart
    return Chart(chart.id, chart.title, Markup(chart.svg), chart.caption)


def render_html(report: Report) -> str:
    """The report as an HTML page that opens offline and prints cleanly."""
    template = _environment().get_template(_TEMPLATE)
    return template.render(
        report=report,
        view=_tables.view(report),
        llm=_llm_tables.llm_view(report),
        decision=_decision_tables.decision_view(report),
        charts=[_trusted(chart) for chart in build_charts(report)],
        definitions=report.definitions,
        missing=fmt.MISSING,
        summary_llm_note=_tables.SUMMARY_LLM_NOTE,
        interrupted_banner=fmt.INTERRUPTED_BANNER,
        llm_count_note=_tables.LLM_COUNT_NOTE,
    )
