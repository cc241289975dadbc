"""`modelmeter drift REFERENCE CURRENT`: which columns of a dataset changed, and by how much."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelmeter._exceptions import SpecError
from modelmeter.cli._console import friendly_errors, stdout


def register(app: typer.Typer) -> None:
    app.command("drift")(drift)


@friendly_errors
def drift(
    reference: Annotated[Path, typer.Argument(help="The reference data (.jsonl or .csv).")],
    current: Annotated[Path, typer.Argument(help="The data to compare with it.")],
    columns: Annotated[
        str | None, typer.Option(help="Only these columns, comma-separated (default: all shared).")
    ] = None,
    alpha: Annotated[
        float, typer.Option(min=1e-6, max=0.5, help="Family-wise false-alarm rate under no drift.")
    ] = 0.05,
    rule: Annotated[
        str,
        typer.Option(
            help="holm: each column's test, Holm-corrected across columns; evidently: "
            "Evidently's defaults (test per column up to 1,000 rows, distance ≥ 0.1 above)."
        ),
    ] = "holm",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON here too.")
    ] = None,
) -> None:
    """Compare two datasets column by column: Kolmogorov-Smirnov, chi-squared, distances and
    PSI, with one Holm-corrected decision (docs/drift.md)."""
    from modelmeter.data import read_columns
    from modelmeter.drift import compare_tables

    if rule not in ("holm", "evidently"):
        raise typer.BadParameter(f"{rule!r}: holm or evidently", param_hint="--rule")
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    tables = read_columns(reference), read_columns(current)
    try:
        report = compare_tables(*tables, columns=wanted, alpha=alpha, rule=rule)  # type: ignore[arg-type]
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    if not report.columns:
        raise SpecError(f"{reference.name} and {current.name} share no column to compare")
    table = Table(title=f"Drift from {reference.name} to {current.name} ({rule}, α = {alpha:g})")
    for name in ("column", "kind", "test", "p (Holm)", "distance", "PSI", "drifted"):
        table.add_column(name)
    for column in report.columns:
        found = column.drift
        table.add_row(
            found.column,
            found.kind,
            f"{found.test} {found.statistic:.3g}",
            f"{column.adjusted_p:.2g}",
            f"{found.distance_name} {found.distance:.3f}",
            "—" if found.psi is None else f"{found.psi:.3f}",
            "[bold red]yes[/]" if column.drifted else "no",
        )
    stdout.print(table)
    for name, why in report.skipped.items():
        stdout.print(f"skipped {name}: {why}")
    drifted = report.drifted
    stdout.print(
        f"{len(drifted)} of {len(report.columns)} columns drifted"
        + (f": {', '.join(drifted)}" if drifted else "")
    )
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        stdout.print(f"wrote {json_out}")
