"""`modelmeter watch SPEC --baseline RUN`: re-run a study (once, or --every interval), gate it
against the baseline, check drift in production's latest window, notify a webhook.

Exit codes, for cron and CronJobs: 0 nothing found; 1 a finding (a regression, a drifted
column, a run that failed) or a notification that could not be sent; 2 input to fix.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelmeter._exceptions import SpecError
from modelmeter.cli._console import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    RichProgress,
    configure_logging,
    console,
    friendly_errors,
    stdout,
)
from modelmeter.cli.run import DbOption, NoStoreOption, VerboseOption

if TYPE_CHECKING:
    from modelmeter.watch import CycleResult, DriftSource, Finding, GateSettings

TOKEN_ENV = "MODELMETER_WEBHOOK_TOKEN"


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)


def _interval(text: str | None, hint: str) -> float | None:
    from modelmeter.watch import parse_interval

    if text is None:
        return None
    try:
        return parse_interval(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


@friendly_errors
def watch(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="The study to run again.")],
    baseline: Annotated[
        str | None,
        typer.Option(
            help="The run to hold each new one against: a stored run id or a report.json "
            "(required unless --cronjob).",
        ),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(help="Run a cycle every interval (30m, 1h, 1d); default: one cycle."),
    ] = None,
    times: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many cycles (with --every).")
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            help="POST new and resolved findings here, as Alertmanager's webhook does. A "
            f"bearer token is read from ${TOKEN_ENV} when set."
        ),
    ] = None,
    current: Annotated[
        str | None,
        typer.Option(
            help="Check drift in production's latest window: 'gateway' (the gateway's "
            "traffic log in the store) or a JSONL/CSV file, read again each cycle.",
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            help="The data to compare the window with (needed with a --current file; with "
            "'gateway', default: the window before the latest)."
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(help="Length of the gateway's window (default: --every, else 1d)."),
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="Drift: only these columns, comma-separated.")
    ] = None,
    alpha: Annotated[
        float,
        typer.Option(
            min=1e-6, max=0.5, help="Significance level of the gate's tests and of drift."
        ),
    ] = 0.05,
    tolerance: Annotated[
        float, typer.Option(min=0.0, help="Largest quality drop that passes (0.01 = 1 point).")
    ] = 0.01,
    latency_tolerance: Annotated[
        float, typer.Option(min=0.0, help="Largest relative P95 rise that passes (0.2 = 20%).")
    ] = 0.20,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Each cycle's report goes to OUT/<run id>.")
    ] = Path("modelmeter-watch"),
    db: DbOption = None,
    no_store: NoStoreOption = False,
    cronjob: Annotated[
        Path | None,
        typer.Option(
            help="Write a Kubernetes CronJob (and the spec's ConfigMap) that runs one cycle "
            "on --schedule, instead of running."
        ),
    ] = None,
    schedule: Annotated[str, typer.Option(help="The CronJob's cron schedule.")] = "0 * * * *",
    image: Annotated[
        str, typer.Option(help="The CronJob's container image (modelmeter installed).")
    ] = "modelmeter:latest",
    verbose: VerboseOption = False,
) -> None:
    """Re-run the study and watch it: regressions against the baseline, drift in production's
    latest window, and an Alertmanager-style webhook when something fires or resolves
    (docs/watch.md)."""
    from modelmeter.watch import DriftSource, GateSettings

    configure_logging(verbose)
    interval = _interval(every, "--every")
    window_s = _interval(window, "--window") or interval or 86_400.0
    if times is not None and interval is None:
        raise typer.BadParameter(
            "--times counts cycles of --every; give --every too", param_hint="--times"
        )
    drift = None
    if current is not None:
        current_path = None if current == "gateway" else Path(current)
        if current_path is not None and reference is None:
            raise typer.BadParameter(
                "a --current file needs a --reference", param_hint="--reference"
            )
        if current_path is None and no_store:
            raise typer.BadParameter(
                "the gateway's log is read from the store", param_hint="--no-store"
            )
        wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        drift = DriftSource(reference, current_path, window_s, wanted, alpha)
    elif reference is not None:
        raise typer.BadParameter("--reference goes with --current", param_hint="--current")
    if cronjob is not None:
        _write_cronjob(spec_path, cronjob, baseline, webhook, drift, every, schedule, image)
        return
    if baseline is None:
        raise typer.BadParameter(
            "name the run to hold the new ones against", param_hint="--baseline"
        )
    gate = GateSettings(alpha, tolerance, latency_tolerance)
    code = _watch(spec_path, baseline, interval, times, webhook, drift, gate, out, db, no_store)
    if code:
        raise typer.Exit(code)


def _watch(
    spec_path: Path,
    baseline: str,
    interval: float | None,
    times: int | None,
    webhook: str | None,
    drift: DriftSource | None,
    gate: GateSettings,
    out: Path,
    db: str | None,
    no_store: bool,
) -> int:
    from modelmeter._exceptions import CompareError
    from modelmeter.cli.compare import ReportSources
    from modelmeter.spec import load_spec
    from modelmeter.store import RunStore
    from modelmeter.watch import findings_from_json, watch_cycle

    spec = load_spec(spec_path)
    sources = ReportSources(db)
    try:
        baseline_report = sources.load(baseline, "--baseline")
    except CompareError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_BAD_INPUT
    finally:
        sources.close()
    store = None if no_store else RunStore(db)
    try:
        previous = findings_from_json(store.watch_state(spec.name)) if store else []
        cycle, started = 0, time.monotonic()
        while True:
            cycle += 1
            console.print(f"watch cycle {cycle} of {escape(spec.name)}", highlight=False)
            try:
                with RichProgress() as progress:
                    result = watch_cycle(
                        spec,
                        baseline_report,
                        store,
                        gate=gate,
                        drift=drift,
                        progress=progress,
                        report_dir=out,
                    )
            except CompareError as exc:
                console.print(
                    f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
                )
                return EXIT_BAD_INPUT
            _show(result)
            sent = _notify(webhook, result, previous)
            if sent and store is not None:
                from modelmeter.watch import findings_json

                store.save_watch_state(spec.name, findings_json(result.findings))
            if sent:
                previous = result.findings
            acted = any(finding.actionable for finding in result.findings)
            code = EXIT_FAILED if acted or not sent else 0
            if interval is None or (times is not None and cycle >= times):
                return code
            due = started + cycle * interval
            wait = due - time.monotonic()
            if wait <= 0:
                console.print(
                    f"[yellow]note:[/] the cycle took longer than --every; the next starts now "
                    f"({-wait:.0f} s late)"
                )
                started -= wait  # the schedule moves on from now instead of catching up
                continue
            console.print(f"next cycle in {wait:.0f} s (Ctrl-C stops)", highlight=False)
            time.sleep(wait)
    finally:
        if store is not None:
            store.close()


def _show(result: CycleResult) -> None:
    if result.run_id is not None and result.gate is not None:
        gate = result.gate
        verdict = "no regression" if gate.passed else f"{gate.failures} regression(s)"
        stdout.print(
            f"run {result.run_id} against {gate.baseline_run}: {verdict}"
            + (f", {gate.warnings} warning(s)" if gate.warnings else ""),
            highlight=False,
        )
    if result.drift is not None:
        drifted = result.drift.drifted
        stdout.print(
            f"drift in {escape(result.drift_window)}: {len(drifted)} of "
            f"{len(result.drift.columns)} columns drifted"
            + (f" ({escape(', '.join(drifted))})" if drifted else ""),
            highlight=False,
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if not result.findings:
        stdout.print("[green]nothing found[/]")
        return
    table = Table(title="findings", title_justify="left")
    for column in ("alert", "severity", "what", "detail"):
        table.add_column(column, overflow="fold")
    for finding in result.findings:
        table.add_row(
            finding.labels["alertname"],
            finding.labels.get("severity", ""),
            escape(finding.summary),
            escape(finding.description),
        )
    stdout.print(table)


def _notify(webhook: str | None, result: CycleResult, previous: list[Finding]) -> bool:
    """Send what changed since the last cycle; True when sent (or nothing to send)."""
    from modelmeter._exceptions import NotifyError
    from modelmeter.watch import changes, notify, webhook_payload

    new, _still, resolved = changes(result.findings, previous)
    if webhook is None or not (new or resolved):
        return True
    payload = webhook_payload(result.findings, resolved, group={"study": result.study})
    try:
        status = notify(webhook, payload, bearer=os.environ.get(TOKEN_ENV) or None)
    except NotifyError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return False
    console.print(
        f"notified {escape(webhook)} ({status}): {len(new)} new, {len(resolved)} resolved",
        highlight=False,
    )
    return True


def _write_cronjob(
    spec_path: Path,
    path: Path,
    baseline: str | None,
    webhook: str | None,
    drift: DriftSource | None,
    every: str | None,
    schedule: str,
    image: str,
) -> None:
    from modelmeter._exceptions import PlanError
    from modelmeter.spec import load_spec
    from modelmeter.watch import cronjob_manifests

    if baseline is None:
        raise typer.BadParameter(
            "the CronJob's cycles need a --baseline run id", param_hint="--baseline"
        )
    if every is not None:
        raise typer.BadParameter("a CronJob runs on --schedule, not --every", param_hint="--every")
    spec = load_spec(spec_path)
    args = ["--baseline", baseline]
    if webhook is not None:
        args += ["--webhook", webhook]
    if drift is not None:
        if drift.current is not None or drift.reference is not None:
            raise SpecError(
                "--cronjob: drift against files needs them in the pod; use --current gateway, "
                "or add the files to the image and edit the manifest"
            )
        args += ["--current", "gateway", "--window", f"{drift.window_s:g}s"]
        if drift.columns:
            args += ["--columns", ",".join(drift.columns)]
    try:
        text = cronjob_manifests(
            spec.name, spec_path.read_text(encoding="utf-8"), args, schedule=schedule, image=image
        )
    except PlanError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"--{exc.argument or 'cronjob'}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    stdout.print(f"wrote {path}")
