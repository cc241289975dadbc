"""`modelmeter watch`: re-run a study on a schedule, gate it against a baseline, look for drift
in production's latest window, and notify a webhook in Alertmanager's format (docs/watch.md).
"""

from modelmeter._intervals import parse_interval
from modelmeter.watch.alertmanager import notify, webhook_payload
from modelmeter.watch.cronjob import cronjob_manifests
from modelmeter.watch.cycle import (
    CycleResult,
    DriftSource,
    GateSettings,
    changes,
    findings_from_json,
    findings_json,
    watch_cycle,
)
from modelmeter.watch.findings import Finding, drift_findings, failed_run_finding, gate_findings

__all__ = [
    "CycleResult",
    "DriftSource",
    "Finding",
    "GateSettings",
    "changes",
    "cronjob_manifests",
    "drift_findings",
    "failed_run_finding",
    "findings_from_json",
    "findings_json",
    "gate_findings",
    "notify",
    "parse_interval",
    "watch_cycle",
    "webhook_payload",
]
