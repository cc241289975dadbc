"""The typer application; each command group lives in a module of its own."""

from __future__ import annotations

from typing import Annotated

import typer

from modelmeter._version import __version__
from modelmeter.cli import ab as ab_cmd
from modelmeter.cli import anonymise as anonymise_cmd
from modelmeter.cli import calibrate as calibrate_cmd
from modelmeter.cli import compare as compare_cmd
from modelmeter.cli import demo as demo_cmd
from modelmeter.cli import drift as drift_cmd
from modelmeter.cli import gateway as gateway_cmd
from modelmeter.cli import keys as keys_cmd
from modelmeter.cli import monitor as monitor_cmd
from modelmeter.cli import run as run_cmd
from modelmeter.cli import runs as runs_cmd
from modelmeter.cli import serve as serve_cmd
from modelmeter.cli import simulate as simulate_cmd
from modelmeter.cli import watch as watch_cmd

app = typer.Typer(
    name="modelmeter",
    help="Measure, compare and choose AI models on quality, latency, throughput and cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modelmeter {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Measure, compare and choose AI models on quality, latency, throughput and cost."""


ab_cmd.register(app)
anonymise_cmd.register(app)
calibrate_cmd.register(app)
compare_cmd.register(app)
demo_cmd.register(app)
drift_cmd.register(app)
gateway_cmd.register(app)
keys_cmd.register(app)
monitor_cmd.register(app)
run_cmd.register(app)
runs_cmd.register(app)
serve_cmd.register(app)
simulate_cmd.register(app)
watch_cmd.register(app)


def main() -> None:
    app()
