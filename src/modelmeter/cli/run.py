"""`modelmeter run SPEC.yaml`: measure the targets a spec declares and write the report."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from modelmeter._exceptions import ModelmeterError
from modelmeter.cli._console import (
    EXIT_FAILED,
    RichProgress,
    client_ceiling,
    configure_logging,
    console,
    friendly_errors,
)
from modelmeter.cli._output import check_out_dir, finish_run, too_many_errors

if TYPE_CHECKING:
    from modelmeter.spec import Spec
    from modelmeter.store import RunStore

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
ResumeOption = Annotated[
    str | None,
    typer.Option(
        "--resume",
        metavar="RUN_ID",
        help="Continue an interrupted run: answers it already received (LLM tasks) are read "
        "from the store, not sent again; the new report replaces the partial one.",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("run")
    @friendly_errors
    def run_command(
        spec_path: Annotated[Path, typer.Argument(metavar="SPEC.yaml", help="The study to run.")],
        out: OutOption = Path("modelmeter-report"),
        db: DbOption = None,
        no_store: NoStoreOption = False,
        resume: ResumeOption = None,
        verbose: VerboseOption = False,
        check: Annotated[
            bool,
            typer.Option(
                "--check",
                help="Only check the spec, its files and data, and build every target; send "
                "nothing, write nothing.",
            ),
        ] = False,
        max_error_rate: Annotated[
            float,
            typer.Option(
                "--max-error-rate",
                min=0.0,
                max=1.0,
                help="Share of failed requests of any target above which the run, its report "
                "written, exits 1 (0.05 = 5%).",
            ),
        ] = 0.05,
        metrics_port: Annotated[
            int | None,
            typer.Option(
                "--metrics-port",
                min=0,
                max=65535,
                help="Serve the run's client-side metrics (OpenTelemetry GenAI names, buckets "
                "at the SLA's thresholds) at http://127.0.0.1:PORT/metrics while it runs "
                "(0: any free port).",
            ),
        ] = None,
        no_preflight: Annotated[
            bool,
            typer.Option(
                "--no-preflight",
                help="Measure even when a target fails the one request sent to every target "
                "before measuring (by default such a run stops at once, exit 2).",
            ),
        ] = False,
    ) -> None:
        """Measure quality, latency, throughput and cost of the spec's targets; write a report."""
        from modelmeter.spec import load_spec
        from modelmeter.store import RunStore
        from modelmeter.study import (
            RunOptions,
            check_resumable,
            check_study,
            new_run_id,
            run,
            study_samples,
        )

        configure_logging(verbose)
        spec = load_spec(spec_path)
        if check:
            console.print(f"{spec_path}: ready to run: {check_study(spec)}", highlight=False)
            return
        check_out_dir(out)
        samples, tasks = study_samples(spec)  # checked before any request is sent
        if resume is not None and no_store:
            raise typer.BadParameter("--resume reads the run store; drop --no-store")
        store = None if no_store else RunStore(db)
        try:
            if store is not None and resume is not None:
                resume, fingerprint = store.spec_fingerprint(resume)
                check_resumable(resume, fingerprint, spec)
            run_id = resume or new_run_id()
            if store is not None:
                # Recorded before anything is measured: a run killed on the way can be resumed.
                store.begin_run(
                    run_id,
                    name=spec.name,
                    spec_hash=spec.fingerprint(),
                    models=", ".join(target.name for target in spec.targets),
                )
                again = f"modelmeter run {spec_path} --resume {run_id}"
                console.print(
                    f"run {run_id} {'resumed' if resume else 'started'}; if it is interrupted, "
                    f"continue it with: {again}",
                    highlight=False,
                    soft_wrap=True,
                )
            progress = _live_view(spec, metrics_port)
            with progress, _forgotten_if_failed(store, run_id, resume):
                result = run(
                    spec,
                    RunOptions(
                        samples=samples,
                        tasks=tasks,
                        progress=progress,
                        run_id=run_id,
                        client_ceiling_rps=client_ceiling(),
                        cache=store.response_cache(run_id) if store is not None else None,
                        resume_from=resume,
                        preflight=not no_preflight,
                        # the partial report of a Ctrl-C is written by this command, to its end
                        hold_interrupts=True,
                    ),
                )
        finally:
            if store is not None:
                store.close()
        finish_run(result, out, db, store=not no_store, replace=resume is not None)
        failing = too_many_errors(result.report, max_error_rate)
        for line in failing:
            console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        if failing:
            raise typer.Exit(EXIT_FAILED)


def _live_view(spec: Spec, metrics_port: int | None) -> RichProgress:
    """The progress bars with the live line; with ``metrics_port``, the metrics endpoint."""
    from modelmeter.cli._live import LiveProgress

    if metrics_port is None:
        return LiveProgress()
    from prometheus_client import start_http_server

    from modelmeter.telemetry import latest_experimental, sla_thresholds_s
    from modelmeter.telemetry.client import ClientMetrics

    limits = sla_thresholds_s(spec.objectives.sla)
    metrics = ClientMetrics(
        duration_thresholds_s=limits["duration"],
        ttft_thresholds_s=limits["ttft"],
        itl_thresholds_s=limits["itl"],
        latest=latest_experimental(),
    )
    try:
        server, _thread = start_http_server(metrics_port, "127.0.0.1", metrics.registry)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot listen on 127.0.0.1:{metrics_port}: {exc.strerror or exc}",
            param_hint="--metrics-port",
        ) from None
    operations = {t.name: "chat" if t.kind == "openai" else "predict" for t in spec.targets}
    console.print(
        f"metrics at http://127.0.0.1:{server.server_port}/metrics while the run lasts",
        highlight=False,
    )
    return LiveProgress(lambda target, o: metrics.observe(o, target, operations.get(target, "")))


@contextlib.contextmanager
def _forgotten_if_failed(store: RunStore | None, run_id: str, resume: str | None) -> Iterator[None]:
    """A new run that fails before storing an answer leaves no started record behind."""
    try:
        yield
    except ModelmeterError:
        if store is not None and resume is None:
            store.discard_started(run_id)
        raise
