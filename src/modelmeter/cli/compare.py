"""`modelmeter compare BASELINE NEW`: the regression gate for CI.

A thin layer: it finds the two reports (a ``report.json`` or a stored run id each), calls
:func:`modelmeter.compare.compare_reports`, shows the checks and writes JUnit, Markdown and JSON
where asked. Exit codes are the gate's contract with CI: 0 no regression, 1 a regression or
breach, 2 input to fix (a run or file that is not there, a model that is not in the run, runs
that share no items). The outputs are written before a failing exit, so CI can show them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelmeter.cli._console import EXIT_BAD_INPUT, EXIT_FAILED, console, friendly_errors, stdout
from modelmeter.cli.run import DbOption

if TYPE_CHECKING:
    from modelmeter.compare import ComparisonResult
    from modelmeter.results import Report
    from modelmeter.store import RunStore

_STYLES = {
    "pass": "[green]pass[/]",
    "fail": "[bold red]FAIL[/]",
    "warn": "[yellow]warn[/]",
    "skip": "[dim]skip[/]",
}
_RECENT_RUNS = 5


class ReportSources:
    """Opens the run store only when an argument is a run id, and only once."""

    def __init__(self, db: str | None) -> None:
        self._db = db
        self._store: RunStore | None = None

    def load(self, source: str, role: str) -> Report:
        from modelmeter.compare import REPORT_FILE, CompareError, read_report

        path = Path(source)
        if path.is_file() or (path.is_dir() and (path / REPORT_FILE).is_file()):
            return read_report(path)
        if path.is_dir():
            raise CompareError(f"{role}: the folder holds no {REPORT_FILE}", path=path)
        if source.endswith(".json") or "/" in source or "\\" in source:
            return read_report(path)  # says that the file is not there
        return self._load_run(source, role)

    def _load_run(self, run_id: str, role: str) -> Report:
        from modelmeter._exceptions import StoreError
        from modelmeter.compare import CompareError
        from modelmeter.store import RunStore

        if self._store is None:
            self._store = RunStore(self._db)
        try:
            return self._store.load_report(run_id)
        except StoreError as exc:
            recent = [summary.run_id for summary in self._store.list_runs(_RECENT_RUNS)]
            listing = f"recent runs: {', '.join(recent)}" if recent else "the store holds no runs"
            raise CompareError(
                f"{role} {run_id!r} is not a report.json file, and as a run id: {exc} ({listing})"
            ) from None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _pairs(
    models: list[str] | None, baseline_model: str | None, new_model: str | None
) -> list[tuple[str, str]] | None:
    if models and (baseline_model or new_model):
        raise typer.BadParameter(
            "give either --model (the same name in both runs) or --baseline-model with "
            "--new-model, not both",
            param_hint="--model",
        )
    if (baseline_model is None) != (new_model is None):
        raise typer.BadParameter(
            "--baseline-model and --new-model go together: name the model of each run",
            param_hint="--baseline-model/--new-model",
        )
    if baseline_model is not None and new_model is not None:
        return [(baseline_model, new_model)]
    if models:
        return [(name, name) for name in dict.fromkeys(models)]
    return None


def _check_options(alpha: float, tolerance: float, latency_tolerance: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise typer.BadParameter(
            f"{alpha:g} is not allowed; give a level strictly between 0 and 1, e.g. 0.05",
            param_hint="--alpha",
        )
    for hint, value in (("--tolerance", tolerance), ("--latency-tolerance", latency_tolerance)):
        if not (math.isfinite(value) and value >= 0.0):
            raise typer.BadParameter(
                f"{value:g} is not allowed; give a number ≥ 0", param_hint=hint
            )


def show_result(result: ComparisonResult) -> None:
    """The checks as a rich table, the quality verdicts in words, then the gate's verdict."""
    if result.baseline_run == result.new_run:
        title = f"compare: run {result.new_run}"
    else:
        title = f"compare: {result.baseline_run} → {result.new_run}"
    table = Table(title=escape(title), title_justify="left")
    table.add_column("model")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for model in result.models:
        for check in model.checks:
            table.add_row(
                escape(model.label), check.name, _STYLES[check.status], escape(check.message)
            )
    stdout.print(table)
    for model in result.models:
        if model.quality is not None:
            stdout.print(f"{escape(model.label)}: {escape(model.quality.sentence)}.")
    for note in result.notes:
        stdout.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    warned = f", {result.warnings} warning(s)" if result.warnings else ""
    if result.passed:
        stdout.print(f"[bold green]no regression[/]{warned}", highlight=False)
    else:
        stdout.print(
            f"[bold red]{result.failures} regression(s) or breach(es)[/]{warned}",
            highlight=False,
        )


def _write(path: Path, text: str) -> None:
    from modelmeter.compare import CompareError

    try:
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CompareError(f"cannot write it: {exc.strerror or exc}", path=path) from None
    console.print(f"wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("compare")
    @friendly_errors
    def compare_command(
        baseline: Annotated[
            str,
            typer.Argument(
                metavar="BASELINE",
                help="The reference: a report.json (or its folder), or a stored run id (a "
                "unique prefix is enough).",
            ),
        ],
        new: Annotated[
            str,
            typer.Argument(
                metavar="NEW",
                help="The change to gate, given like BASELINE; it may be BASELINE itself "
                "with --baseline-model and --new-model.",
            ),
        ],
        db: DbOption = None,
        model: Annotated[
            list[str] | None,
            typer.Option(
                "--model",
                metavar="NAME",
                help="Compare only this model (same name in both runs); repeat for several. "
                "Default: every name found in both.",
            ),
        ] = None,
        baseline_model: Annotated[
            str | None,
            typer.Option(
                metavar="NAME",
                help="The BASELINE model to compare with --new-model (names differ).",
            ),
        ] = None,
        new_model: Annotated[
            str | None,
            typer.Option(metavar="NAME", help="The NEW model to compare with --baseline-model."),
        ] = None,
        alpha: Annotated[
            float,
            typer.Option(help="Significance level of the quality tests, Holm-adjusted."),
        ] = 0.05,
        tolerance: Annotated[
            float,
            typer.Option(
                help="Largest quality drop that passes, absolute (0.01 = 1 point of accuracy)."
            ),
        ] = 0.01,
        latency_tolerance: Annotated[
            float,
            typer.Option(
                help="P95 increase allowed, relative (0.20 = 20%); beyond it a failure when the "
                "two runs' P95 intervals do not overlap, else a warning."
            ),
        ] = 0.20,
        junit: Annotated[
            Path | None,
            typer.Option(metavar="FILE", help="Write JUnit XML: one test per model and check."),
        ] = None,
        markdown: Annotated[
            Path | None,
            typer.Option(metavar="FILE", help="Write a Markdown summary (PR comment, CI summary)."),
        ] = None,
        json_out: Annotated[
            Path | None,
            typer.Option("--json", metavar="FILE", help="Write the full result as JSON."),
        ] = None,
    ) -> None:
        """Gate NEW against BASELINE: exit 1 on a significant quality regression, an SLA or
        budget breach; 0 otherwise (docs/compare.md)."""
        from modelmeter._exceptions import StoreError
        from modelmeter.compare import CompareError, compare_reports, to_junit, to_markdown

        _check_options(alpha, tolerance, latency_tolerance)
        pairs = _pairs(model, baseline_model, new_model)
        sources = ReportSources(db)
        try:
            base_report = sources.load(baseline, "BASELINE")
            new_report = base_report if new == baseline else sources.load(new, "NEW")
            result = compare_reports(
                base_report,
                new_report,
                pairs=pairs,
                alpha=alpha,
                tolerance=tolerance,
                latency_tolerance=latency_tolerance,
            )
            show_result(result)
            if junit is not None:
                _write(junit, to_junit(result))
            if markdown is not None:
                _write(markdown, to_markdown(result))
            if json_out is not None:
                _write(json_out, result.model_dump_json(indent=2) + "\n")
        except (CompareError, StoreError) as exc:
            console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(EXIT_BAD_INPUT) from None
        finally:
            sources.close()
        if not result.passed:
            raise typer.Exit(EXIT_FAILED)
