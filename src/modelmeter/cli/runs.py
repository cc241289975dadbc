"""`modelmeter runs list` and `modelmeter report RUN_ID`: stored runs, re-rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelmeter.cli._console import console, friendly_errors, stdout
from modelmeter.cli.run import DbOption, OutOption

runs_app = typer.Typer(help="Stored runs.", no_args_is_help=True)


@runs_app.command("list")
@friendly_errors
def list_runs(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first.")] = 20,
) -> None:
    """List stored runs, newest first."""
    from modelmeter.store import RunStore

    store = RunStore(db)
    summaries = store.list_runs(limit)
    if not summaries:
        console.print(f"no runs in {store.display_url}", highlight=False)
        return
    table = Table(title=f"runs in {store.display_url}", title_justify="left")
    table.add_column("run id", no_wrap=True)
    table.add_column("created (UTC)", no_wrap=True)
    for column in ("name", "models", "chosen"):
        table.add_column(column)
    for s in summaries:
        chosen = "unfinished: run it with --resume" if s.unfinished else s.chosen or "–"
        if s.gateway_log:
            chosen = f"gateway A/B log: modelmeter ab --run {s.run_id}"
        created = s.created_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(s.run_id, created, s.name, s.models, chosen)
    stdout.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")

    @app.command("report")
    @friendly_errors
    def report_command(
        run_id: Annotated[str, typer.Argument(help="A run id, or a unique prefix of one.")],
        out: OutOption = Path("modelmeter-report"),
        db: DbOption = None,
    ) -> None:
        """Re-render a stored run's report into --out."""
        from modelmeter.report import write_report
        from modelmeter.store import RunStore
        from modelmeter.study.result import without_side_files

        report = without_side_files(
            RunStore(db).load_report(run_id),
            "Router configurations and Kubernetes manifests are written with a run, not when its "
            "report is rendered again from the store; run the spec again to get them.",
        )
        for path in write_report(report, out).values():
            console.print(f"wrote {path}", highlight=False)
