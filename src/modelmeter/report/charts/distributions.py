"""Distribution charts: cumulative latency (CDF) curves with percentile marks, and bars."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelmeter.report import _format as fmt
from modelmeter.report.charts.svg import (
    AXIS,
    INK,
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

__all__ = ["Bar", "CdfSeries", "bar_chart", "cdf_chart", "cdf_points"]


@dataclass(frozen=True, slots=True)
class CdfSeries:
    label: str
    color: str
    points: tuple[tuple[float, float], ...]
    marker: float | None = None
    """x of the marker drawn at ``marker_level`` (the model's P95)."""


def cdf_points(
    buckets: Sequence[tuple[float, int]], upper: float | None = None
) -> tuple[tuple[float, float], ...]:
    """Cumulative share of requests at each bucket bound, from ``(upper bound, count)`` buckets.

    The line starts at the bound below the first non-empty bucket (where the share is exactly 0)
    and ends at the bucket that holds the last request. An unbounded last bucket is placed at
    ``upper`` (the observed maximum) when that is known, and left out otherwise.
    """
    ordered = sorted(buckets)
    total = sum(count for _, count in ordered if count > 0)
    if total == 0:
        return ()
    points: list[tuple[float, float]] = []
    seen = 0
    previous: float | None = None
    for bound, count in ordered:
        if count <= 0 and seen == 0:
            previous = bound
            continue
        if seen == 0 and previous is not None and math.isfinite(previous):
            points.append((previous, 0.0))
        seen += max(count, 0)
        x = bound
        if not math.isfinite(x):
            last = points[-1][0] if points else None
            if upper is None or not math.isfinite(upper) or (last is not None and upper <= last):
                break
            x = upper
        points.append((x, seen / total))
        if seen >= total:
            break
    return tuple(points)


def cdf_chart(
    series: Sequence[CdfSeries],
    *,
    chart_id: str,
    title: str,
    x_label: str,
    marker_level: float = 0.95,
    marker_label: str = "P95",
) -> str:
    """Cumulative distribution lines, log x when the values span more than ~1.3 decades."""
    xs_all = [x for s in series for x, _ in s.points] + [
        s.marker for s in series if s.marker is not None
    ]
    positive = [x for x in xs_all if x > 0]
    log = bool(positive) and max(positive) / min(positive) > 20
    legend = [LegendItem(s.label, s.color, "line") for s in series]
    left, right = 64.0, WIDTH - 30.0
    rows = legend_rows(legend, right - left)
    top = 44.0 + 18 * len(rows) + 8
    height = top + 280 + 56
    bottom = height - 56
    scale_note = " (log scale)" if log else ""
    svg = Svg(
        chart_id,
        WIDTH,
        height,
        title,
        f"Cumulative share of requests against {x_label}{scale_note}, one line per model.",
    )
    svg.text(left, 22, title, size=15, weight="600")
    draw_legend(svg, rows, left, 44)

    if log:
        ticks = log_ticks(min(positive), max(positive))
    else:
        ticks = nice_ticks(0.0, max(xs_all) if xs_all else 1.0)
    sx = Scale(ticks[0], ticks[-1], left, right, log=log)
    y_ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    sy = Scale(0.0, 1.0, bottom, top)
    x_axis(svg, sx, ticks, bottom, top, x_label + scale_note)
    y_axis(svg, sy, y_ticks, left, right, "share of requests")

    level_y = sy(marker_level)
    svg.line(left, level_y, right, level_y, stroke=MUTED, dash="2 3")
    svg.text(right - 2, level_y - 4, marker_label, size=10, anchor="end", fill=MUTED)

    for s in series:
        pts = [(x, y) for x, y in s.points if x > 0 or not log]
        if pts:
            d = " ".join(
                f"{'M' if i == 0 else 'L'}{num(sx(x))} {num(sy(y))}" for i, (x, y) in enumerate(pts)
            )
            svg.path(d, stroke=s.color, width=2.2, tooltip=s.label)
        if s.marker is not None and (s.marker > 0 or not log):
            mx = sx(s.marker)
            svg.line(mx, bottom, mx, level_y, stroke=s.color, width=1.2, dash="4 3")
            svg.circle(
                mx,
                level_y,
                4.5,
                fill=s.color,
                tooltip=f"{s.label}: {marker_label} {fmt.ms(s.marker)} ms",
            )
    return svg.render()


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    color: str
    text: str
    """The value as shown next to the bar, e.g. ``450.3 req/s``."""


def bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, x_label: str) -> str:
    """Horizontal bars from zero, one per model, value written at the end of each bar."""
    label_width = min(200.0, max(80.0, max(text_width(b.label, 12) for b in bars) + 12))
    left = 16 + label_width
    right = WIDTH - 96.0
    top = 44.0
    row = 30.0
    bottom = top + row * len(bars) + 6
    height = bottom + 56
    svg = Svg(chart_id, WIDTH, height, title, f"{x_label} per model, as horizontal bars.")
    svg.text(16, 22, title, size=15, weight="600")
    high = max([b.value for b in bars] + [0.0])
    low = min([b.value for b in bars] + [0.0])
    ticks = nice_ticks(low, high if high > low else low + 1.0)
    sx = Scale(ticks[0], ticks[-1], left, right)
    x_axis(svg, sx, ticks, bottom, top, x_label)
    zero = sx(0.0)
    for i, bar in enumerate(bars):
        y = top + 6 + i * row
        label = fit_text(bar.label, label_width - 4, 12)
        svg.text(
            left - 8,
            y + 13,
            label,
            anchor="end",
            tooltip=bar.label if label != bar.label else None,
        )
        x_end = sx(bar.value)
        svg.rect(
            min(zero, x_end),
            y,
            abs(x_end - zero),
            18,
            fill=bar.color,
            rx=2,
            tooltip=f"{bar.label}: {bar.text}",
        )
        svg.text(max(zero, x_end) + 6, y + 13, bar.text, size=11, fill=INK)
    svg.line(zero, top, zero, bottom, stroke=AXIS)
    return svg.render()
