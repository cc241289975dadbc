"""Line chart: series of points against a numeric axis, with guides and non-overlapping labels."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelmeter.report.charts.scatter import boxes_overlap
from modelmeter.report.charts.svg import (
    INK,
    LIMIT,
    MUTED,
    WIDTH,
    LegendItem,
    Scale,
    Svg,
    draw_legend,
    fit_text,
    legend_rows,
    log_ticks,
    nice_ticks,
    num,
    text_width,
    x_axis,
    y_axis,
)

__all__ = ["Curve", "CurvePoint", "Guide", "line_chart"]


@dataclass(frozen=True, slots=True)
class CurvePoint:
    x: float
    y: float
    label: str = ""
    """Text printed next to the point (where it finds room); the tooltip always has it."""
    tooltip: str = ""
    hollow: bool = False
    """Drawn as a ring (e.g. a client-bound load level)."""
    highlight: bool = False
    """Circled in ink (e.g. the best load level of an SLA search)."""


@dataclass(frozen=True, slots=True)
class Curve:
    label: str
    color: str
    points: tuple[CurvePoint, ...]
    """Joined in the order given."""
    dash: str | None = None
    marker: float = 4.5
    """Radius of the point markers; 0 draws none."""


@dataclass(frozen=True, slots=True)
class Guide:
    """A horizontal reference line across the plot, such as an SLA limit."""

    value: float
    label: str
    color: str = LIMIT


def _label_candidates(
    px: float, py: float, w: float, gap: float
) -> tuple[tuple[float, float, str, tuple[float, float, float, float]], ...]:
    """Places for a label of width ``w`` around a point: right, left, above, below, diagonals."""
    return (
        (px + gap, py + 4, "start", (px + gap, py - 8, px + gap + w, py + 5)),
        (px - gap, py + 4, "end", (px - gap - w, py - 8, px - gap, py + 5)),
        (px, py - gap - 2, "middle", (px - w / 2, py - gap - 13, px + w / 2, py - gap)),
        (px, py + gap + 10, "middle", (px - w / 2, py + gap - 1, px + w / 2, py + gap + 12)),
        (
            px + gap - 2,
            py - gap,
            "start",
            (px + gap - 2, py - gap - 11, px + gap - 2 + w, py - gap),
        ),
        (
            px + gap - 2,
            py + gap + 8,
            "start",
            (px + gap - 2, py + gap - 3, px + gap - 2 + w, py + gap + 10),
        ),
        (px - gap + 2, py - gap, "end", (px - gap + 2 - w, py - gap - 11, px - gap + 2, py - gap)),
        (
            px - gap + 2,
            py + gap + 8,
            "end",
            (px - gap + 2 - w, py + gap - 3, px - gap + 2, py + gap + 10),
        ),
    )


def line_chart(
    curves: Sequence[Curve],
    *,
    chart_id: str,
    title: str,
    x_label: str,
    y_label: str,
    desc: str,
    guides: Sequence[Guide] = (),
    legend: Sequence[LegendItem] | None = None,
    diagonal: str | None = None,
    plot_height: float = 280,
    log_x: bool = False,
) -> str:
    """Lines through points on axes from zero, y on a log scale when it spans more than ~1.5
    decades (latency past saturation); with ``log_x``, x on a log scale when it spans 8× or
    more (load levels that double). ``diagonal`` draws y = x with that label (offered load).

    Point labels are placed off other labels, points and lines; a label with no free place is
    left out (its point's tooltip still names it).
    """
    if legend is None:
        legend = [LegendItem(c.label, c.color, "dash" if c.dash else "line") for c in curves]
    left, right = 70.0, WIDTH - 30.0
    rows = legend_rows(legend, right - left)
    top = 44.0 + 18 * len(rows) + 8
    height = top + plot_height + 56
    bottom = height - 56

    xs = [p.x for c in curves for p in c.points]
    ys = [p.y for c in curves for p in c.points] + [g.value for g in guides]
    if diagonal is not None and xs:
        ys.append(max(xs))
    positive = [y for y in ys if y > 0]
    log = bool(positive) and len(positive) == len(ys) and max(positive) / min(positive) > 30
    log_x = log_x and bool(xs) and min(xs) > 0 and max(xs) / min(xs) >= 8
    y_note = " (log scale)" if log else ""
    x_note = " (log scale)" if log_x else ""
    svg = Svg(chart_id, WIDTH, height, title, desc)
    svg.text(left, 22, fit_text(title, WIDTH - left - 16, 15), size=15, weight="600")
    draw_legend(svg, rows, left, 44)

    if log_x:
        x_ticks = log_ticks(min(xs), max(xs))
    else:
        x_ticks = nice_ticks(0.0, max(xs) * 1.04 if xs and max(xs) > 0 else 1.0)
    if log:
        y_ticks = log_ticks(min(positive), max(positive))
    else:
        y_ticks = nice_ticks(0.0, max(ys) * 1.04 if ys and max(ys) > 0 else 1.0)
    sx = Scale(x_ticks[0], x_ticks[-1], left, right, log=log_x)
    sy = Scale(y_ticks[0], y_ticks[-1], bottom, top, log=log)
    x_axis(svg, sx, x_ticks, bottom, top, x_label + x_note)
    y_axis(svg, sy, y_ticks, left, right, y_label + y_note)

    labels: list[tuple[float, float, float, float]] = []
    lines: list[tuple[float, float, float, float]] = []

    def free(
        box: tuple[float, float, float, float],
        obstacles: Sequence[tuple[float, float, float, float]],
    ) -> bool:
        inside = box[0] >= left + 2 and box[2] <= WIDTH - 2 and box[1] >= top
        return inside and box[3] <= bottom and not any(boxes_overlap(box, o) for o in obstacles)

    def sample(x1: float, y1: float, x2: float, y2: float) -> None:
        steps = max(1, int(math.hypot(x2 - x1, y2 - y1) / 6))
        for k in range(steps + 1):
            x, y = x1 + (x2 - x1) * k / steps, y1 + (y2 - y1) * k / steps
            lines.append((x - 2, y - 2, x + 2, y + 2))

    def polyline(pts: Sequence[tuple[float, float]]) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{num(x)} {num(y)}" for i, (x, y) in enumerate(pts)
        )

    for guide in guides:
        gy = sy(guide.value)
        svg.line(left, gy, right, gy, stroke=guide.color, width=1.5, dash="7 4")
    if diagonal is not None:
        # y = x, sampled so that it stays true on log axes.
        lo = max(x_ticks[0], y_ticks[0]) if (log or log_x) else 0.0
        hi = min(x_ticks[-1], y_ticks[-1])
        if hi > lo:
            steps = 48
            diag = [
                (sx(v), sy(v))
                for v in (
                    lo * (hi / lo) ** (k / steps) if lo > 0 else lo + (hi - lo) * k / steps
                    for k in range(steps + 1)
                )
            ]
            svg.path(polyline(diag), stroke=MUTED, width=1.2, dash="2 3", tooltip=diagonal)
            for (x1, y1), (x2, y2) in itertools.pairwise(diag):
                sample(x1, y1, x2, y2)
            end_x, end_y = diag[-1]
            svg.text(end_x - 4, end_y + 14, diagonal, size=10.5, anchor="end", fill=MUTED)
            w = text_width(diagonal, 10.5)
            labels.append((end_x - 4 - w, end_y + 3, end_x - 4, end_y + 16))

    for curve in curves:
        pts = [(sx(p.x), sy(p.y)) for p in curve.points]
        if len(pts) >= 2:
            svg.path(
                polyline(pts), stroke=curve.color, width=2.2, dash=curve.dash, tooltip=curve.label
            )
            for (x1, y1), (x2, y2) in itertools.pairwise(pts):
                sample(x1, y1, x2, y2)
    points: list[tuple[float, float, float, float]] = []
    for curve in curves:
        if curve.marker <= 0:
            continue
        r = curve.marker
        for p in curve.points:
            px, py = sx(p.x), sy(p.y)
            points.append((px - r - 3, py - r - 3, px + r + 3, py + r + 3))
            if p.highlight:
                svg.circle(px, py, r + 4.5, fill="#ffffff", stroke=INK, stroke_width=1.5)
            tip = p.tooltip or p.label or None
            if p.hollow:
                svg.circle(
                    px, py, r, fill="#ffffff", stroke=curve.color, stroke_width=2, tooltip=tip
                )
            else:
                svg.circle(px, py, r, fill=curve.color, tooltip=tip)

    for guide in guides:
        # Above the line at the left end, where the curve (low load, low latency) rarely is;
        # else wherever it is clear of the curves.
        gy = sy(guide.value)
        w = text_width(guide.label, 10.5)
        places = (
            (left + 6, gy - 5, "start", (left + 6, gy - 15, left + 6 + w, gy - 3)),
            (right - 2, gy - 5, "end", (right - 2 - w, gy - 15, right - 2, gy - 3)),
            (left + 6, gy + 14, "start", (left + 6, gy + 3, left + 6 + w, gy + 16)),
            (right - 2, gy + 14, "end", (right - 2 - w, gy + 3, right - 2, gy + 16)),
        )
        place = next((c for c in places if free(c[3], [*points, *lines, *labels])), places[0])
        svg.text(place[0], place[1], guide.label, size=10.5, anchor=place[2], fill=guide.color)
        labels.append(place[3])

    for curve in curves:
        for p in curve.points:
            if not p.label:
                continue
            px, py = sx(p.x), sy(p.y)
            label = fit_text(p.label, 120, 11)
            candidates = _label_candidates(px, py, text_width(label, 11), curve.marker + 6)
            own = (px - 1, py - 1, px + 1, py + 1)
            others = [b for b in points if not boxes_overlap(b, own)] + labels
            chosen = next((c for c in candidates if free(c[3], [*others, *lines])), None)
            if chosen is None:
                chosen = next((c for c in candidates if free(c[3], others)), None)
            if chosen is None:
                continue
            labels.append(chosen[3])
            svg.text(chosen[0], chosen[1], label, size=11, anchor=chosen[2], fill=INK)
    return svg.render()
