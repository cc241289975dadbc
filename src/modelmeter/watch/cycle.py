"""One watch cycle: run the study again, keep it, gate it against the baseline, look for drift
in the latest window of production data, and say what changed since the last cycle.

Nothing here draws or prints: the command shows the :class:`CycleResult` and sends its alerts.
A run that fails (a target down) is itself a finding, so a watch never goes quiet because the
thing it watches broke.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmeter._exceptions import CompareError, ModelmeterError
from modelmeter.watch.findings import (
    Finding,
    drift_findings,
    failed_run_finding,
    gate_findings,
)

if TYPE_CHECKING:
    from modelmeter.compare import ComparisonResult
    from modelmeter.drift import DriftReport
    from modelmeter.progress import ProgressListener
    from modelmeter.results import Report
    from modelmeter.spec import Spec
    from modelmeter.store import RunStore

__all__ = ["CycleResult", "DriftSource", "GateSettings", "changes", "watch_cycle"]

_MIN_WINDOW_ROWS = 30  # fewer logged requests than this in a window: too few to test


@dataclass(frozen=True)
class DriftSource:
    """Where the latest window and its reference come from.

    ``current``: a file (JSONL or CSV) production writes, read again each cycle; None reads the
    gateway's traffic log in the store, the last ``window_s`` seconds. ``reference``: a file;
    None, with the gateway's log, is the window before the latest (a change from one window to
    the next)."""

    reference: Path | None = None
    current: Path | None = None
    window_s: float = 86_400.0
    columns: list[str] | None = None
    alpha: float = 0.05


@dataclass(frozen=True)
class GateSettings:
    alpha: float = 0.05
    tolerance: float = 0.01
    latency_tolerance: float = 0.20


@dataclass
class CycleResult:
    study: str
    run_id: str | None = None  # None when the run failed
    report: Report | None = None
    gate: ComparisonResult | None = None
    drift: DriftReport | None = None
    drift_window: str = ""
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why


def _window_words(seconds: float) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds / 86_400:g} d"
    if seconds % 3_600 == 0:
        return f"{seconds / 3_600:g} h"
    return f"{seconds / 60:g} min" if seconds % 60 == 0 else f"{seconds:g} s"


def _drift(
    source: DriftSource, store: RunStore | None, now_ns: int
) -> tuple[DriftReport | None, str, str]:
    """The drift report of the latest window, its description, and a note when there is none."""
    from modelmeter.data import read_columns
    from modelmeter.drift import compare_tables, gateway_columns

    window = _window_words(source.window_s)
    span = int(source.window_s * 1e9)
    before: list[dict[str, Any]] = []  # the gateway's window before the latest, read with it
    if source.current is not None:
        current = read_columns(source.current)
        where = source.current.name
    elif store is None:
        return None, "", "drift: the gateway's log is in the store, and --no-store was given"
    else:
        since = now_ns - (2 if source.reference is None else 1) * span
        logged = store.gateway_log(since_ns=since)
        before = [r for r in logged if r["at_ns"] < now_ns - span]
        current = gateway_columns(r for r in logged if r["at_ns"] >= now_ns - span)
        where = f"the gateway's last {window}"
    if source.reference is not None:
        reference = read_columns(source.reference)
        described = f"{where} against {source.reference.name}"
    elif store is not None and source.current is None:
        reference = gateway_columns(before)
        described = f"{where} against the {window} before"
    else:
        return None, "", "drift: a current file needs a --reference to compare it with"
    sizes = [len(next(iter(table.values()), [])) for table in (reference, current)]
    if min(sizes) < _MIN_WINDOW_ROWS:
        return (
            None,
            described,
            (
                f"drift: not checked, {sizes[0]:,} reference and {sizes[1]:,} current rows "
                f"(at least {_MIN_WINDOW_ROWS} each are needed)"
            ),
        )
    try:
        report = compare_tables(reference, current, columns=source.columns, alpha=source.alpha)
    except ValueError as exc:
        raise CompareError(f"drift: {exc}") from None
    return report, described, ""


def watch_cycle(
    spec: Spec,
    baseline: Report,
    store: RunStore | None,
    *,
    gate: GateSettings,
    drift: DriftSource | None = None,
    progress: ProgressListener | None = None,
    report_dir: Path | None = None,
) -> CycleResult:
    """Run ``spec`` once and hold it against ``baseline``; store it (when ``store``) and write
    its report under ``report_dir/<run id>``. A run that fails is a finding, not an error;
    :class:`CompareError` when the two runs cannot be compared at all (no model in common)."""
    from modelmeter.compare import compare_reports
    from modelmeter.study import RunOptions, new_run_id, run, study_samples

    result = CycleResult(study=spec.name)
    run_id = new_run_id()
    try:
        samples, tasks = study_samples(spec)
        done = run(
            spec,
            RunOptions(
                samples=samples,
                tasks=tasks,
                progress=progress,
                run_id=run_id,
                cache=store.response_cache(run_id) if store is not None else None,
            ),
        )
    except ModelmeterError as exc:
        result.findings.append(failed_run_finding(spec.name, str(exc)))
    else:
        result.run_id, result.report = run_id, done.report
        if store is not None:
            store.save(done.report, done.outcomes)
        if report_dir is not None:
            from modelmeter.report import write_report

            write_report(done.report, report_dir / run_id)
        result.gate = compare_reports(
            baseline,
            done.report,
            alpha=gate.alpha,
            tolerance=gate.tolerance,
            latency_tolerance=gate.latency_tolerance,
        )
        result.findings += gate_findings(result.gate, spec.name)
    if drift is not None:
        report, described, note = _drift(drift, store, time.time_ns())
        result.drift, result.drift_window = report, described
        if note:
            result.notes.append(note)
        if report is not None:
            result.findings += drift_findings(report, spec.name, described)
    return result


def changes(
    now: list[Finding], before: list[Finding]
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(new, still firing, resolved) between the last cycle's findings and this one's."""
    earlier = {finding.key for finding in before}
    current = {finding.key for finding in now}
    new = [f for f in now if f.key not in earlier]
    still = [f for f in now if f.key in earlier]
    resolved = [f for f in before if f.key not in current]
    return new, still, resolved


def findings_json(findings: list[Finding]) -> str:
    return json.dumps([f.to_json() for f in findings])


def findings_from_json(text: str | None) -> list[Finding]:
    if not text:
        return []
    return [Finding.from_json(item) for item in json.loads(text)]
