"""The Report and its renderings: HTML (self-contained, with charts), Markdown and JSON.

``report/`` renders what a Report holds; it computes nothing that is not already in it.
"""

from modelmeter.report.html import render_html
from modelmeter.report.json import render_json
from modelmeter.report.markdown import render_markdown
from modelmeter.report.model import (
    ClassMetrics,
    CostResult,
    HostFacts,
    Interval,
    LatencySummary,
    LlmLoadMetrics,
    LoadResult,
    ModelResult,
    QualityResult,
    RankedModel,
    Recommendation,
    Report,
    SlaCheck,
    SliceQuality,
    SweepPoint,
    SweepResult,
)
from modelmeter.report.write import write_report

__all__ = [
    "ClassMetrics",
    "CostResult",
    "HostFacts",
    "Interval",
    "LatencySummary",
    "LlmLoadMetrics",
    "LoadResult",
    "ModelResult",
    "QualityResult",
    "RankedModel",
    "Recommendation",
    "Report",
    "SlaCheck",
    "SliceQuality",
    "SweepPoint",
    "SweepResult",
    "render_html",
    "render_json",
    "render_markdown",
    "write_report",
]
