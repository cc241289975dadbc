"""`modelmeter demo`: the built-in scenario, offline, on real local models."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from modelmeter.cli._console import (
    RichProgress,
    client_ceiling,
    configure_logging,
    console,
    friendly_errors,
)
from modelmeter.cli._output import check_out_dir, finish_run
from modelmeter.cli.run import DbOption, NoStoreOption, OutOption, VerboseOption


def register(app: typer.Typer) -> None:
    @app.command("demo")
    @friendly_errors
    def demo_command(
        out: OutOption = Path("modelmeter-report"),
        db: DbOption = None,
        no_store: NoStoreOption = False,
        duration: Annotated[
            float, typer.Option(min=1, max=600, help="Seconds of load per variant.")
        ] = 8.0,
        concurrency: Annotated[
            int, typer.Option(min=1, max=256, help="Requests in flight per variant.")
        ] = 8,
        price_per_hour: Annotated[
            float,
            typer.Option(min=0.0001, help="Assumed price of one instance per hour, for cost."),
        ] = 0.09,
        currency: Annotated[str, typer.Option(help="ISO 4217 code of that price.")] = "EUR",
        cache_dir: Annotated[
            Path | None,
            typer.Option(help="Where trained variants are cached (default: user cache folder)."),
        ] = None,
        verbose: VerboseOption = False,
    ) -> None:
        """Train three variants of a support-intent classifier, serve and measure them, report."""
        try:
            from modelmeter.demo.scenario import DemoOptions, run_demo
        except ImportError as exc:
            console.print(
                f"[bold red]error:[/] the demo needs its extra: pip install 'modelmeter[demo]' "
                f"({exc.name} is missing)"
            )
            raise typer.Exit(1) from None
        configure_logging(verbose)
        check_out_dir(out)
        started = time.perf_counter()
        options = DemoOptions(
            out_dir=out,
            cache_dir=cache_dir,
            duration_s=duration,
            concurrency=concurrency,
            price_per_hour=Decimal(str(price_per_hour)),
            currency=currency,
        )
        with RichProgress() as progress:
            result = run_demo(options, progress, client_ceiling_rps=client_ceiling())
        finish_run(result, out, db, store=not no_store)
        console.print(f"demo finished in {time.perf_counter() - started:.0f} s")
