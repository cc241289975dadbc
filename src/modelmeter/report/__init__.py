"""Renderings of a finished Report: HTML (self-contained, with charts), Markdown and JSON.

``report/`` renders what a :class:`~modelmeter.results.Report` holds; it computes nothing that is
not already in it. The result types themselves live in :mod:`modelmeter.results`.
"""

from modelmeter.report.html import render_html
from modelmeter.report.json import render_json
from modelmeter.report.markdown import render_markdown
from modelmeter.report.write import write_report

__all__ = [
    "render_html",
    "render_json",
    "render_markdown",
    "write_report",
]
