"""Render a Report as JSON: the versioned contract other tools read."""

from __future__ import annotations

from modelmeter.results import Report


def render_json(report: Report) -> str:
    """``report.json``: money is a plain JSON number, times are ISO 8601."""
    return report.model_dump_json(indent=2)
