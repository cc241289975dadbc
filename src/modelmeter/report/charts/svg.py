"""SVG primitives of the report's charts: palette, the drawing surface, scales, ticks, axes and
legends.

All text that reaches an SVG is escaped by :class:`Svg`, so a hostile model name cannot inject
markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from modelmeter.results import Report

__all__ = [
    "AXIS",
    "FONT",
    "GRID",
    "INK",
    "LIMIT",
    "MUTED",
    "PALETTE",
    "RAMP",
    "WIDTH",
    "LegendItem",
    "Scale",
    "Svg",
    "draw_legend",
    "fit_text",
    "legend_rows",
    "log_ticks",
    "model_colors",
    "nice_ticks",
    "num",
    "padded",
    "text_width",
    "tick_labels",
    "tint",
    "x_axis",
    "y_axis",
]


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
RAMP = (
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


def num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str, size: float) -> float:
    """A rough width estimate for the system sans-serif fonts (no font metrics offline)."""
    return len(text) * size * 0.58


def fit_text(text: str, max_width: float, size: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``max_width``."""
    if text_width(text, size) <= max_width:
        return text
    keep = max(1, int(max_width / (size * 0.58)) - 1)
    return text[:keep] + "…"


def tint(color: str, share: float) -> str:
    """``#rrggbb`` mixed with white: ``share`` 1 is the colour itself, 0 is white."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * share):02x}" for c in rgb)


class Svg:
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
        attrs = f'x="{num(x)}" y="{num(y)}" font-size="{num(size)}" fill="{fill}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if weight:
            attrs += f' font-weight="{weight}"'
        if rotate:
            attrs += f' transform="rotate(-90 {num(x)} {num(y)})"'
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
            f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}"'
            f' stroke-width="{num(width)}"{extra}/>'
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
            extra += f' rx="{num(rx)}"'
        body = self._tip(tooltip)
        tag = f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(w, 0))}" height="{num(max(h, 0))}"'
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
            f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" fill="{fill}" stroke="{stroke}"'
            f' stroke-width="{num(stroke_width)}"'
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
            f'<path d="{d}" fill="none" stroke="{stroke}" stroke-width="{num(width)}"'
            f' stroke-linejoin="round" stroke-linecap="round"{extra}'
        )
        self.parts.append(f"{tag}>{body}</path>" if body else f"{tag}/>")

    def raw(self, markup: str) -> None:
        """Markup built here from escaped text only (gradients)."""
        self.parts.append(markup)

    def render(self) -> str:
        cid = self.chart_id
        head = (
            f'<svg class="chart" id="{cid}" viewBox="0 0 {num(self.width)} {num(self.height)}"'
            f' width="{num(self.width)}" height="{num(self.height)}" role="img"'
            f' aria-labelledby="{cid}-title {cid}-desc" font-family="{FONT}" font-size="12">'
            f'<title id="{cid}-title">{_esc(self.title)}</title>'
            f'<desc id="{cid}-desc">{_esc(self.desc)}</desc>'
            f'<rect x="0" y="0" width="{num(self.width)}" height="{num(self.height)}"'
            ' fill="#ffffff"/>'
        )
        return head + "".join(self.parts) + "</svg>"


# --------------------------------------------------------------------------------------------
# Scales and ticks


@dataclass(frozen=True, slots=True)
class Scale:
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


def x_axis(
    svg: Svg, scale: Scale, ticks: Sequence[float], y: float, top: float, label: str
) -> None:
    for tick, text in zip(ticks, tick_labels(ticks), strict=True):
        x = scale(tick)
        svg.line(x, top, x, y, stroke=GRID)
        svg.line(x, y, x, y + 4, stroke=AXIS)
        svg.text(x, y + 17, text, size=11, anchor="middle", fill=MUTED)
    svg.line(scale.start, y, scale.end, y, stroke=AXIS)
    svg.text((scale.start + scale.end) / 2, y + 38, label, anchor="middle", fill=INK)


def y_axis(
    svg: Svg, scale: Scale, ticks: Sequence[float], x: float, right: float, label: str
) -> None:
    for tick, text in zip(ticks, tick_labels(ticks), strict=True):
        y = scale(tick)
        svg.line(x, y, right, y, stroke=GRID)
        svg.line(x - 4, y, x, y, stroke=AXIS)
        svg.text(x - 7, y + 4, text, size=11, anchor="end", fill=MUTED)
    svg.line(x, scale.start, x, scale.end, stroke=AXIS)
    svg.text(16, (scale.start + scale.end) / 2, label, anchor="middle", rotate=True)


@dataclass(frozen=True, slots=True)
class LegendItem:
    label: str
    color: str
    kind: str  # "line", "dash", "dotted", "box", "dot", "ring", "best", "errorbar"


def legend_rows(items: Sequence[LegendItem], width: float) -> list[list[LegendItem]]:
    rows: list[list[LegendItem]] = [[]]
    used = 0.0
    for item in items:
        need = 26 + text_width(fit_text(item.label, 200, 12), 12) + 18
        if rows[-1] and used + need > width:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += need
    return [row for row in rows if row]


def draw_legend(svg: Svg, rows: Sequence[Sequence[LegendItem]], x0: float, y0: float) -> None:
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
            label = fit_text(item.label, 200, 12)
            svg.text(x + 26, y, label, tooltip=item.label if label != item.label else None)
            x += 26 + text_width(label, 12) + 18


def padded(lo: float, hi: float, share: float = 0.08) -> tuple[float, float]:
    span = hi - lo
    pad = span * share if span > 0 else (abs(hi) * 0.1 or 0.1)
    return lo - pad, hi + pad
