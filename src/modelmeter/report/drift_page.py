"""The HTML page of a drift check over windows of time: a chart of the last 30 windows, one
line per column that drifted in any of them, and a table of every window. Self-contained and
offline, like the report (inline SVG, no script).

It draws what it is given (the figures come from `drift`): per column and window the evidence
of a change, −log10 of the Holm-adjusted p-value, with the line above which the decision says
"drifted".
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modelmeter.report.charts import PALETTE, Curve, CurvePoint, Guide, line_chart

__all__ = ["WindowQuality", "WindowRow", "drift_page"]

_SHOWN = 30
_CAP = 10.0  # p-values below 1e-10 are all "certain": the axis stops there


@dataclass(frozen=True)
class WindowRow:
    start: str  # ISO 8601
    rows: int
    drifted: list[str]


@dataclass(frozen=True)
class WindowQuality:
    start: str
    estimated: float  # CBPE's macro F1 on every row of the window
    realised: float | None  # on the rows whose label came in, when enough did
    interval: tuple[float, float] | None
    labelled: int


def _quality_chart(scores: Sequence[WindowQuality], day0: str) -> str:
    estimated = tuple(
        CurvePoint(k, q.estimated, tooltip=f"{q.start[:16]}: estimated {q.estimated:.3f}")
        for k, q in enumerate(scores)
    )
    realised = tuple(
        CurvePoint(
            k,
            q.realised,
            tooltip=f"{q.start[:16]}: realised {q.realised:.3f} on {q.labelled:,} labelled rows"
            + (f", 95% CI {q.interval[0]:.3f}–{q.interval[1]:.3f}" if q.interval else ""),
        )
        for k, q in enumerate(scores)
        if q.realised is not None
    )
    curves = [Curve("estimated without labels (CBPE)", PALETTE[0], estimated, marker=3)]
    if realised:
        curves.append(Curve("realised on late labels", PALETTE[1], realised, dash="5 3", marker=4))
    return line_chart(
        curves,
        chart_id="drift-quality",
        title="Macro F1 per window",
        x_label=f"window (0 = {day0}, UTC)",
        y_label="macro F1",
        desc="The estimate from calibrated probabilities on every row, and the F1 realised on "
        "the rows whose label came in (tooltips give their 95% intervals).",
        plot_height=220,
    )


def _evidence(p_value: float | None) -> float | None:
    if p_value is None:
        return None
    return _CAP if p_value <= 10**-_CAP else min(_CAP, -math.log10(max(p_value, 1e-300)))


def drift_page(
    *,
    title: str,
    reference: str,
    alpha: float,
    windows: Sequence[WindowRow],
    p_values: Mapping[str, Sequence[float | None]],  # column -> Holm-adjusted p per window
    quality: Sequence[WindowQuality] | None = None,
) -> str:
    shown = windows[-_SHOWN:]
    offset = len(windows) - len(shown)
    day0 = shown[0].start[:10] if shown else ""
    ever = [c for c in p_values if any(c in w.drifted for w in shown)]
    curves = []
    for i, column in enumerate(ever):
        points = []
        for k, window in enumerate(shown):
            value = _evidence(p_values[column][offset + k])
            if value is not None:
                tip = f"{column}, window of {window.start[:16]}: −log10 p = {value:.1f}"
                points.append(CurvePoint(k, value, tooltip=tip, highlight=column in window.drifted))
        curves.append(Curve(column, PALETTE[i % len(PALETTE)], tuple(points), marker=3))
    chart = ""
    if curves:
        chart = line_chart(
            curves,
            chart_id="drift-windows",
            title=f"Evidence of drift per window, last {len(shown)} (circled: drifted)",
            x_label=f"window (0 = {day0}, UTC)",
            y_label="−log10 Holm-adjusted p",
            desc="One line per column that drifted in any window shown; the dashed line is the "
            "decision threshold.",
            guides=[Guide(-math.log10(alpha), f"α = {alpha:g}: drifted above")],
            plot_height=260,
        )
    quiet = [c for c in p_values if c not in ever]
    rows = "".join(
        f"<tr><td>{html.escape(w.start[:16].replace('T', ' '))}</td><td>{w.rows:,}</td>"
        f"<td>{html.escape(', '.join(w.drifted)) or '—'}</td></tr>"
        for w in windows
    )
    quiet_note = (
        f"<p>{len(quiet)} column(s) never drifted in these windows: "
        f"{html.escape(', '.join(quiet))}.</p>"
        if quiet
        else ""
    )
    if not curves:
        chart = "<p><strong>No column drifted in any window shown.</strong></p>"
    if quality:
        chart += _quality_chart(quality[-_SHOWN:], day0)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px auto; max-width: 980px; color: #1d2430; }}
svg {{ width: 100%; height: auto; }} table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #e6e9ef; padding: 4px 10px; text-align: left; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Each window compared with {html.escape(reference)}; one decision per window over its
columns, Holm-corrected: a window in which nothing changed is flagged with a chance of at most
{alpha:g}, so over {len(windows)} such windows about {alpha * len(windows):.1f} false alarms
are to be expected. A change that lasts shows as a run of windows.</p>
{chart}
{quiet_note}
<h2>Every window</h2>
<table><thead><tr><th>window (UTC)</th><th>rows</th><th>drifted</th></tr></thead>
<tbody>{rows}</tbody></table>
</body></html>
"""
