"""The typer application; each command group lives in a module of its own."""

from __future__ import annotations

import typer

from modelmeter.cli import serve as serve_cmd

app = typer.Typer(
    name="modelmeter",
    help="Measure, compare and choose AI models on quality, latency, throughput and cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

serve_cmd.register(app)


def main() -> None:
    app()
