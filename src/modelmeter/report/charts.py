"""Inline SVG charts for the HTML report, in pure Python.

Each chart function returns one ``<svg>`` element as a string. It is sized by ``viewBox`` (so it
scales down with its container), carries a ``<title>`` and ``<desc>`` for screen readers, and
gives every mark a ``<title>`` tooltip with the exact figure. All text that reaches the SVG goes
through :func:`_esc`, so a hostile model name cannot inject markup. No scripts, no external
references: the report opens offline.

:func:`build_charts` maps a :class:`~modelmeter.results.Report` onto the charts; it only
selects, sorts and rescales what the report holds.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from modelmeter.report import _format as fmt
from modelmeter.results import Interval, ModelResult, Report, SweepPoint, SweepResult

#: Colour per model, in report order (Tableau 10: distinct, and readable on white and in print).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#b07aa1",
    "#9c755f",
    "#ff9da7",
    "#edc948",
    "#bab0ac",
)

WIDTH = 720
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1d2430"
MUTED = "#5b6575"
GRID = "#e6e9ef"
AXIS = "#9aa3af"
LIMIT = "#b42318"
"""SLA limits: the report's "bad" red."""
# Sequential blues for the heat map, light to dark.
_RAMP = (
    (0xEF, 0xF3, 0xFF),
    (0xBD, 0xD7, 0xE7),
    (0x6B, 0xAE, 0xD6),
    (0x31, 0x82, 0xBD),
    (0x08, 0x51, 0x9C),
)


def model_colors(report: Report) -> list[str]:
    """The colour of each model, aligned with ``report.models``; the same in every chart."""
    return [PALETTE[i % len(PALETTE)] for i in range(len(report.models))]


# --------------------------------------------------------------------------------------------
# SVG primitives


def _esc(text: str) -> str:
    return escape(text, quote=True)


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_width(text: str, size: float) -> float:
    """A rough width estimate for the system sans-serif fonts (no font metrics offline)."""
    return len(text) * size * 0.58


def _fit(text: str, max_width: float, size: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``max_width``."""
    if _text_width(text, size) <= max_width:
        return text
    keep = max(1, int(max_width / (size * 0.58)) - 1)
    return text[:keep] + "…"


def _tint(color: str, share: float) -> str:
    """``#rrggbb`` mixed with white: ``share`` 1 is the colour itself, 0 is white."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * share):02x}" for c in rgb)


class _Svg:
    def __init__(self, chart_id: str, width: float, height: float, title: str, desc: str) -> None:
        self.chart_id = chart_id
        self.width = width
        self.height = height
        self.title = title
        self.desc = desc
        self.parts: list[str] = []

    @staticmethod
    def _tip(tooltip: str | None) -> str:
        return f"<title>{_esc(tooltip)}</title>" if tooltip else ""

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = 12,
        anchor: str = "start",
        fill: str = INK,
        weight: str | None = None,
        rotate: bool = False,
        tooltip: str | None = None,
    ) -> None:
        attrs = f'x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if weight:
            attrs += f' font-weight="{weight}"'
        if rotate:
            attrs += f' transform="rotate(-90 {_n(x)} {_n(y)})"'
        self.parts.append(f"<text {attrs}>{self._tip(tooltip)}{_esc(content)}</text>")

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        stroke: str,
        width: float = 1,
        dash: str | None = None,
    ) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}"'
            f' stroke-width="{_n(width)}"{extra}/>'
        )

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str,
        stroke: str | None = None,
        rx: float = 0,
        tooltip: str | None = None,
    ) -> None:
        extra = f' stroke="{stroke}"' if stroke else ""
        if rx:
            extra += f' rx="{_n(rx)}"'
        body = self._tip(tooltip)
        tag = f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}"'
        tag += f' fill="{fill}"{extra}'
        self.parts.append(f"{tag}>{body}</rect>" if body else f"{tag}/>")

    def circle(
        self,
        cx: float,
        cy: float,
        r: float,
        *,
        fill: str,
        stroke: str = "#ffffff",
        stroke_width: float = 1.5,
        tooltip: str | None = None,
    ) -> None:
        body = self._tip(tooltip)
        tag = (
            f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}" stroke="{stroke}"'
            f' stroke-width="{_n(stroke_width)}"'
        )
        self.parts.append(f"{tag}>{body}</circle>" if body else f"{tag}/>")

    def path(
        self,
        d: str,
        *,
        stroke: str,
        width: float = 2,
        dash: str | None = None,
        tooltip: str | None = None,
    ) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        body = self._tip(tooltip)
        tag = (
            f'<path d="{d}" fill="none" stroke="{stroke}" stroke-width="{_n(width)}"'
            f' stroke-linejoin="round" stroke-linecap="round"{extra}'
        )
        self.parts.append(f"{tag}>{body}</path>" if body else f"{tag}/>")

    def raw(self, markup: str) -> None:
        """Markup built here from escaped text only (gradients)."""
        self.parts.append(markup)

    def render(self) -> str:
        cid = self.chart_id
        head = (
            f'<svg class="chart" id="{cid}" viewBox="0 0 {_n(self.width)} {_n(self.height)}"'
            f' width="{_n(self.width)}" height="{_n(self.height)}" role="img"'
            f' aria-labelledby="{cid}-title {cid}-desc" font-family="{FONT}" font-size="12">'
            f'<title id="{cid}-title">{_esc(self.title)}</title>'
            f'<desc id="{cid}-desc">{_esc(self.desc)}</desc>'
            f'<rect x="0" y="0" width="{_n(self.width)}" height="{_n(self.height)}"'
            ' fill="#ffffff"/>'
        )
        return head + "".join(self.parts) + "</svg>"


# --------------------------------------------------------------------------------------------
# Scales and ticks


@dataclass(frozen=True, slots=True)
class _Scale:
    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def _t(self, value: float) -> float:
        if self.log:
            return math.log10(value)
        return value

    def __call__(self, value: float) -> float:
        lo, hi = self._t(self.lo), self._t(self.hi)
        share = 0.5 if hi == lo else (self._t(value) - lo) / (hi - lo)
        return self.start + share * (self.end - self.start)


def _clean(value: float) -> float:
    return float(f"{value:.12g}")


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (the first ≤ lo, the last ≥ hi)."""
    if not hi > lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(target, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            step = multiple * magnitude
            break
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [_clean(i * step) for i in range(first, last + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks covering ``[lo, hi]`` (both > 0); only decades when the range is wide."""
    multiples = (1.0, 2.0, 5.0) if math.log10(hi / lo) <= 3 else (1.0,)
    candidates = [
        _clean(m * 10.0**e)
        for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
        for m in multiples
    ]
    below = [c for c in candidates if c <= lo * (1 + 1e-9)]
    above = [c for c in candidates if c >= hi * (1 - 1e-9)]
    first = below[-1] if below else candidates[0]
    last = above[0] if above else candidates[-1]
    return [c for c in candidates if first <= c <= last]


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Labels with the fewest decimals that still tell the ticks apart."""
    for decimals in range(0, 10):
        if all(abs(round(t, decimals) - t) <= abs(t) * 1e-9 + 1e-12 for t in ticks):
            return [f"{t:,.{decimals}f}" for t in ticks]
    return [f"{t:g}" for t in ticks]


def _x_axis(
    svg: _Svg, scale: _Scale, ticks: Sequence[float], y: float, top: float, label: str
) -> None:
    for tick, text in zip(ticks, tick_labels(ticks), strict=True):
        x = scale(tick)
        svg.line(x, top, x, y, stroke=GRID)
        svg.line(x, y, x, y + 4, stroke=AXIS)
        svg.text(x, y + 17, text, size=11, anchor="middle", fill=MUTED)
    svg.line(scale.start, y, scale.end, y, stroke=AXIS)
    svg.text((scale.start + scale.end) / 2, y + 38, label, anchor="middle", fill=INK)


def _y_axis(
    svg: _Svg, scale: _Scale, ticks: Sequence[float], x: float, right: float, label: str
) -> None:
    for tick, text in zip(ticks, tick_labels(ticks), strict=True):
        y = scale(tick)
        svg.line(x, y, right, y, stroke=GRID)
        svg.line(x - 4, y, x, y, stroke=AXIS)
        svg.text(x - 7, y + 4, text, size=11, anchor="end", fill=MUTED)
    svg.line(x, scale.start, x, scale.end, stroke=AXIS)
    svg.text(16, (scale.start + scale.end) / 2, label, anchor="middle", rotate=True)


@dataclass(frozen=True, slots=True)
class _LegendItem:
    label: str
    color: str
    kind: str  # "line", "dash", "dotted", "box", "dot", "ring", "best", "errorbar"


def _legend_rows(items: Sequence[_LegendItem], width: float) -> list[list[_LegendItem]]:
    rows: list[list[_LegendItem]] = [[]]
    used = 0.0
    for item in items:
        need = 26 + _text_width(_fit(item.label, 200, 12), 12) + 18
        if rows[-1] and used + need > width:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += need
    return [row for row in rows if row]


def _draw_legend(svg: _Svg, rows: Sequence[Sequence[_LegendItem]], x0: float, y0: float) -> None:
    for r, row in enumerate(rows):
        x = x0
        y = y0 + r * 18
        for item in row:
            if item.kind in ("line", "dash", "dotted"):
                dash = {"dash": "5 4", "dotted": "2 3"}.get(item.kind)
                svg.line(x, y - 4, x + 20, y - 4, stroke=item.color, width=2.5, dash=dash)
            elif item.kind == "best":
                svg.circle(x + 10, y - 4, 7.5, fill="#ffffff", stroke=INK, stroke_width=1.5)
                svg.circle(x + 10, y - 4, 4, fill=item.color)
            elif item.kind == "ring":
                svg.circle(x + 10, y - 4, 5, fill="#ffffff", stroke=item.color, stroke_width=2)
            elif item.kind == "dot":
                svg.circle(x + 10, y - 4, 5, fill=item.color)
            elif item.kind == "errorbar":
                svg.line(x + 10, y - 10, x + 10, y + 2, stroke=item.color, width=1.5)
                svg.line(x + 6, y - 10, x + 14, y - 10, stroke=item.color, width=1.5)
                svg.line(x + 6, y + 2, x + 14, y + 2, stroke=item.color, width=1.5)
            else:
                svg.rect(x + 3, y - 11, 14, 14, fill=item.color, rx=2)
            label = _fit(item.label, 200, 12)
            svg.text(x + 26, y, label, tooltip=item.label if label != item.label else None)
            x += 26 + _text_width(label, 12) + 18


def _padded(lo: float, hi: float, share: float = 0.08) -> tuple[float, float]:
    span = hi - lo
    pad = span * share if span > 0 else (abs(hi) * 0.1 or 0.1)
    return lo - pad, hi + pad


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


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
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
    legend: list[_LegendItem] = []
    if any(p.frontier for p in points):
        legend.append(_LegendItem(frontier_label, INK, "dash"))
    if any(p.y_low is not None and p.y_high is not None for p in points):
        legend.append(_LegendItem("95% interval", MUTED, "errorbar"))
    legend += [_LegendItem(points[i].label, points[i].color, "dot") for i in in_legend]
    left, right = 70.0, WIDTH - 30.0
    rows = _legend_rows(legend, right - left)
    top = 44.0 + 18 * len(rows) + 8
    height = top + 290 + 56
    bottom = height - 56

    svg = _Svg(chart_id, WIDTH, height, title, f"{y_label} against {x_label} for each model.")
    svg.text(left, 22, title, size=15, weight="600")
    _draw_legend(svg, rows, left, 44)

    xs = [p.x for p in points]
    ys = [v for p in points for v in (p.y, p.y_low, p.y_high) if v is not None]
    x_lo, x_hi = _padded(min(xs), max(xs), 0.12)
    if min(xs) >= 0:
        x_lo = max(0.0, x_lo)
    y_lo, y_hi = _padded(min(ys), max(ys), 0.1)
    if max(ys) <= 1.0:
        y_hi = min(y_hi, 1.0)
    if min(ys) >= 0.0:
        y_lo = max(y_lo, 0.0)
    x_ticks = nice_ticks(x_lo, x_hi)
    y_ticks = nice_ticks(y_lo, y_hi)
    sx = _Scale(x_ticks[0], x_ticks[-1], left, right)
    sy = _Scale(y_ticks[0], y_ticks[-1], bottom, top)
    _x_axis(svg, sx, x_ticks, bottom, top, x_label)
    _y_axis(svg, sy, y_ticks, left, right, y_label)

    boxes: list[tuple[float, float, float, float]] = []
    frontier = sorted((p for p in points if p.frontier), key=lambda p: (p.x, p.y))
    if len(frontier) >= 2:
        rising = all(a.y <= b.y for a, b in itertools.pairwise(frontier))
        corners = [(sx(frontier[0].x), sy(frontier[0].y))]
        for p in frontier[1:]:
            if rising:
                corners.append((sx(p.x), corners[-1][1]))
            corners.append((sx(p.x), sy(p.y)))
        d = " ".join(f"{'M' if i == 0 else 'L'}{_n(x)} {_n(y)}" for i, (x, y) in enumerate(corners))
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
        label = _fit(p.label, 180, 12)
        w = _text_width(label, 12)
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
            if inside and not any(_overlaps(box, other) for other in boxes):
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
    legend = [_LegendItem(s.label, s.color, "line") for s in series]
    left, right = 64.0, WIDTH - 30.0
    rows = _legend_rows(legend, right - left)
    top = 44.0 + 18 * len(rows) + 8
    height = top + 280 + 56
    bottom = height - 56
    scale_note = " (log scale)" if log else ""
    svg = _Svg(
        chart_id,
        WIDTH,
        height,
        title,
        f"Cumulative share of requests against {x_label}{scale_note}, one line per model.",
    )
    svg.text(left, 22, title, size=15, weight="600")
    _draw_legend(svg, rows, left, 44)

    if log:
        ticks = log_ticks(min(positive), max(positive))
    else:
        ticks = nice_ticks(0.0, max(xs_all) if xs_all else 1.0)
    sx = _Scale(ticks[0], ticks[-1], left, right, log=log)
    y_ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    sy = _Scale(0.0, 1.0, bottom, top)
    _x_axis(svg, sx, ticks, bottom, top, x_label + scale_note)
    _y_axis(svg, sy, y_ticks, left, right, "share of requests")

    level_y = sy(marker_level)
    svg.line(left, level_y, right, level_y, stroke=MUTED, dash="2 3")
    svg.text(right - 2, level_y - 4, marker_label, size=10, anchor="end", fill=MUTED)

    for s in series:
        pts = [(x, y) for x, y in s.points if x > 0 or not log]
        if pts:
            d = " ".join(
                f"{'M' if i == 0 else 'L'}{_n(sx(x))} {_n(sy(y))}" for i, (x, y) in enumerate(pts)
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
    label_width = min(200.0, max(80.0, max(_text_width(b.label, 12) for b in bars) + 12))
    left = 16 + label_width
    right = WIDTH - 96.0
    top = 44.0
    row = 30.0
    bottom = top + row * len(bars) + 6
    height = bottom + 56
    svg = _Svg(chart_id, WIDTH, height, title, f"{x_label} per model, as horizontal bars.")
    svg.text(16, 22, title, size=15, weight="600")
    high = max([b.value for b in bars] + [0.0])
    low = min([b.value for b in bars] + [0.0])
    ticks = nice_ticks(low, high if high > low else low + 1.0)
    sx = _Scale(ticks[0], ticks[-1], left, right)
    _x_axis(svg, sx, ticks, bottom, top, x_label)
    zero = sx(0.0)
    for i, bar in enumerate(bars):
        y = top + 6 + i * row
        label = _fit(bar.label, label_width - 4, 12)
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
    legend: Sequence[_LegendItem] | None = None,
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
        legend = [_LegendItem(c.label, c.color, "dash" if c.dash else "line") for c in curves]
    left, right = 70.0, WIDTH - 30.0
    rows = _legend_rows(legend, right - left)
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
    svg = _Svg(chart_id, WIDTH, height, title, desc)
    svg.text(left, 22, _fit(title, WIDTH - left - 16, 15), size=15, weight="600")
    _draw_legend(svg, rows, left, 44)

    if log_x:
        x_ticks = log_ticks(min(xs), max(xs))
    else:
        x_ticks = nice_ticks(0.0, max(xs) * 1.04 if xs and max(xs) > 0 else 1.0)
    if log:
        y_ticks = log_ticks(min(positive), max(positive))
    else:
        y_ticks = nice_ticks(0.0, max(ys) * 1.04 if ys and max(ys) > 0 else 1.0)
    sx = _Scale(x_ticks[0], x_ticks[-1], left, right, log=log_x)
    sy = _Scale(y_ticks[0], y_ticks[-1], bottom, top, log=log)
    _x_axis(svg, sx, x_ticks, bottom, top, x_label + x_note)
    _y_axis(svg, sy, y_ticks, left, right, y_label + y_note)

    labels: list[tuple[float, float, float, float]] = []
    lines: list[tuple[float, float, float, float]] = []

    def free(
        box: tuple[float, float, float, float],
        obstacles: Sequence[tuple[float, float, float, float]],
    ) -> bool:
        inside = box[0] >= left + 2 and box[2] <= WIDTH - 2 and box[1] >= top
        return inside and box[3] <= bottom and not any(_overlaps(box, o) for o in obstacles)

    def sample(x1: float, y1: float, x2: float, y2: float) -> None:
        steps = max(1, int(math.hypot(x2 - x1, y2 - y1) / 6))
        for k in range(steps + 1):
            x, y = x1 + (x2 - x1) * k / steps, y1 + (y2 - y1) * k / steps
            lines.append((x - 2, y - 2, x + 2, y + 2))

    def polyline(pts: Sequence[tuple[float, float]]) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{_n(x)} {_n(y)}" for i, (x, y) in enumerate(pts))

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
            w = _text_width(diagonal, 10.5)
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
        w = _text_width(guide.label, 10.5)
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
            label = _fit(p.label, 120, 11)
            candidates = _label_candidates(px, py, _text_width(label, 11), curve.marker + 6)
            own = (px - 1, py - 1, px + 1, py + 1)
            others = [b for b in points if not _overlaps(b, own)] + labels
            chosen = next((c for c in candidates if free(c[3], [*others, *lines])), None)
            if chosen is None:
                chosen = next((c for c in candidates if free(c[3], others)), None)
            if chosen is None:
                continue
            labels.append(chosen[3])
            svg.text(chosen[0], chosen[1], label, size=11, anchor=chosen[2], fill=INK)
    return svg.render()


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
    label_width = min(170.0, max(70.0, max(_text_width(g.label, 12) for g in groups) + 16))
    left = 16 + label_width
    gap = 28.0
    panel_w = (WIDTH - 16 - left - gap * (len(panels) - 1)) / max(len(panels), 1)
    shades = [0.4 + 0.6 * k / max(len(series) - 1, 1) for k in range(len(series))]
    legend = [
        _LegendItem(name, _tint(MUTED, share), "box")
        for name, share in zip(series, shades, strict=True)
    ]
    rows = _legend_rows(legend, WIDTH - 32)
    top = 44.0 + 18 * len(rows) + 30
    bar_h, bar_gap, group_gap = 9.0, 2.0, 14.0
    group_h = len(series) * (bar_h + bar_gap) - bar_gap + group_gap
    bottom = top + group_h * len(groups) + 4
    height = bottom + 56
    what = " and ".join(panels)
    svg = _Svg(
        chart_id,
        WIDTH,
        height,
        title,
        f"{', '.join(series)} of {what} ({unit}) per model, as grouped horizontal bars.",
    )
    svg.text(16, 22, _fit(title, WIDTH - 32, 15), size=15, weight="600")
    _draw_legend(svg, rows, 16, 44)

    for g_index, group in enumerate(groups):
        gy = top + 4 + g_index * group_h
        label = _fit(group.label, label_width - 12, 12)
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
        sx = _Scale(ticks[0], ticks[-1], x0, x1)
        svg.text(x0, top - 10, panel, size=13, weight="600")
        _x_axis(svg, sx, ticks, bottom, top, f"{panel} ({unit})")
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
                    fill=_tint(group.color, shades[j]),
                    tooltip=f"{group.label}: {panel} {name} {value_format(value)} {unit}",
                )
                svg.text(end + 4, y + bar_h - 0.5, value_format(value), size=9.5, fill=INK)
        svg.line(x0, top, x0, bottom, stroke=AXIS)
    return svg.render()


def _ramp(share: float) -> str:
    share = min(1.0, max(0.0, share))
    pos = share * (len(_RAMP) - 1)
    i = min(int(pos), len(_RAMP) - 2)
    frac = pos - i
    rgb = [round(a + (b - a) * frac) for a, b in zip(_RAMP[i], _RAMP[i + 1], strict=True)]
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
    row_width = min(170.0, max(70.0, max(_text_width(r, 12) for r in row_labels) + 16))
    cols = max(len(col_labels), 1)
    cell_w = min(150.0, (WIDTH - 16 - row_width - 16) / cols)
    cell_h = 38.0
    left = 16 + row_width
    top = 60.0
    grid_bottom = top + cell_h * len(row_labels)
    height = grid_bottom + 62
    width = max(left + cell_w * cols + 16, 380.0)
    svg = _Svg(chart_id, width, height, title, f"{value_label} per {title.lower()} and model.")
    svg.text(16, 22, title, size=15, weight="600")

    present = [v for row in values for v in row if v is not None and math.isfinite(v)]
    lo = min(present) if present else 0.0
    hi = max(present) if present else 1.0

    for j, col in enumerate(col_labels):
        label = _fit(col, cell_w - 8, 12)
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
        label = _fit(row_label, row_width - 12, 12)
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
        f'<stop offset="{i / (len(_RAMP) - 1):.2f}" stop-color="{_ramp(i / (len(_RAMP) - 1))}"/>'
        for i in range(len(_RAMP))
    )
    svg.raw(f'<defs><linearGradient id="{gradient}">{stops}</linearGradient></defs>')
    key_y = grid_bottom + 22
    svg.raw(
        f'<rect x="{_n(left)}" y="{_n(key_y)}" width="160" height="10" '
        f'fill="url(#{gradient})" stroke="{AXIS}" stroke-width="0.5"/>'
    )
    svg.text(left, key_y + 25, value_format(lo), size=11, anchor="start", fill=MUTED)
    svg.text(left + 160, key_y + 25, value_format(hi), size=11, anchor="end", fill=MUTED)
    svg.text(left + 172, key_y + 9, f"{value_label} (lowest to highest shown)", size=11, fill=MUTED)
    return svg.render()


# --------------------------------------------------------------------------------------------
# From a Report


@dataclass(frozen=True, slots=True)
class Chart:
    """One figure of the report: ``svg`` is None when the report holds nothing to draw."""

    id: str
    title: str
    svg: str | None
    caption: str


def _not_plotted(skipped: Sequence[tuple[str, str]]) -> str:
    if not skipped:
        return ""
    return " Not plotted: " + "; ".join(f"{name} ({why})" for name, why in skipped) + "."


def _cost_currency(models: Sequence[ModelResult]) -> str | None:
    currencies = Counter(m.cost.currency for m in models if m.cost.per_1000_requests is not None)
    return currencies.most_common(1)[0][0] if currencies else None


def _headline_quality(model: ModelResult) -> tuple[float | None, Interval | None]:
    """Macro F1 for classification, the pooled task score for LLM runs; with its interval."""
    if model.quality is not None:
        return model.quality.f1_macro, model.quality.intervals.get("f1_macro")
    return model.task_score, model.task_score_ci


def quality_chart(report: Report, colors: Sequence[str]) -> Chart:
    """F1 (LLM runs: the task score) against cost per 1,000 requests, or against P95 when no
    model has a cost."""
    currency = _cost_currency(report.models)
    frontier = set(report.pareto)
    points: list[ScatterPoint] = []
    skipped: list[tuple[str, str]] = []
    llm = any(model.task_score is not None for model in report.models)
    metric = "task score" if llm else "F1"
    for model, color in zip(report.models, colors, strict=True):
        value, ci = _headline_quality(model)
        if value is None:
            skipped.append((model.name, "no quality"))
            continue
        x: float | None
        if currency is not None:
            cost = model.cost.per_1000_requests
            if cost is None:
                skipped.append((model.name, "no cost"))
                continue
            if model.cost.currency != currency:
                skipped.append((model.name, f"cost in {model.cost.currency}"))
                continue
            x = float(cost)
            x_text = fmt.money(cost, currency) + " / 1,000 req"
        else:
            x = model.latency_ms.p95 if model.latency_ms is not None else None
            if x is None:
                skipped.append((model.name, "no latency"))
                continue
            x_text = f"P95 {fmt.ms(x)} ms"
        if not (math.isfinite(x) and math.isfinite(value)):
            skipped.append((model.name, "not a finite value"))
            continue
        points.append(
            ScatterPoint(
                label=model.name,
                x=x,
                y=value,
                color=color,
                frontier=model.name in frontier,
                y_low=ci.low if ci is not None else None,
                y_high=ci.high if ci is not None else None,
                tooltip=f"{model.name}: {metric} {fmt.score(value)}, {x_text}",
            )
        )
    if currency is not None:
        title = "Quality vs cost"
        x_label = f"cost per 1,000 requests ({currency})"
        where = "Up and to the left is better."
    else:
        title = "Quality vs P95 latency"
        x_label = "P95 response time (ms)"
        where = "No model has a cost, so latency stands in for it. Up and to the left is better."
    label = "Task score (share of task items right)" if llm else "F1 (macro)"
    caption = (
        f"{label} of each model against its {x_label}. {where} Ringed points joined by the "
        "dashed line are on the Pareto frontier (no other model is at least as good on quality, "
        f"P95 latency and cost and better on one); vertical bars are 95% intervals of {metric}."
        + _not_plotted(skipped)
    )
    svg = (
        scatter_chart(
            points,
            chart_id="chart-quality",
            title=title,
            x_label=x_label,
            y_label="task score" if llm else "F1 (macro)",
        )
        if points
        else None
    )
    return Chart("chart-quality", title, svg, caption)


def latency_chart(report: Report, colors: Sequence[str]) -> Chart:
    series: list[CdfSeries] = []
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        summary = model.latency_ms
        buckets = model.load.latency_histogram_ms if model.load is not None else []
        points = cdf_points(buckets, summary.max if summary is not None else None)
        if not points:
            skipped.append((model.name, "no latency histogram"))
            continue
        marker = summary.p95 if summary is not None and math.isfinite(summary.p95) else None
        series.append(CdfSeries(model.name, color, points, marker))
    title = "Latency distribution"
    caption = (
        "Share of requests answered within a given response time (measured from the intended "
        "send time, so waiting behind a slow server counts). Further left is faster; the dashed "
        "marks show each model's P95." + _not_plotted(skipped)
    )
    svg = (
        cdf_chart(series, chart_id="chart-latency", title=title, x_label="response time (ms)")
        if series
        else None
    )
    return Chart("chart-latency", title, svg, caption)


def throughput_chart(report: Report, colors: Sequence[str]) -> Chart:
    bars: list[Bar] = []
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        value = model.throughput_rps
        if value is None or not math.isfinite(value):
            skipped.append((model.name, "no throughput"))
            continue
        bars.append(Bar(model.name, value, color, f"{fmt.rps(value)} req/s"))
    title = "Throughput"
    caption = (
        "Completed requests per second over the measured window (warm-up excluded). Longer is "
        "better." + _not_plotted(skipped)
    )
    svg = (
        bar_chart(bars, chart_id="chart-throughput", title=title, x_label="requests per second")
        if bars
        else None
    )
    return Chart("chart-throughput", title, svg, caption)


def cost_charts(report: Report, colors: Sequence[str]) -> list[Chart]:
    """One bar chart per currency: amounts in different currencies are never drawn together."""
    by_currency: dict[str, list[Bar]] = {}
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        cost = model.cost.per_1000_requests
        if cost is None or not cost.is_finite():
            skipped.append((model.name, "no cost"))
            continue
        text = fmt.money(cost, model.cost.currency)
        by_currency.setdefault(model.cost.currency, []).append(
            Bar(model.name, float(cost), color, text)
        )
    if not by_currency:
        return [
            Chart(
                "chart-cost",
                "Cost per 1,000 requests",
                None,
                "No model has a cost per 1,000 requests." + _not_plotted(skipped),
            )
        ]
    charts: list[Chart] = []
    several = len(by_currency) > 1
    for currency, bars in by_currency.items():
        chart_id = f"chart-cost-{fmt.slug(currency)}" if several else "chart-cost"
        title = f"Cost per 1,000 requests ({currency})"
        caption = (
            "Cost of 1,000 requests; shorter is better. Each model's basis and formula are in its "
            "details below." + _not_plotted(skipped)
        )
        svg = bar_chart(
            bars, chart_id=chart_id, title=title, x_label=f"{currency} per 1,000 requests"
        )
        charts.append(Chart(chart_id, title, svg, caption))
    return charts


def slice_charts(report: Report, colors: Sequence[str]) -> list[Chart]:
    """One heat map per slice key (e.g. language): rows are slice values, columns models."""
    color_of = {id(m): c for m, c in zip(report.models, colors, strict=True)}
    charts: list[Chart] = []
    for key, values, models in slice_layout(report):
        grid: list[list[float | None]] = []
        notes: list[list[str]] = []
        for value in values:
            row: list[float | None] = []
            note_row: list[str] = []
            for model in models:
                quality = model.quality
                cell = quality.by_slice.get(key, {}).get(value) if quality is not None else None
                row.append(cell.f1_macro if cell is not None else None)
                note_row.append(f"n={fmt.integer(cell.n)}" if cell is not None else "")
            grid.append(row)
            notes.append(note_row)
        chart_id = f"chart-slice-{fmt.slug(key)}"
        title = f"F1 by {key}"
        svg = heatmap_chart(
            chart_id=chart_id,
            title=title,
            row_labels=values,
            col_labels=[m.name for m in models],
            values=grid,
            notes=notes,
            value_format=fmt.score,
            value_label="F1 (macro)",
            col_colors=[color_of[id(m)] for m in models],
        )
        caption = (
            f"F1 (macro) of each model on the samples of each {key}; darker is higher, the scale "
            "runs from the lowest to the highest cell shown. n is the number of samples."
        )
        charts.append(Chart(chart_id, title, svg, caption))
    return charts


def load_level(point: SweepPoint) -> str:
    """A load level in words: ``concurrency 32`` or ``50 req/s offered``."""
    if point.mode == "concurrency":
        return f"concurrency {fmt.significant(point.value)}"
    return f"{fmt.significant(point.value)} req/s offered"


def _level_tag(point: SweepPoint) -> str:
    """A load level as a short point label: ``c=32`` or ``50/s``."""
    if point.mode == "concurrency":
        return f"c={fmt.significant(point.value)}"
    return f"{fmt.significant(point.value)}/s"


def ordered_points(sweep: SweepResult) -> list[SweepPoint]:
    """The levels from lowest to highest load (an SLA search measures them out of order)."""
    return sorted(sweep.points, key=lambda p: (p.mode != "concurrency", p.value))


def best_point(sweep: SweepResult) -> SweepPoint | None:
    """The element of ``sweep.points`` that ``sweep.best`` names, if any."""
    best = sweep.best
    if best is None:
        return None
    same = next((p for p in sweep.points if p == best), None)
    return same or next(
        (p for p in sweep.points if (p.mode, p.value) == (best.mode, best.value)), None
    )


def _sweep_tooltip(name: str, p: SweepPoint) -> str:
    parts = [
        f"{name}, {load_level(p)}: {fmt.rps(p.throughput_rps)} req/s",
        f"P50 {fmt.ms(p.p50_ms)} ms",
        f"P95 {fmt.ms(p.p95_ms)} ms",
        f"P99 {fmt.ms(p.p99_ms)} ms",
        f"errors {fmt.percent(p.error_rate)}",
    ]
    if p.goodput_rps is not None:
        parts.append(f"goodput {fmt.rps(p.goodput_rps)} req/s")
    if p.slo_met is not None:
        parts.append("SLO met" if p.slo_met else "SLO missed")
    if p.client_bound:
        parts.append("client-bound")
    return ", ".join(parts)


def _finite_pair(x: float | None, y: float | None) -> tuple[float, float] | None:
    if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
        return None
    return x, y


def sweep_charts(report: Report, colors: Sequence[str]) -> list[Chart]:
    """Per model with a sweep: P95/P99 against throughput, and goodput against offered load."""
    limit = report.sla.get("p95_ms")
    guides = (
        [Guide(limit, f"SLA: P95 ≤ {fmt.ms(limit)} ms")]
        if limit is not None and math.isfinite(limit) and limit > 0
        else []
    )
    charts: list[Chart] = []
    for i, (model, color) in enumerate(zip(report.models, colors, strict=True), start=1):
        sweep = model.sweep
        if sweep is None or not sweep.points:
            continue
        charts.append(_latency_curve(model.name, sweep, color, guides, f"chart-sweep-{i}"))
        if any(p.goodput_rps is not None for p in sweep.points):
            charts.append(_goodput_curve(model.name, sweep, color, f"chart-goodput-{i}"))
    return charts


def _latency_curve(
    name: str, sweep: SweepResult, color: str, guides: Sequence[Guide], chart_id: str
) -> Chart:
    best = best_point(sweep)
    p95: list[CurvePoint] = []
    p99: list[CurvePoint] = []
    skipped: list[tuple[str, str]] = []
    for p in ordered_points(sweep):
        pair = _finite_pair(p.throughput_rps, p.p95_ms)
        if pair is None:
            why = "no throughput" if not fmt.finite(p.throughput_rps) else "no P95"
            skipped.append((load_level(p), why))
            continue
        p95.append(
            CurvePoint(
                *pair,
                label=_level_tag(p),
                tooltip=_sweep_tooltip(name, p),
                hollow=p.client_bound,
                highlight=p is best,
            )
        )
        pair99 = _finite_pair(p.throughput_rps, p.p99_ms)
        if pair99 is not None:
            p99.append(CurvePoint(*pair99))
    kind = "SLA search" if sweep.kind == "sla_search" else "Load sweep"
    title = f"Throughput vs latency: {name}"
    legend = [_LegendItem("P95", color, "line")]
    if p99:
        legend.append(_LegendItem("P99", color, "dash"))
    legend += [_LegendItem(g.label, g.color, "dash") for g in guides]
    if any(p.hollow for p in p95):
        legend.append(_LegendItem("client-bound level", color, "ring"))
    if any(p.highlight for p in p95):
        legend.append(_LegendItem("best within the SLA", color, "best"))
    caption = (
        f"{kind} of {name}: P95 response time (solid) and P99 (dashed) against the throughput "
        "achieved at each load level; points are labelled c=N for N requests in flight, N/s for "
        "N requests per second offered. Where the curve turns upward the target is saturated: "
        "more load adds waiting, not throughput."
    )
    if guides:
        caption += " The red dashed line is the SLA's P95 limit."
    if any(p.hollow for p in p95):
        caption += " Hollow points are client-bound: the load generator may have set the pace."
    if any(p.highlight for p in p95):
        caption += " The circled point is the highest level that met the SLA."
    if sweep.stopped_because:
        caption += f" Stopped because: {sweep.stopped_because.rstrip('.')}."
    caption += _not_plotted(skipped)
    curves = [Curve("P95", color, tuple(p95))]
    if p99:
        # The P95 point's tooltip carries P99 too: no markers to clutter the dashed line.
        curves.append(Curve("P99", color, tuple(p99), dash="6 4", marker=0))
    svg = (
        line_chart(
            curves,
            chart_id=chart_id,
            title=title,
            x_label="throughput (requests per second)",
            y_label="response time (ms)",
            desc=f"P95 and P99 response time of {name} against throughput, one point per load "
            "level.",
            guides=guides,
            legend=legend,
        )
        if p95
        else None
    )
    return Chart(chart_id, title, svg, caption)


def _goodput_curve(name: str, sweep: SweepResult, color: str, chart_id: str) -> Chart:
    modes = Counter(p.mode for p in sweep.points)
    mode = modes.most_common(1)[0][0]
    best = best_point(sweep)
    served: list[CurvePoint] = []
    good: list[CurvePoint] = []
    skipped = [(load_level(p), "another load mode") for p in sweep.points if p.mode != mode]
    for p in ordered_points(sweep):
        if p.mode != mode:
            continue
        tip = _sweep_tooltip(name, p)
        pair = _finite_pair(p.value, p.throughput_rps)
        if pair is not None:
            served.append(CurvePoint(*pair, tooltip=tip))
        pair = _finite_pair(p.value, p.goodput_rps)
        if pair is not None:
            good.append(CurvePoint(*pair, tooltip=tip, highlight=p is best))
    title = f"Goodput vs offered load: {name}"
    rate = mode == "rate"
    legend = [
        _LegendItem("throughput", color, "line"),
        _LegendItem("goodput (met every SLO)", color, "dash"),
    ]
    if rate:
        legend.append(_LegendItem("offered", MUTED, "dotted"))
    if any(p.highlight for p in good):
        legend.append(_LegendItem("best within the SLA", color, "best"))
    caption = (
        f"Completed requests per second (solid) and goodput, the requests per second that met "
        f"every SLO with errors counted as misses (dashed), at each load level of {name}. The gap "
        "between the lines is traffic served too slowly or not at all."
    )
    if rate:
        caption += " The dotted grey line is the offered load."
    caption += _not_plotted(skipped)
    svg = (
        line_chart(
            [
                Curve("throughput", color, tuple(served)),
                Curve("goodput", color, tuple(good), dash="6 4"),
            ],
            chart_id=chart_id,
            title=title,
            x_label="offered load (requests per second)" if rate else "requests in flight",
            y_label="requests per second",
            desc=f"Throughput and goodput of {name} against the load level.",
            legend=legend,
            diagonal="offered" if rate else None,
            plot_height=200,
            log_x=True,
        )
        if served or good
        else None
    )
    return Chart(chart_id, title, svg, caption)


def llm_chart(report: Report, colors: Sequence[str]) -> Chart | None:
    """TTFT and ITL percentiles per model; None when no model streamed tokens."""
    names = ("TTFT", "ITL")
    groups: list[BarGroup] = []
    skipped: list[tuple[str, str]] = []
    for model, color in zip(report.models, colors, strict=True):
        llm = model.load.llm if model.load is not None else None
        if llm is None or (llm.ttft_ms is None and llm.itl_ms is None):
            skipped.append((model.name, "no TTFT or ITL"))
            continue
        values: list[tuple[float | None, ...]] = [
            (s.p50, s.p95, s.p99) if s is not None else (None, None, None)
            for s in (llm.ttft_ms, llm.itl_ms)
        ]
        groups.append(BarGroup(model.name, color, tuple(values)))
    if not groups:
        return None
    keep = [k for k in range(len(names)) if any(v is not None for g in groups for v in g.values[k])]
    bars = [BarGroup(g.label, g.color, tuple(g.values[k] for k in keep)) for g in groups]
    title = "Time to first token and inter-token latency"
    if keep == [0]:
        title = "Time to first token"
    elif keep == [1]:
        title = "Inter-token latency"
    chart_id = "chart-llm"
    svg = grouped_bar_chart(
        bars,
        chart_id=chart_id,
        title=title,
        panels=[names[k] for k in keep],
        series=("P50", "P95", "P99"),
        unit="ms",
        value_format=fmt.ms,
    )
    caption = (
        "P50, P95 and P99 per streaming model, lighter to darker; shorter is better. TTFT runs "
        "from the actual send to the first chunk that carries output; ITL is the gap between "
        "content chunks divided by the tokens each carries. Each panel has its own scale."
        + _not_plotted(skipped)
    )
    return Chart(chart_id, title, svg, caption)


def slice_layout(report: Report) -> list[tuple[str, list[str], list[ModelResult]]]:
    """Slice keys in first-seen order with their values (sorted) and the models that have them."""
    keys: dict[str, set[str]] = {}
    for model in report.models:
        if model.quality is None:
            continue
        for key, by_value in model.quality.by_slice.items():
            keys.setdefault(key, set()).update(by_value)
    layout = []
    for key, values in keys.items():
        models = [m for m in report.models if m.quality is not None and key in m.quality.by_slice]
        layout.append((key, sorted(values), models))
    return layout


def build_charts(report: Report) -> list[Chart]:
    """Every chart of the report, in reading order."""
    colors = model_colors(report)
    llm = llm_chart(report, colors)
    return [
        quality_chart(report, colors),
        latency_chart(report, colors),
        *([llm] if llm is not None else []),
        throughput_chart(report, colors),
        *sweep_charts(report, colors),
        *cost_charts(report, colors),
        *slice_charts(report, colors),
    ]
