"""`modelmeter gateway CONFIG.yaml`: one address in front of model backends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from modelmeter._exceptions import ModelmeterError, SpecError
from modelmeter._net import is_loopback_host
from modelmeter.cli._console import EXIT_BAD_INPUT
from modelmeter.cli.run import DbOption

_stderr = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)


def gateway(
    config_path: Annotated[
        Path, typer.Argument(metavar="CONFIG.yaml", help="Backends and routes (docs/gateway.md).")
    ],
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port to listen on, instead of the file's."),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on, instead of the file's.")
    ] = None,
    db: DbOption = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Processes on the port, instead of the file's."),
    ] = None,
) -> None:
    """Route OpenAI-compatible and Open Inference Protocol requests to model backends:
    balanced, retried, failed over to a fallback route, answers streamed through."""
    from modelmeter.gateway import load_gateway_config, run_gateway

    try:
        config = load_gateway_config(config_path)
    except SpecError as exc:
        _stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    listen = config.listen.model_copy(
        update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
    )
    config = config.model_copy(update={"listen": listen})
    if not is_loopback_host(listen.host) and config.keys is None:
        _stderr.print(
            f"[yellow]warning:[/] listening on {escape(listen.host)} lets other machines reach "
            "the gateway, and the file has no 'keys:' section: anyone may use it"
        )

    def announce(url: str) -> None:
        routes = ", ".join(
            f"{route.model} → {'/'.join(route.backends)}"
            + (f" (then {', '.join(route.fallbacks)})" if route.fallbacks else "")
            for route in config.routes
        )
        _stderr.print(
            f"Gateway at [bold]{escape(url)}[/]: {escape(routes)}. Ctrl-C stops; "
            "SIGHUP reloads the file."
        )

    try:
        run_gateway(
            config,
            on_ready=announce,
            config_path=config_path,
            db=db,
            workers=workers or config.workers,
        )
    except SpecError as exc:
        _stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except ModelmeterError as exc:
        _stderr.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    _stderr.print("Stopped.")
