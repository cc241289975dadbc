"""`modelmeter monitor SPEC --out DIR`: Prometheus rules, burn-rate alerts and their promtool
tests from the spec's SLA."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelmeter._exceptions import SpecError
from modelmeter.cli._console import EXIT_FAILED, console, friendly_errors, stdout


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)


def _minutes(value: float | None) -> str:
    if value is None:
        return "never"
    if value < 1:
        return f"{value * 60:.0f} s"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


@friendly_errors
def monitor(
    spec_path: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The spec whose objectives.sla to watch.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files to.")] = Path(
        "monitoring"
    ),
    source: Annotated[
        str,
        typer.Option(help="Whose metrics the rules read: gateway or serve."),
    ] = "gateway",
    check: Annotated[
        bool, typer.Option(help="Run promtool check/test on the files (where installed).")
    ] = True,
    time_scale: Annotated[
        float,
        typer.Option(
            min=1e-6,
            max=1.0,
            help="Shrink every window by this factor (1/60: an hour becomes a minute) to try "
            "the alerts on a live server; the promtool tests are then not written.",
        ),
    ] = 1.0,
) -> None:
    """Write Prometheus recording rules and multi-window multi-burn-rate alerts for the SLA,
    with promtool unit tests proving when each alert fires (docs/monitoring.md)."""
    from modelmeter.monitor import SOURCES, monitoring_files, promtool
    from modelmeter.spec import load_spec

    if source not in SOURCES:
        raise typer.BadParameter(
            f"{source!r} is not a known source; one of: {', '.join(SOURCES)}",
            param_hint="--source",
        )
    spec = load_spec(spec_path)
    try:
        files = monitoring_files(
            spec.objectives.sla, SOURCES[source], spec_name=spec_path.name, time_scale=time_scale
        )
    except ValueError as exc:
        raise SpecError(f"{spec_path}: {exc}") from None
    written = files.write(out)
    table = Table(title=f"Objectives from {spec_path.name}, on {source}'s metrics")
    for column in ("objective", "budget", "outage: page", "2× budget: ticket", "0.1% noise"):
        table.add_column(column)
    for slo in files.slos:
        scenarios = {s.name: s for s in files.scenarios[slo.name]}
        noise = scenarios["background"]
        page = scenarios["outage"].first_minutes.get("page")
        ticket = scenarios["slow burn"].first_minutes.get("ticket")
        table.add_row(
            slo.description,
            f"{slo.budget:.2%}",
            "after " + _minutes(None if page is None else page * time_scale),
            "after " + _minutes(None if ticket is None else ticket * time_scale),
            "silent" if not noise.first_minutes else "alerts",
        )
    stdout.print(table)
    for slo in files.slos:
        if slo.note:
            console.print(f"[yellow]note:[/] {slo.name}: {escape(slo.note)}")
    for line in files.unwatched:
        console.print(f"[yellow]note:[/] {escape(line)}")
    for path in written:
        stdout.print(f"wrote {path}")
    if not check:
        return
    results = promtool(out)
    if results is None:
        console.print(
            "[yellow]note:[/] promtool is not installed, so the files were not checked "
            "(Debian/Ubuntu: apt-get install prometheus)"
        )
        return
    failed = False
    for command, passed, output in results:
        stdout.print(f"{command}: {'[green]passed[/]' if passed else '[red]FAILED[/]'}")
        if not passed:
            failed = True
            console.print(escape(output.strip()[-3000:]), highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)
