"""Grouped bars and the heat map: one value per (row, column) pair."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from modelmeter.report import _format as fmt
from modelmeter.report.charts.svg import (
    AXIS,
    INK,
    MUTED,
    RAMP,
    WIDTH,
    LegendItem,
    Scale,
    Svg,
    draw_legend,
    fit_text,
    legend_rows,
    nice_ticks,
    num,
    text_width,
    tint,
    x_axis,
)

__all__ = ["BarGroup", "grouped_bar_chart", "heatmap_chart"]


@dataclass(frozen=True, slots=True)
class BarGroup:
    label: str
    color: str
    values: tuple[tuple[float | None, ...], ...]
    """Per panel, one value per series (None where the model has no figure)."""


def grouped_bar_chart(
    groups: Sequence[BarGroup],
    *,
    chart_id: str,
    title: str,
    panels: Sequence[str],
    series: Sequence[str],
    unit: str,
    value_format: Callable[[float | None], str],
) -> str:
    """Side-by-side panels (each on its own scale from zero) of horizontal bars: per group (a
    model) one bar per series, in the group's colour from light to full."""
    label_width = min(170.0, max(70.0, max(text_width(g.label, 12) for g in groups) + 16))
    left = 16 + label_width
    gap = 28.0
    panel_w = (WIDTH - 16 - left - gap * (len(panels) - 1)) / max(len(panels), 1)
    shades = [0.4 + 0.6 * k / max(len(series) - 1, 1) for k in range(len(series))]
    legend = [
        LegendItem(name, tint(MUTED, share), "box")
        for name, share in zip(series, shades, strict=True)
    ]
    rows = legend_rows(legend, WIDTH - 32)
    top = 44.0 + 18 * len(rows) + 30
    bar_h, bar_gap, group_gap = 9.0, 2.0, 14.0
    group_h = len(series) * (bar_h + bar_gap) - bar_gap + group_gap
    bottom = top + group_h * len(groups) + 4
    height = bottom + 56
    what = " and ".join(panels)
    svg = Svg(
        chart_id,
        WIDTH,
        height,
        title,
        f"{', '.join(series)} of {what} ({unit}) per model, as grouped horizontal bars.",
    )
    svg.text(16, 22, fit_text(title, WIDTH - 32, 15), size=15, weight="600")
    draw_legend(svg, rows, 16, 44)

    for g_index, group in enumerate(groups):
        gy = top + 4 + g_index * group_h
        label = fit_text(group.label, label_width - 12, 12)
        svg.text(
            left - 10,
            gy + (group_h - group_gap) / 2 + 4,
            label,
            anchor="end",
            tooltip=group.label if label != group.label else None,
        )
    for k, panel in enumerate(panels):
        x0 = left + k * (panel_w + gap)
        x1 = x0 + panel_w - 52
        present = [
            v
            for g in groups
            for v in (g.values[k] if k < len(g.values) else ())
            if v is not None and math.isfinite(v)
        ]
        high = max(present) if present else 1.0
        ticks = nice_ticks(0.0, high if high > 0 else 1.0, target=4)
        sx = Scale(ticks[0], ticks[-1], x0, x1)
        svg.text(x0, top - 10, panel, size=13, weight="600")
        x_axis(svg, sx, ticks, bottom, top, f"{panel} ({unit})")
        for g_index, group in enumerate(groups):
            gy = top + 4 + g_index * group_h
            values = group.values[k] if k < len(group.values) else ()
            for j, name in enumerate(series):
                y = gy + j * (bar_h + bar_gap)
                value = values[j] if j < len(values) else None
                if value is None or not math.isfinite(value):
                    svg.text(x0 + 4, y + bar_h - 0.5, fmt.MISSING, size=9.5, fill=MUTED)
                    continue
                end = sx(max(value, 0.0))
                svg.rect(
                    x0,
                    y,
                    end - x0,
                    bar_h,
                    fill=tint(group.color, shades[j]),
                    tooltip=f"{group.label}: {panel} {name} {value_format(value)} {unit}",
                )
                svg.text(end + 4, y + bar_h - 0.5, value_format(value), size=9.5, fill=INK)
        svg.line(x0, top, x0, bottom, stroke=AXIS)
    return svg.render()


def _ramp(share: float) -> str:
    share = min(1.0, max(0.0, share))
    pos = share * (len(RAMP) - 1)
    i = min(int(pos), len(RAMP) - 2)
    frac = pos - i
    rgb = [round(a + (b - a) * frac) for a, b in zip(RAMP[i], RAMP[i + 1], strict=True)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def heatmap_chart(
    *,
    chart_id: str,
    title: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    notes: Sequence[Sequence[str]],
    value_format: Callable[[float | None], str],
    value_label: str,
    col_colors: Sequence[str] | None = None,
) -> str:
    """A grid of cells coloured by value (darker is higher), each with its value and a note.

    ``col_colors`` draws a key strip above each column (the model's colour in the other charts).
    """
    row_width = min(170.0, max(70.0, max(text_width(r, 12) for r in row_labels) + 16))
    cols = max(len(col_labels), 1)
    cell_w = min(150.0, (WIDTH - 16 - row_width - 16) / cols)
    cell_h = 38.0
    left = 16 + row_width
    top = 60.0
    grid_bottom = top + cell_h * len(row_labels)
    height = grid_bottom + 62
    width = max(left + cell_w * cols + 16, 380.0)
    svg = Svg(chart_id, width, height, title, f"{value_label} per {title.lower()} and model.")
    svg.text(16, 22, title, size=15, weight="600")

    present = [v for row in values for v in row if v is not None and math.isfinite(v)]
    lo = min(present) if present else 0.0
    hi = max(present) if present else 1.0

    for j, col in enumerate(col_labels):
        label = fit_text(col, cell_w - 8, 12)
        if col_colors is not None:
            svg.rect(left + cell_w * j + 1, top - 6, cell_w - 2, 4, fill=col_colors[j])
        svg.text(
            left + cell_w * j + cell_w / 2,
            top - 12,
            label,
            anchor="middle",
            weight="600",
            tooltip=col if label != col else None,
        )
    for i, row_label in enumerate(row_labels):
        y = top + cell_h * i
        label = fit_text(row_label, row_width - 12, 12)
        svg.text(
            left - 8,
            y + cell_h / 2 + 4,
            label,
            anchor="end",
            tooltip=row_label if label != row_label else None,
        )
        for j, col in enumerate(col_labels):
            x = left + cell_w * j
            value = values[i][j]
            note = notes[i][j]
            tip = f"{col}, {row_label}: {value_label} {value_format(value)}"
            if note:
                tip += f", {note}"
            if value is None or not math.isfinite(value):
                svg.rect(x + 1, y + 1, cell_w - 2, cell_h - 2, fill="#f5f7fa", tooltip=tip)
                svg.text(x + cell_w / 2, y + cell_h / 2 + 4, fmt.MISSING, anchor="middle")
                continue
            share = 0.5 if hi == lo else (value - lo) / (hi - lo)
            ink = "#ffffff" if share > 0.55 else INK
            svg.rect(x + 1, y + 1, cell_w - 2, cell_h - 2, fill=_ramp(share), tooltip=tip)
            svg.text(
                x + cell_w / 2,
                y + (17 if note else 23),
                value_format(value),
                size=13,
                anchor="middle",
                fill=ink,
                weight="600",
            )
            if note:
                svg.text(x + cell_w / 2, y + 31, note, size=10, anchor="middle", fill=ink)

    gradient = f"{chart_id}-ramp"
    stops = "".join(
        f'<stop offset="{i / (len(RAMP) - 1):.2f}" stop-color="{_ramp(i / (len(RAMP) - 1))}"/>'
        for i in range(len(RAMP))
    )
    svg.raw(f'<defs><linearGradient id="{gradient}">{stops}</linearGradient></defs>')
    key_y = grid_bottom + 22
    svg.raw(
        f'<rect x="{num(left)}" y="{num(key_y)}" width="160" height="10" '
        f'fill="url(#{gradient})" stroke="{AXIS}" stroke-width="0.5"/>'
    )
    svg.text(left, key_y + 25, value_format(lo), size=11, anchor="start", fill=MUTED)
    svg.text(left + 160, key_y + 25, value_format(hi), size=11, anchor="end", fill=MUTED)
    svg.text(left + 172, key_y + 9, f"{value_label} (lowest to highest shown)", size=11, fill=MUTED)
    return svg.render()
