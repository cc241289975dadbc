"""What a watch cycle found, as alerts: each regression the gate failed on, each drifted column,
a run that could not be made.

A finding's labels identify it across cycles (the same regression found again is the same
alert, so a receiver deduplicates it and a later cycle can say it is resolved); its annotations
say what was measured, in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelmeter.compare import ComparisonResult
    from modelmeter.drift import DriftReport

__all__ = ["Finding", "drift_findings", "failed_run_finding", "gate_findings"]

REGRESSION = "ModelmeterRegression"
DRIFT = "ModelmeterDrift"
RUN_FAILED = "ModelmeterWatchRunFailed"


@dataclass(frozen=True)
class Finding:
    """One alert: Alertmanager's ``labels`` (``alertname`` among them) and ``annotations``."""

    labels: dict[str, str]
    summary: str
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # more annotations

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.labels.items()))

    @property
    def actionable(self) -> bool:
        """Above information: someone must act (the command exits 1)."""
        return self.labels.get("severity") != "info"

    @property
    def annotations(self) -> dict[str, str]:
        found = {"summary": self.summary, **self.extra}
        if self.description:
            found["description"] = self.description
        return found

    def to_json(self) -> dict[str, object]:
        return {"labels": self.labels, "annotations": self.annotations}

    @classmethod
    def from_json(cls, data: dict[str, dict[str, str]]) -> Finding:
        annotations = dict(data["annotations"])
        summary = annotations.pop("summary", "")
        description = annotations.pop("description", "")
        return cls(dict(data["labels"]), summary, description, annotations)


def _severity(status: str, message: str) -> str | None:
    """A failed check is a ticket; a warning, or a check the gate could not decide (an SLA
    missed on a run the target did not pace alone), is information someone should see."""
    if status == "fail":
        return "ticket"
    if status == "warn" or (status == "skip" and message.startswith("inconclusive")):
        return "info"
    return None


def gate_findings(result: ComparisonResult, study: str) -> list[Finding]:
    """One finding per check of the regression gate (quality, latency, sla, budget) that
    failed (severity ticket), warned or was inconclusive (severity info)."""
    found = []
    for model in result.models:
        for check in model.checks:
            severity = _severity(check.status, check.message)
            if severity is None:
                continue
            found.append(
                Finding(
                    {
                        "alertname": REGRESSION,
                        "study": study,
                        "model": model.label,
                        "check": check.name,
                        "severity": severity,
                    },
                    f"{model.label}: {check.name} "
                    + ("regressed" if check.status == "fail" else f"{check.status}: worth a look")
                    + f" against run {result.baseline_run}",
                    check.message,
                    {"baseline_run": result.baseline_run, "run": result.new_run},
                )
            )
    return found


def drift_findings(report: DriftReport, study: str, window: str) -> list[Finding]:
    """One finding per column whose distribution changed (Holm-corrected, see drift)."""
    found = []
    for column in report.columns:
        if not column.drifted:
            continue
        drift = column.drift
        psi = "" if drift.psi is None else f", PSI {drift.psi:.3f}"
        found.append(
            Finding(
                {
                    "alertname": DRIFT,
                    "study": study,
                    "column": drift.column,
                    "severity": "ticket",
                },
                f"{drift.column} drifted in {window}",
                f"{drift.kind} column, {drift.test} {drift.statistic:.3g}, Holm-adjusted "
                f"p {column.adjusted_p:.2g} (α {report.alpha:g}), {drift.distance_name} "
                f"{drift.distance:.3f}{psi}; {drift.n_reference:,} reference and "
                f"{drift.n_current:,} current values",
            )
        )
    return found


def failed_run_finding(study: str, error: str) -> Finding:
    """The study could not be run (a target down, a file gone): nothing was measured."""
    return Finding(
        {"alertname": RUN_FAILED, "study": study, "severity": "page"},
        f"{study}: the watch run failed, nothing was measured",
        error,
    )
