"""Scatter chart: one labelled point per model, with interval whiskers and a frontier."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelmeter.report.charts.svg import (
    INK,
    MUTED,
    WIDTH,
    LegendItem,
    Scale,
    Svg,
    draw_legend,
    fit_text,
    legend_rows,
    nice_ticks,
    num,
    padded,
    text_width,
    x_axis,
    y_axis,
)

__all__ = ["ScatterPoint", "boxes_overlap", "scatter_chart"]


# --------------------------------------------------------------------------------------------
# Chart types


@dataclass(frozen=True, slots=True)
class ScatterPoint:
    label: str
    x: float
    y: float
    color: str
    frontier: bool = False
    y_low: float | None = None
    y_high: float | None = None
    tooltip: str = ""


def boxes_overlap(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def scatter_chart(
    points: Sequence[ScatterPoint],
    *,
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    frontier_label: str = "Pareto frontier",
) -> str:
    """Points labelled with their names, optional y intervals, frontier points joined in x order.

    The frontier is drawn as a staircase when its quality rises with x (the usual shape: more
    quality costs more), and as a plain line otherwise. A label is placed right, left, above or
    below its point, off other labels, points and the frontier; where none of those is free (a
    crowded plot) the name moves to the legend instead of being printed over another.
    """
    svg, crowded = _scatter(points, chart_id, title, x_label, y_label, frontier_label, ())
    if crowded:
        svg, _ = _scatter(points, chart_id, title, x_label, y_label, frontier_label, crowded)
    return svg


def _scatter(
    points: Sequence[ScatterPoint],
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    frontier_label: str,
    in_legend: Sequence[int],
) -> tuple[str, list[int]]:
    """Draw the scatter with the points ``in_legend`` named in the legend; return the SVG and
    the points whose label found no free place."""
    legend: list[LegendItem] = []
    if any(p.frontier for p in points):
        legend.append(LegendItem(frontier_label, INK, "dash"))
    if any(p.y_low is not None and p.y_high is not None for p in points):
        legend.append(LegendItem("95% interval", MUTED, "errorbar"))
    legend += [LegendItem(points[i].label, points[i].color, "dot") for i in in_legend]
    left, right = 70.0, WIDTH - 30.0
    rows = legend_rows(legend, right - left)
    top = 44.0 + 18 * len(rows) + 8
    height = top + 290 + 56
    bottom = height - 56

    svg = Svg(chart_id, WIDTH, height, title, f"{y_label} against {x_label} for each model.")
    svg.text(left, 22, title, size=15, weight="600")
    draw_legend(svg, rows, left, 44)

    xs = [p.x for p in points]
    ys = [v for p in points for v in (p.y, p.y_low, p.y_high) if v is not None]
    x_lo, x_hi = padded(min(xs), max(xs), 0.12)
    if min(xs) >= 0:
        x_lo = max(0.0, x_lo)
    y_lo, y_hi = padded(min(ys), max(ys), 0.1)
    if max(ys) <= 1.0:
        y_hi = min(y_hi, 1.0)
    if min(ys) >= 0.0:
        y_lo = max(y_lo, 0.0)
    x_ticks = nice_ticks(x_lo, x_hi)
    y_ticks = nice_ticks(y_lo, y_hi)
    sx = Scale(x_ticks[0], x_ticks[-1], left, right)
    sy = Scale(y_ticks[0], y_ticks[-1], bottom, top)
    x_axis(svg, sx, x_ticks, bottom, top, x_label)
    y_axis(svg, sy, y_ticks, left, right, y_label)

    boxes: list[tuple[float, float, float, float]] = []
    frontier = sorted((p for p in points if p.frontier), key=lambda p: (p.x, p.y))
    if len(frontier) >= 2:
        rising = all(a.y <= b.y for a, b in itertools.pairwise(frontier))
        corners = [(sx(frontier[0].x), sy(frontier[0].y))]
        for p in frontier[1:]:
            if rising:
                corners.append((sx(p.x), corners[-1][1]))
            corners.append((sx(p.x), sy(p.y)))
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{num(x)} {num(y)}" for i, (x, y) in enumerate(corners)
        )
        svg.path(d, stroke=INK, width=1.5, dash="5 4", tooltip=frontier_label)
        # Keep labels off the line: its samples are obstacles for label placement.
        for (x1, y1), (x2, y2) in itertools.pairwise(corners):
            steps = max(1, int(math.hypot(x2 - x1, y2 - y1) / 6))
            for k in range(steps + 1):
                x, y = x1 + (x2 - x1) * k / steps, y1 + (y2 - y1) * k / steps
                boxes.append((x - 2, y - 2, x + 2, y + 2))

    for p in points:
        px, py = sx(p.x), sy(p.y)
        boxes.append((px - 8, py - 8, px + 8, py + 8))
        if p.y_low is not None and p.y_high is not None:
            lo_y, hi_y = sy(p.y_low), sy(p.y_high)
            svg.line(px, lo_y, px, hi_y, stroke=p.color, width=1.5)
            svg.line(px - 4, lo_y, px + 4, lo_y, stroke=p.color, width=1.5)
            svg.line(px - 4, hi_y, px + 4, hi_y, stroke=p.color, width=1.5)
    for p in points:
        px, py = sx(p.x), sy(p.y)
        if p.frontier:
            svg.circle(px, py, 9, fill="#ffffff", stroke=INK, stroke_width=1.5)
        svg.circle(px, py, 6, fill=p.color, tooltip=p.tooltip or p.label)

    crowded: list[int] = []
    legend_set = set(in_legend)
    for i, p in enumerate(points):
        if i in legend_set:
            continue
        px, py = sx(p.x), sy(p.y)
        label = fit_text(p.label, 180, 12)
        w = text_width(label, 12)
        candidates = (
            (px + 12, py + 4, "start", (px + 12, py - 9, px + 12 + w, py + 5)),
            (px - 12, py + 4, "end", (px - 12 - w, py - 9, px - 12, py + 5)),
            (px, py - 14, "middle", (px - w / 2, py - 27, px + w / 2, py - 13)),
            (px, py + 22, "middle", (px - w / 2, py + 9, px + w / 2, py + 23)),
            (px + 9, py - 11, "start", (px + 9, py - 24, px + 9 + w, py - 10)),
            (px + 9, py + 20, "start", (px + 9, py + 7, px + 9 + w, py + 21)),
            (px - 9, py - 11, "end", (px - 9 - w, py - 24, px - 9, py - 10)),
            (px - 9, py + 20, "end", (px - 9 - w, py + 7, px - 9, py + 21)),
        )
        chosen = None
        for candidate in candidates:
            box = candidate[3]
            inside = (
                box[0] >= left + 2 and box[2] <= WIDTH - 2 and box[1] >= top and box[3] <= bottom
            )
            if inside and not any(boxes_overlap(box, other) for other in boxes):
                chosen = candidate
                break
        if chosen is None:
            crowded.append(i)
            if not in_legend:
                continue
            chosen = candidates[0]
        boxes.append(chosen[3])
        svg.text(
            chosen[0],
            chosen[1],
            label,
            anchor=chosen[2],
            weight="600",
            tooltip=p.label if label != p.label else None,
        )
    return svg.render(), crowded
