"""A static render of the dashboard's panels from a live Prometheus: every panel's queries run
through Prometheus's HTTP API over a time range, drawn as inline SVG in one HTML file (no
script, opens offline).

It answers what a dashboard JSON alone cannot: do the queries parse, do they find the series
the servers export and the recording rules write, and what do they show? A panel whose query
Prometheus refuses is marked ``data-state="error"`` with Prometheus's message; one with no data
``data-state="empty"``. There is no Grafana here; this is what a reviewer can open instead.
"""

from __future__ import annotations

import html
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from modelmeter.report.charts import PALETTE, Curve, CurvePoint, Guide, line_chart

__all__ = ["PanelData", "query_panels", "render_preview"]

_SCALE = {"s": (1000.0, "ms"), "percentunit": (100.0, "%"), "reqps": (1.0, "req/s")}


@dataclass
class PanelData:
    panel: dict[str, Any]
    series: list[tuple[str, list[tuple[float, float]]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.errors:
            return "error"
        return "ok" if any(points for _label, points in self.series) else "empty"


def _legend(template: str, labels: dict[str, str]) -> str:
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)
    return text.strip() or json.dumps(labels, sort_keys=True)


def _query_range(base: str, expr: str, start: float, end: float, step: float) -> Any:
    query = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    url = f"{base.rstrip('/')}/api/v1/query_range?{query}"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:  # Prometheus answers a bad query 400 with JSON
        try:
            return json.loads(exc.read())
        except ValueError:
            return {"status": "error", "error": f"{exc.code} {exc.reason}"}


def query_panels(
    dashboard: dict[str, Any], prometheus: str, *, start: float, end: float, step: float
) -> list[PanelData]:
    """Each panel's series from ``prometheus`` between ``start`` and ``end`` (Unix seconds),
    with Grafana's ``$__rate_interval`` (four steps, at least 4 s: four scrapes at the fastest
    rate Prometheus is set to here) and ``$__range`` put in; OSError when Prometheus cannot be
    reached at all."""
    rate = f"{max(4.0, 4 * step):g}s"
    span = f"{max(1.0, end - start):g}s"
    found = []
    for panel in dashboard["panels"]:
        data = PanelData(panel)
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", rate).replace("$__range", span)
            answer = _query_range(prometheus, expr, start, end, step)
            if answer.get("status") != "success":
                data.errors.append(f"{target['refId']}: {answer.get('error', answer)}")
                continue
            for result in answer["data"]["result"]:
                points = [
                    (float(t) - start, float(v))
                    for t, v in result["values"]
                    if math.isfinite(float(v))
                ]
                data.series.append((_legend(target["legendFormat"], result["metric"]), points))
        found.append(data)
    return found


def _steps(panel: dict[str, Any]) -> list[float]:
    thresholds = panel["fieldConfig"]["defaults"].get("thresholds", {})
    return [s["value"] for s in thresholds.get("steps", []) if s.get("value") is not None]


def _chart(index: int, data: PanelData) -> str:
    panel = data.panel
    factor, unit = _SCALE.get(panel["fieldConfig"]["defaults"].get("unit", ""), (1.0, ""))
    if panel["type"] == "stat":
        values = [v for _label, points in data.series for _t, v in points[-1:]]
        shown = f"{values[-1] * factor:,.1f}{' ' + unit if unit else ''}" if values else "—"
        return f'<p class="stat">{html.escape(shown)}</p>'
    curves = [
        Curve(
            label,
            PALETTE[i % len(PALETTE)],
            tuple(CurvePoint(t, v * factor) for t, v in points),
            marker=0,
        )
        for i, (label, points) in enumerate(data.series)
        if points
    ]
    guides = [Guide(v * factor, f"{v * factor:g} {unit}".strip()) for v in _steps(panel)]
    return line_chart(
        curves,
        chart_id=f"panel-{index}",
        title=panel["title"],
        x_label="seconds from the start of the range",
        y_label=unit,
        desc=panel.get("description", ""),
        guides=guides,
        plot_height=200,
    )


def render_preview(dashboard: dict[str, Any], panels: list[PanelData], *, source: str) -> str:
    """One HTML page drawing ``panels`` on the dashboard's grid."""
    parts = []
    for index, data in enumerate(panels, start=1):
        panel = data.panel
        grid = panel["gridPos"]
        if data.state == "error":
            body = "".join(f'<p class="panel-error">{html.escape(e)}</p>' for e in data.errors)
        elif data.state == "empty":
            body = '<p class="no-data">No data</p>'
        else:
            body = _chart(index, data)
        queries = "".join(
            f"<code>{html.escape(t['expr'])}</code>" for t in panel.get("targets", [])
        )
        parts.append(
            f'<section class="panel" data-state="{data.state}" data-type="{panel["type"]}" '
            f'style="grid-column: {grid["x"] + 1} / span {grid["w"]}">'
            + ("" if "<svg" in body else f"<h2>{html.escape(panel['title'])}</h2>")
            + f"{body}"
            f"<details><summary>query</summary>{queries}</details></section>"
        )
    title = html.escape(dashboard["title"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 16px; color: #1d2430; background: #f6f7f9; }}
main {{ display: grid; grid-template-columns: repeat(24, 1fr); gap: 10px; }}
.panel {{ background: #fff; border: 1px solid #e6e9ef; border-radius: 4px; padding: 8px;
  min-width: 0; }}
.panel h2 {{ font-size: 14px; margin: 0 0 6px; }}
.panel svg {{ display: block; width: 100%; max-width: 760px; height: auto; margin: auto; }}
.stat {{ font-size: 40px; font-weight: 600; text-align: center; margin: 40px 0; }}
.panel-error {{ color: #b42318; }} .no-data {{ color: #5b6575; text-align: center; }}
code {{ display: block; font-size: 11px; white-space: pre-wrap; color: #5b6575; }}
</style></head>
<body><h1>{title}</h1>
<p>A static render of the dashboard's panels, from {html.escape(source)}.</p>
<main>{"".join(parts)}</main></body></html>
"""
