"""Inline SVG charts for the HTML report, in pure Python.

Each chart function returns one ``<svg>`` element as a string. It is sized by ``viewBox`` (so it
scales down with its container), carries a ``<title>`` and ``<desc>`` for screen readers, and
gives every mark a ``<title>`` tooltip with the exact figure. No scripts, no external
references: the report opens offline.

``svg`` holds the primitives (surface, scales, axes, legends); ``scatter``, ``distributions``,
``lines`` and ``grids`` the chart kinds; ``figures`` maps a Report onto them
(:func:`build_charts`).
"""

from modelmeter.report.charts.distributions import Bar, CdfSeries, bar_chart, cdf_chart, cdf_points
from modelmeter.report.charts.figures import (
    Chart,
    best_point,
    build_charts,
    load_level,
    ordered_points,
    slice_layout,
)
from modelmeter.report.charts.grids import BarGroup, grouped_bar_chart, heatmap_chart
from modelmeter.report.charts.lines import Curve, CurvePoint, Guide, line_chart
from modelmeter.report.charts.scatter import ScatterPoint, scatter_chart
from modelmeter.report.charts.svg import PALETTE, log_ticks, model_colors, nice_ticks, tick_labels

__all__ = [
    "PALETTE",
    "Bar",
    "BarGroup",
    "CdfSeries",
    "Chart",
    "Curve",
    "CurvePoint",
    "Guide",
    "ScatterPoint",
    "bar_chart",
    "best_point",
    "build_charts",
    "cdf_chart",
    "cdf_points",
    "grouped_bar_chart",
    "heatmap_chart",
    "line_chart",
    "load_level",
    "log_ticks",
    "model_colors",
    "nice_ticks",
    "ordered_points",
    "scatter_chart",
    "slice_layout",
    "tick_labels",
]
