"""`modelmeter run SPEC.yaml`: measure the targets a spec declares and write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelmeter.cli._console import (
    RichProgress,
    client_ceiling,
    configure_logging,
    friendly_errors,
)
from modelmeter.cli._output import finish_run

OutOption = Annotated[
    Path, typer.Option("--out", "-o", help="Folder for report.html, report.md and report.json.")
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Run store: a SQLite file or a SQLAlchemy URL (default: $MODELMETER_DB, else a file "
        "in your user data folder).",
    ),
]
NoStoreOption = Annotated[bool, typer.Option("--no-store", help="Do not store the run.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]


def register(app: typer.Typer) -> None:
    @app.command("run")
    @friendly_errors
    def run_command(
        spec_path: Annotated[Path, typer.Argument(metavar="SPEC.yaml", help="The study to run.")],
        out: OutOption = Path("modelmeter-report"),
        db: DbOption = None,
        no_store: NoStoreOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        """Measure quality, latency, throughput and cost of the spec's targets; write a report."""
        from modelmeter.data.loaders import load_samples
        from modelmeter.runner import run
        from modelmeter.spec import load_spec

        configure_logging(verbose)
        spec = load_spec(spec_path)
        samples = load_samples(spec.dataset)  # checked before any request is sent
        with RichProgress() as progress:
            result = run(
                spec, samples=samples, progress=progress, client_ceiling_rps=client_ceiling()
            )
        finish_run(result, out, db, store=not no_store)
