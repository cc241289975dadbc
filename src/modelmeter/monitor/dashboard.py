"""A Grafana dashboard for the objectives: classic dashboard JSON (``schemaVersion`` 42, what
Grafana 13 reads and exports), one Prometheus data source chosen when it is imported.

Panels, top to bottom: traffic and failures; latency quantiles with the SLA's limits drawn as
thresholds; then per objective its burn rate over the alert windows (with the 14.4, 6 and 1
lines the alerts fire at) and the share of its error budget left over the dashboard's range;
and the burn alerts firing. The burn panels read the recording rules of ``rules.yml``, so the
dashboard shows exactly what the alerts see.

Queries use Grafana's ``$__rate_interval`` and ``$__range``; the static preview
(`monitor.preview`) puts concrete ranges in their place.
"""

from __future__ import annotations

import hashlib
from typing import Any

from modelmeter.monitor.rules import ALERT, BURNS, record_name
from modelmeter.monitor.slos import Slo
from modelmeter.monitor.sources import Source

__all__ = ["SCHEMA_VERSION", "dashboard"]

SCHEMA_VERSION = 42
_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_WIDTH = 24  # Grafana's grid is 24 columns wide


def _target(expr: str, legend: str, ref: str) -> dict[str, Any]:
    return {"datasource": _DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _thresholds(steps: list[tuple[float | None, str]]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


class _Grid:
    """Places panels left to right, wrapping at the grid's width."""

    def __init__(self) -> None:
        self.x = self.y = self.row_height = 0
        self.panels: list[dict[str, Any]] = []

    def add(self, panel: dict[str, Any], width: int, height: int) -> None:
        if self.x + width > _WIDTH:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": height, "w": width, "x": self.x, "y": self.y}
        panel["datasource"] = _DATASOURCE
        self.panels.append(panel)
        self.x += width
        self.row_height = max(self.row_height, height)


def _timeseries(
    title: str,
    targets: list[dict[str, Any]],
    unit: str,
    description: str,
    steps: list[tuple[float | None, str]] | None = None,
) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": unit, "custom": {"lineWidth": 1, "fillOpacity": 0}}
    if steps:
        defaults["thresholds"] = _thresholds(steps)
        defaults["custom"]["thresholdsStyle"] = {"mode": "line+area"}
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "none"},
        },
    }


def _stat(
    title: str,
    target: dict[str, Any],
    unit: str,
    description: str,
    steps: list[tuple[float | None, str]],
) -> dict[str, Any]:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "targets": [target],
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": _thresholds(steps), "decimals": 1},
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "area",
            "textMode": "auto",
        },
    }


def _traffic(grid: _Grid, source: Source, slos: list[Slo]) -> None:
    rate = "$__rate_interval"
    grid.add(
        _timeseries(
            "Requests per second",
            [
                _target(
                    f"sum by (status) (rate({source.requests}[{rate}]))",
                    "{{status}}",
                    "A",
                )
            ],
            "reqps",
            f"Answered requests by HTTP status ({source.requests}).",
        ),
        12,
        8,
    )
    limit = next((s.budget for s in slos if s.name == "availability"), None)
    failed = (
        f"(sum(rate({source.requests}{{{source.failed}}}[{rate}])) or vector(0))"
        f" / sum(rate({source.requests}[{rate}]))"
    )
    grid.add(
        _timeseries(
            "Failed share (5xx)",
            [_target(failed, "failed", "A")],
            "percentunit",
            "Share of requests answered 5xx"
            + (f"; the SLA allows {limit:.2%}." if limit is not None else "."),
            [(None, "green"), (limit, "red")] if limit is not None else None,
        ),
        12,
        8,
    )


def _latency(grid: _Grid, source: Source, slos: list[Slo]) -> None:
    rate = "$__rate_interval"
    for kind, (histogram, _bounds) in source.histograms().items():
        watched = [s for s in slos if s.histogram == histogram and s.threshold_s is not None]
        quantiles = (0.5, 0.95, 0.99)
        targets = [
            _target(
                f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket[{rate}])))",
                f"P{q * 100:g}",
                "ABC"[i],
            )
            for i, q in enumerate(quantiles)
        ]
        limits = sorted({s.threshold_s for s in watched if s.threshold_s is not None})
        steps: list[tuple[float | None, str]] = [(None, "green")]
        steps += [(limit, "red") for limit in limits[:1]]
        what = "Time to first chunk" if kind == "ttft" else "Response time"
        grid.add(
            _timeseries(
                f"{what}: P50, P95, P99",
                targets,
                "s",
                f"From the histogram {histogram}; a quantile is exact only at a bucket "
                "boundary (the SLA's thresholds are boundaries: `modelmeter monitor "
                "--metrics-url` checks)."
                + (f" The line is the SLA's {limits[0] * 1000:g} ms." if limits else ""),
                steps if limits else None,
            ),
            12,
            8,
        )


def _burn(grid: _Grid, slo: Slo) -> None:
    selector = f'{{slo="{slo.name}"}}'
    budget = f"{slo.budget:.10g}"
    windows = sorted({w for b in BURNS for w in (b.long, b.short)}, key=_window_order)
    targets = [
        _target(f"{record_name(w)}{selector} / {budget}", f"burn {w}", chr(ord("A") + i))
        for i, w in enumerate(windows)
    ]
    grid.add(
        _timeseries(
            f"{slo.name}: burn rate",
            targets,
            "none",
            f"Objective: {slo.description}. A burn rate of 1 spends the budget in exactly "
            "30 days; the page fires above 14.4 (1 h and 5 min) or 6 (6 h and 30 min), the "
            "ticket above 1 (3 d and 6 h).",
            [(None, "green"), (1.0, "yellow"), (6.0, "orange"), (14.4, "red")],
        ),
        16,
        8,
    )
    left = f"1 - avg_over_time({record_name('1h')}{selector}[$__range]) / {budget}"
    grid.add(
        _stat(
            f"{slo.name}: error budget left",
            _target(f"clamp_min({left}, -1)", "left", "A"),
            "percentunit",
            "Share of the error budget not spent over the dashboard's time range (the mean "
            "of the 1 h bad share over it, against the budget); below 0 the objective is "
            "missed over that range.",
            [(None, "red"), (0.0, "orange"), (0.25, "green")],
        ),
        8,
        8,
    )


def _window_order(window: str) -> float:
    units = {"m": 1, "h": 60, "d": 1440}
    return float(window[:-1]) * units[window[-1]]


def _alerts(grid: _Grid) -> None:
    firing = f'count by (slo, severity) (ALERTS{{alertname="{ALERT}", alertstate="firing"}})'
    grid.add(
        _timeseries(
            "Burn alerts firing",
            # with none firing, one series at 0 labelled "none" (Grafana would say No data)
            [
                _target(
                    f'{firing} or label_replace(vector(0), "slo", "none", "", "")',
                    "{{slo}} {{severity}}",
                    "A",
                )
            ],
            "none",
            f"{ALERT} alerts firing, by objective and severity (0: none).",
            [(None, "green"), (1.0, "red")],
        ),
        24,
        6,
    )


def dashboard(slos: list[Slo], source: Source, *, title: str) -> dict[str, Any]:
    """The dashboard's JSON (a dict) for ``slos`` on ``source``'s metrics."""
    grid = _Grid()
    _traffic(grid, source, slos)
    _latency(grid, source, slos)
    for slo in slos:
        _burn(grid, slo)
    _alerts(grid)
    uid = hashlib.sha256(f"{title}|{source.name}".encode()).hexdigest()[:12]
    return {
        "uid": f"modelmeter-{uid}",
        "title": title,
        "tags": ["modelmeter", "slo", source.name],
        "timezone": "browser",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "annotations": {"list": []},
        "links": [],
        "templating": {
            "list": [
                {
                    "type": "datasource",
                    "name": "datasource",
                    "label": "Prometheus",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                    "options": [],
                }
            ]
        },
        "panels": grid.panels,
    }
