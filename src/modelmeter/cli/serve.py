"""`modelmeter serve`: serve local scikit-learn and ONNX models (Open Inference Protocol v2), and
sentence-transformers encoders (OpenAI's /v1/embeddings)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from modelmeter._exceptions import ModelError, ModelmeterError
from modelmeter._net import is_loopback_host

_stderr = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    models: Annotated[
        list[str],
        typer.Argument(
            metavar="NAME=PATH",
            help="Models to serve, e.g. sentiment=model.joblib; .joblib/.pkl (scikit-learn) "
            "or .onnx files (NAME becomes /v2/models/NAME), or a sentence-transformers folder "
            "of a BERT encoder (served as model NAME on /v1/embeddings).",
            show_default=False,
        ),
    ],
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback exposes the models.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on; 0 picks a free one.")
    ] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes sharing the port (SO_REUSEPORT).")
    ] = 1,
    max_batch_size: Annotated[
        int, typer.Option(min=1, help="Rows merged into one model call; 1 turns batching off.")
    ] = 1,
    max_wait_ms: Annotated[
        float,
        typer.Option(min=0.0, help="Longest a request waits for its batch to fill, in ms."),
    ] = 2.0,
    access_log: Annotated[
        bool, typer.Option(help="Log every request to stderr (costs CPU per request).")
    ] = False,
    bucket_ms: Annotated[
        list[float] | None,
        typer.Option(
            "--bucket-ms",
            min=0.001,
            help="A latency threshold (ms, an SLA's) to add to the /metrics duration "
            "histogram's boundaries; repeat for several.",
        ),
    ] = None,
) -> None:
    """Serve models over the Open Inference Protocol v2 (REST) until Ctrl-C."""
    from modelmeter.serve import parse_model_args, run_server
    from modelmeter.serve.server import ACCESS_LOGGER

    try:
        parsed = parse_model_args(models)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME=PATH") from None
    for name, path in parsed.items():
        if not path.exists():
            raise typer.BadParameter(
                f"model {name!r}: no such file or folder: {path}", param_hint="NAME=PATH"
            )
    if not is_loopback_host(host):
        _stderr.print(
            f"[yellow]warning:[/] listening on {escape(host)} lets other machines reach these "
            "models; the server has no authentication"
        )
    if access_log:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_logger = logging.getLogger(ACCESS_LOGGER)
        access_logger.addHandler(handler)
        access_logger.setLevel(logging.INFO)

    def announce(url: str) -> None:
        batching = (
            f"batches of up to {max_batch_size} rows, {max_wait_ms:g} ms wait"
            if max_batch_size > 1
            else "no batching"
        )
        _stderr.print(
            f"Serving {escape(', '.join(parsed))} at [bold]{escape(url)}[/] "
            f"({workers} worker{'s' if workers > 1 else ''}, {batching}). Ctrl-C stops."
        )
        for name in parsed:
            _stderr.print(f"  POST {escape(url)}/v2/models/{escape(name)}/infer")

    try:
        run_server(
            {name: Path(path) for name, path in parsed.items()},
            host=host,
            port=port,
            workers=workers,
            max_batch_size=max_batch_size,
            max_wait_ms=max_wait_ms,
            access_log=access_log,
            on_ready=announce,
            bucket_ms=bucket_ms or (),
        )
    except ModelError as exc:
        _stderr.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except ModelmeterError as exc:
        _stderr.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:  # Ctrl-C while the models were still loading
        raise typer.Exit(130) from None
    _stderr.print("Stopped.")
