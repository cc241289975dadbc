"""Prometheus recording rules and multi-window, multi-burn-rate alerts for each objective.

The SRE Workbook's set (chapter 5, "Alerting on SLOs"): an alert fires when the error budget
burns fast over both a long and a short window (the short one makes it stop soon after the
burn does):

* page when 2% of a 30-day budget goes in an hour (burn rate 14.4 over 1 h and 5 min) or 5% in
  six hours (6 over 6 h and 30 min);
* ticket when 10% goes in three days (1 over 3 d and 6 h).

Each objective gets one recording rule per window (``modelmeter:slo_error_ratio:rate<w>``, the
share of bad requests over it, labelled ``slo``) and two alerts (``ModelmeterSLOBurn``, labelled
``slo`` and ``severity`` page or ticket). Traffic is summed over the whole service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client.utils import floatToGoString as _go_float

from modelmeter.monitor.slos import Slo
from modelmeter.monitor.sources import Source

__all__ = ["ALERT", "BURNS", "MINUTES", "Burn", "detection_minutes", "le_label", "rule_groups"]

ALERT = "ModelmeterSLOBurn"
WINDOWS = ("5m", "30m", "1h", "6h", "3d")
MINUTES = {"5m": 5, "30m": 30, "1h": 60, "6h": 360, "3d": 4320}


def _range(window: str, time_scale: float) -> str:
    """The window as a PromQL range; with ``time_scale`` below 1, shrunk (in milliseconds)
    so that alerts can be tried in minutes instead of days."""
    if time_scale == 1.0:
        return window
    return f"{max(1, round(MINUTES[window] * 60_000 * time_scale))}ms"


@dataclass(frozen=True)
class Burn:
    severity: str
    long: str
    short: str
    factor: float


BURNS = (
    Burn("page", "1h", "5m", 14.4),
    Burn("page", "6h", "30m", 6.0),
    Burn("ticket", "3d", "6h", 1.0),
)


def le_label(seconds: float) -> str:
    """A bucket boundary as Python's Prometheus client writes ``le`` (0.1, 1.0, 10.0): the
    rules must name the label value exactly."""
    return str(_go_float(seconds))  # type: ignore[no-untyped-call]


def _ratio(slo: Slo, source: Source, window: str) -> str:
    """The share of bad requests over the PromQL range ``window`` (a spend objective: the
    spend rate over the budget's even rate)."""
    if slo.spend_per_s is not None:
        spent = f'sum(rate({source.spend}{{currency="{slo.currency}"}}[{window}]))'
        return f"({spent} or vector(0)) / {slo.spend_per_s:.10g}"
    if slo.histogram is None:
        total = f"sum(rate({source.requests}[{window}]))"
        # "or vector(0)": with no failed series at all the sum is empty, not 0, and so would
        # be the ratio; a dashboard and the alerts want 0 then
        bad = f"sum(rate({source.requests}{{{source.failed}}}[{window}]))"
        return f"({bad} or vector(0)) / {total}"
    assert slo.threshold_s is not None
    le = le_label(slo.threshold_s)
    fast = f'sum(rate({slo.histogram}_bucket{{le="{le}"}}[{window}]))'
    return f"1 - {fast} / sum(rate({slo.histogram}_count[{window}]))"


def record_name(window: str) -> str:
    return f"modelmeter:slo_error_ratio:rate{window}"


def _condition(slo: Slo, burn: Burn) -> str:
    limit = f"{burn.factor * slo.budget:.10g}"
    selector = f'{{slo="{slo.name}"}}'
    return (
        f"({record_name(burn.long)}{selector} > {limit} "
        f"and {record_name(burn.short)}{selector} > {limit})"
    )


def alert_annotations(slo: Slo, severity: str) -> dict[str, str]:
    speed = "fast (page)" if severity == "page" else "steadily (ticket)"
    what = "the monthly budget" if slo.spend_per_s is not None else "the error budget"
    return {
        "summary": f"{slo.name}: {what} is burning {speed}",
        "description": f"Objective: {slo.description}. "
        + (
            "Burn rate over 14.4 for 1 h and 5 min, or over 6 for 6 h and 30 min."
            if severity == "page"
            else "Burn rate over 1 for 3 d and 6 h."
        ),
    }


def rule_groups(slos: list[Slo], source: Source, time_scale: float = 1.0) -> dict[str, Any]:
    """The rule file's content (``groups:``) for ``slos`` on ``source``'s metrics; windows
    shrunk by ``time_scale`` (below 1) to try the alerts quickly (the names stay)."""
    recording = [
        {
            "record": record_name(window),
            "expr": _ratio(slo, source, _range(window, time_scale)),
            "labels": {"slo": slo.name},
        }
        for slo in slos
        for window in WINDOWS
    ]
    alerts = []
    for slo in slos:
        for severity in ("page", "ticket"):
            conditions = [_condition(slo, b) for b in BURNS if b.severity == severity]
            alerts.append(
                {
                    "alert": ALERT,
                    "expr": "\nor\n".join(conditions),
                    "labels": {"slo": slo.name, "severity": severity},
                    "annotations": alert_annotations(slo, severity),
                }
            )
    return {
        "groups": [
            {"name": "modelmeter-slo-ratios", "rules": recording},
            {"name": "modelmeter-slo-alerts", "rules": alerts},
        ]
    }


def detection_minutes(slo: Slo, bad_share: float, severity: str) -> float | None:
    """Minutes from the start of a burn at ``bad_share`` (of requests bad, steady) to the
    ``severity`` alert, by the long windows' arithmetic; None when it never fires."""
    times = [
        burn.factor * slo.budget * MINUTES[burn.long] / bad_share
        for burn in BURNS
        if burn.severity == severity and bad_share > burn.factor * slo.budget
    ]
    return min(times) if times else None
