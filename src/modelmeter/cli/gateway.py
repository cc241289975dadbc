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
        Path | None,
        typer.Argument(
            metavar="CONFIG.yaml",
            help="Backends and routes (docs/gateway.md), or a LiteLLM proxy config.",
        ),
    ] = None,
    from_run: Annotated[
        str | None,
        typer.Option(
            "--from-run",
            metavar="RUN_ID",
            help="Serve the routes a stored run recommended (its litellm-config.yaml).",
        ),
    ] = None,
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
        if (config_path is None) == (from_run is None):
            raise SpecError("give a gateway file (CONFIG.yaml) or --from-run RUN_ID, one of them")
        if from_run is not None:
            config_path = _run_routes(from_run, db)
        assert config_path is not None
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


def _run_routes(run_id: str, db: str | None) -> Path:
    """The LiteLLM config a stored run wrote, in a file of its own (SIGHUP reads that file)."""
    import tempfile

    from modelmeter.store import RunStore
    from modelmeter.study.result import LITELLM_CONFIG_FILE

    store = RunStore(db)
    try:
        found = store.run_file(run_id, LITELLM_CONFIG_FILE)
        full_id = store.resolve_run_id(run_id)
    except ModelmeterError as exc:
        raise SpecError(str(exc)) from None
    finally:
        store.close()
    if found is None:
        raise SpecError(
            f"run {full_id} kept no {LITELLM_CONFIG_FILE}: its spec asks for no LiteLLM routes "
            "(routing: {export: [litellm]}) or it was stored before runs kept them; give the "
            "file the run wrote instead"
        )
    folder = Path(tempfile.mkdtemp(prefix=f"modelmeter-gateway-{full_id[:16]}-"))
    path = folder / LITELLM_CONFIG_FILE
    path.write_text(found, encoding="utf-8")
    return path
