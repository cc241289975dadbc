"""`modelmeter calibrate`: this host's own load-generation ceiling."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from modelmeter.cli._console import console, friendly_errors, stdout


def register(app: typer.Typer) -> None:
    @app.command("calibrate")
    @friendly_errors
    def calibrate_command(
        connections: Annotated[
            int, typer.Option(min=1, max=4096, help="Keep-alive connections in flight.")
        ] = 64,
        duration: Annotated[
            float, typer.Option(min=1, max=120, help="Seconds per measurement.")
        ] = 5.0,
    ) -> None:
        """Measure the most requests and stream events per second this host can generate.

        Runs a built-in server on 127.0.0.1 (on its own core when there are two or more) and
        drives it as hard as the load generator can. Later runs that come near this ceiling
        are marked client-bound in their reports.
        """
        from modelmeter.calibrate.measure import calibrate
        from modelmeter.calibrate.store import save_calibration

        with console.status("calibrating") as status:
            result = calibrate(connections=connections, duration_s=duration, progress=status.update)
        path = save_calibration(result)
        table = Table(title="load-generation ceiling of this host", title_justify="left")
        table.add_column("measure")
        table.add_column("value", justify="right")
        table.add_row("requests per second", f"{result.requests_per_s:,.0f}")
        table.add_row("client CPU per request", f"{result.cpu_us_per_request:.1f} µs")
        table.add_row("stream events per second", f"{result.stream_events_per_s:,.0f}")
        table.add_row("connections", str(result.connections))
        cores = (
            f"server {result.server_core}, client {result.client_core}"
            if result.client_core is not None
            else "shared"
        )
        table.add_row("cores", cores)
        stdout.print(table)
        console.print(f"saved to {path}", highlight=False)
