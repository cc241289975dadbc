"""What `run` and `demo` do with a finished run: write the report, store it, show a summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from modelmeter.cli._console import EXIT_FAILED, EXIT_INTERRUPTED, console, stdout

if TYPE_CHECKING:
    from modelmeter.results import ModelResult, Report
    from modelmeter.study import RunResult


def _sla_word(model: ModelResult) -> str:
    if model.sla.met:
        return "met"
    return "missed" if model.measured else "not measured"


def summary_table(report: Report) -> Table:
    from modelmeter._money import format_money

    table = Table(title=f"{report.name} — run {report.run_id}", title_justify="left")
    llm = any(model.task_score is not None for model in report.models)
    quality = "share correct" if llm else "F1 (macro)"
    for column in ("model", quality, "P95 ms", "req/s", "errors", "cost / 1,000 req", "SLA"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model in report.models:
        if model.task_score is not None:
            f1 = f"{model.task_score:.3f}"
        else:
            f1 = f"{model.quality.f1_macro:.3f}" if model.quality else "–"
        p95 = f"{model.latency_ms.p95:.1f}" if model.latency_ms else "–"
        rps = f"{model.throughput_rps:,.0f}" if model.throughput_rps else "–"
        errors = f"{model.load.error_rate:.1%}" if model.load else "–"
        cost = model.cost
        money = (
            format_money(cost.per_1000_requests, cost.currency)
            if cost.per_1000_requests is not None
            else "–"
        )
        star = " ★" if model.name in report.pareto else ""
        table.add_row(model.name + star, f1, p95, rps, errors, money, _sla_word(model))
    return table


def check_out_dir(out_dir: Path) -> None:
    """Refuse, before anything is measured, a ``--out`` that cannot become a folder: the path
    or one of its parents is an existing file."""
    for path in (out_dir, *out_dir.parents):
        if path.exists():
            if not path.is_dir():
                which = "" if path == out_dir else f" ({path} is a file)"
                raise typer.BadParameter(
                    f"{out_dir} cannot be a folder for the report{which}; name a folder",
                    param_hint="'--out'",
                )
            return


def too_many_errors(report: Report, limit: float) -> list[str]:
    """One line per model whose load phase (else quality pass) failed more than ``limit`` of
    its requests, with the error kinds and one sample message."""
    lines = []
    for model in report.models:
        load = model.load
        if load is not None and load.requests:
            rate, failed, total = load.error_rate, load.requests - load.completed, load.requests
            kinds = load.errors_by_status or load.errors
            sample = next(iter(load.error_samples.values()), "")
        elif model.quality is not None and model.quality.n:
            failed, total = model.quality.n_failed, model.quality.n
            rate, kinds, sample = failed / total, {}, ""
        else:
            continue
        if rate <= limit:
            continue
        by_kind = ", ".join(f"{count:,} {kind}" for kind, count in kinds.items())
        line = (
            f"{model.name}: {failed:,} of {total:,} requests failed ({rate:.1%}, above the "
            f"{limit:.0%} allowed by --max-error-rate)"
        )
        if by_kind:
            line += f": {by_kind}"
        if sample:
            line += f"; e.g. {sample[:200]}"
        lines.append(line)
    return lines


def finish_run(
    result: RunResult, out_dir: Path, db: str | None, store: bool, *, replace: bool = False
) -> None:
    """Store the run, write report.html/.md/.json (and router configs), say where things went.

    ``replace``: the run continues a stored partial run of the same id, which it supersedes.
    """
    from modelmeter.report import write_report
    from modelmeter.store import RunStore
    from modelmeter.study.result import LITELLM_CONFIG_FILE

    report = result.report
    # Stored first: whatever happens to the files, what was measured is kept.
    run_store = None
    if store:
        run_store = RunStore(db)
        try:
            run_store.save(report, result.outcomes, replace=replace)
            router_config = result.litellm_config()
            if router_config is not None:
                run_store.save_file(report.run_id, LITELLM_CONFIG_FILE, router_config)
        finally:
            run_store.close()
    try:
        paths = write_report(report, out_dir)
        routing_paths = result.write_extras(out_dir)
    except OSError as exc:
        again = (
            f"; `modelmeter report {report.run_id} --out DIR` writes it from the store"
            if run_store is not None
            else ""
        )
        console.print(
            f"[bold red]error:[/] cannot write the report to {escape(str(out_dir))}: "
            f"{escape(str(exc.strerror or exc))}{again}",
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED) from None
    stdout.print(summary_table(report))
    for model in report.models:
        load = model.load
        if load is not None and load.errors_by_status:
            kinds = ", ".join(f"{n:,} {kind}" for kind, n in load.errors_by_status.items())
            first = next(iter(load.error_samples.values()), "")
            stdout.print(
                f"[yellow]{escape(model.name)}: {kinds} failed requests.[/]"
                + (f" First message: {escape(first[:200])}" if first else ""),
                highlight=False,
            )
        if load is not None and load.verdict != "ok" and load.diagnosis:
            stdout.print(
                f"[yellow]{escape(model.name)}: {load.verdict}.[/] {escape(load.diagnosis)}",
                highlight=False,
            )
    stdout.print(f"\n[bold]Recommendation[/]\n{report.recommendation.text}\n", highlight=False)
    if run_store is not None:
        console.print(f"stored as run {report.run_id} in {run_store.display_url}", highlight=False)
    for path in [*paths.values(), *routing_paths]:
        console.print(f"wrote {path}", highlight=False)
    if result.interrupted:
        console.print("[yellow]the run was interrupted: the report is partial[/]")
        raise typer.Exit(EXIT_INTERRUPTED)
