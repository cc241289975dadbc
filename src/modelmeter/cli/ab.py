"""`modelmeter ab DATA.csv` / `ab --run RUN_ID` / `ab power`: online A/B analysis and planning.

A thin layer: it parses the options, calls :func:`modelmeter.abtest.analyse` (or the power
functions) and renders the result. ``ab DATA.csv`` is short for ``ab analyse DATA.csv``: the group
runs ``analyse`` whenever its first word is not one of its commands.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table
from typer.core import TyperGroup

from modelmeter.cli._console import console, friendly_errors, stdout
from modelmeter.cli.run import DbOption

if TYPE_CHECKING:
    from modelmeter.abtest import ABResult, SampleSize


class _AnalyseByDefault(TyperGroup):
    """A group whose first argument, when not a command name, goes to ``analyse``."""

    # ``ctx`` is click's Context, or typer's vendored copy of it in newer typer versions.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] != "--help":
            args = ["analyse", *args]
        return super().parse_args(ctx, args)


ab_app = typer.Typer(
    cls=_AnalyseByDefault,
    no_args_is_help=True,
    help="Analyse an online A/B test from logged outcomes (`ab DATA.csv ...` or "
    "`ab --run RUN_ID`), or plan one (`ab power`). Methods: docs/ab-testing.md.",
)


def parse_split(text: str | None) -> list[float] | dict[str, float] | None:
    """'50,50' (weights for the variants sorted by name) or 'A=90,B=10' (by name)."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise typer.BadParameter("give weights like 50,50 or A=90,B=10", param_hint="--split")
    named = ["=" in p for p in parts]
    if any(named) and not all(named):
        raise typer.BadParameter(
            f"mix of named and plain weights in {text!r}; use 50,50 or A=50,B=50",
            param_hint="--split",
        )
    try:
        if all(named):
            pairs = [p.split("=", 1) for p in parts]
            weights = {name.strip(): float(value) for name, value in pairs}
            if len(weights) != len(pairs):
                raise typer.BadParameter(
                    f"a variant is named twice in {text!r}", param_hint="--split"
                )
            return weights
        return [float(p) for p in parts]
    except ValueError:
        raise typer.BadParameter(
            f"weights must be numbers, got {text!r}; e.g. 50,50 or A=90,B=10",
            param_hint="--split",
        ) from None


def _table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def show_result(result: ABResult) -> None:
    """The analysis as rich tables on stdout; an SRM failure first and in red."""
    from modelmeter.abtest.markdown import (
        SRM_HEADER,
        comparison_header,
        comparison_rows,
        format_p,
        sequential_header,
        sequential_rows,
        sequential_verdict,
        srm_rows,
        variant_header,
        variant_rows,
    )

    srm = result.srm
    if srm.mismatch:
        stdout.print(
            Panel(
                f"The variant counts do not fit the planned split (χ² = {srm.chi2:.2f}, "
                f"p = {format_p(srm.p_value)} < {srm.threshold:g}).\n"
                "Units were lost or mis-assigned unevenly: [bold]do not trust these results[/] "
                "until the cause is found.",
                title="[bold]SAMPLE-RATIO MISMATCH[/]",
                border_style="bold red",
            )
        )
    stdout.print(_table(f"sample ratio: {result.source}", SRM_HEADER, srm_rows(result)))
    verdict = "[bold red]MISMATCH[/]" if srm.mismatch else "[green]ok[/]"
    stdout.print(
        f"χ² = {srm.chi2:.3f}, df = {srm.df}, p = {format_p(srm.p_value)}: {verdict}",
        highlight=False,
    )
    stdout.print(
        _table(f"{result.metric} by variant", variant_header(result), variant_rows(result))
    )
    stdout.print(
        _table(
            f"vs {result.control} ({result.comparisons[0].method}, α = {result.alpha:g})",
            comparison_header(result),
            comparison_rows(result, result.comparisons),
        )
    )
    if result.cuped is not None:
        cuped = result.cuped
        stdout.print(
            _table(
                f"CUPED on {cuped.covariate}: θ = {cuped.theta:.4g}, ρ = {cuped.correlation:.3f}, "
                f"variance −{cuped.variance_reduction:.1%}",
                comparison_header(result),
                comparison_rows(result, cuped.comparisons),
            )
        )
    for sequence in result.sequential or []:
        stdout.print(
            _table(
                f"mSPRT {sequence.treatment} vs {sequence.control} (τ = {sequence.mixing_sd:.4g})",
                sequential_header(result),
                sequential_rows(result, sequence),
            )
        )
        stdout.print(sequential_verdict(sequence), highlight=False)
    for note in result.notes:
        style = "bold red" if note.startswith("sample-ratio mismatch") else "yellow"
        stdout.print(f"[{style}]note:[/] {note}", highlight=False)


def _show_size(size: SampleSize) -> None:
    table = Table(title="sample size", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    effect = "Cohen's h" if size.kind == "proportion" else "Cohen's d"
    table.add_row(effect, f"{size.effect_size:.4f}")
    table.add_row("α (two-sided)", f"{size.alpha:g}")
    table.add_row("power", f"{size.power:g}")
    table.add_row("ratio (treatment / control)", f"{size.ratio:g}")
    table.add_row("control units", f"{size.n_control:,}")
    table.add_row("treatment units", f"{size.n_treatment:,}")
    table.add_row("total", f"{size.total:,}")
    stdout.print(table)
    console.print(f"method: {size.method}", highlight=False)


@ab_app.command("analyse")
@friendly_errors
def analyse_command(
    data: Annotated[
        Path | None,
        typer.Argument(
            metavar="DATA.csv", help="Experiment log: one row per unit (leave out with --run)."
        ),
    ] = None,
    variant: Annotated[str, typer.Option(help="Column naming each unit's variant.")] = "variant",
    metric: Annotated[
        str | None,
        typer.Option(
            help="Column of the metric (a number; 0/1 for a conversion). With --run: success "
            "(default) or latency_ms; a gateway's A/B log also input_tokens, output_tokens, "
            "cost, feedback."
        ),
    ] = None,
    covariate: Annotated[
        str | None, typer.Option(help="Column of a pre-period value of each unit: adds CUPED.")
    ] = None,
    control: Annotated[
        str | None, typer.Option(help="The control variant (default: the first name, sorted).")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            help="Planned split for the sample-ratio check: 50,50 (variants sorted by name) "
            "or A=90,B=10. Default: equal."
        ),
    ] = None,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    sequential: Annotated[
        bool, typer.Option("--sequential", help="Add the always-valid mSPRT over --looks looks.")
    ] = False,
    order_by: Annotated[
        str | None,
        typer.Option(help="Column ordering units in time (number or ISO 8601 timestamp)."),
    ] = None,
    looks: Annotated[int, typer.Option(help="Number of equal batches for --sequential.")] = 20,
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            metavar="RUN_ID",
            help="Analyse a stored run instead of a file: its targets are the variants.",
        ),
    ] = None,
    db: DbOption = None,
    phase: Annotated[str, typer.Option(help="With --run: the phase whose outcomes to use.")] = (
        "load"
    ),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the Markdown summary here.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON here.")
    ] = None,
) -> None:
    """Analyse an experiment: SRM check, differences vs control, CUPED, sequential looks."""
    from modelmeter.abtest import analyse, from_store, load_csv, render_markdown
    from modelmeter.abtest.data import STORE_METRICS

    if (data is None) == (run is None):
        raise typer.BadParameter("give either DATA.csv or --run RUN_ID", param_hint="DATA.csv")
    if not 0.0 < alpha < 1.0:
        raise typer.BadParameter(f"must be between 0 and 1, got {alpha}", param_hint="--alpha")
    if looks < 1:
        raise typer.BadParameter(f"must be at least 1, got {looks}", param_hint="--looks")
    weights = parse_split(split)
    if run is not None:
        if covariate is not None or order_by is not None:
            raise typer.BadParameter(
                "a stored run has no covariate and is ordered by send time; drop "
                "--covariate/--order-by",
                param_hint="--run",
            )
        chosen = metric or "success"
        if chosen not in STORE_METRICS:
            raise typer.BadParameter(
                f"a stored run offers {', '.join(STORE_METRICS)} (the last four for a "
                f"gateway's A/B log), not {chosen!r}",
                param_hint="--metric",
            )
        observations = from_store(db, run, metric=chosen, phase=phase)
    else:
        assert data is not None
        if metric is None:
            raise typer.BadParameter("name the metric column of DATA.csv", param_hint="--metric")
        observations = load_csv(
            data, variant=variant, metric=metric, covariate=covariate, order_by=order_by
        )
    result = analyse(
        observations,
        control=control,
        split=weights,
        alpha=alpha,
        sequential=sequential,
        looks=looks,
    )
    show_result(result)
    if out is not None:
        _write(out, render_markdown(result))
    if json_out is not None:
        _write(json_out, result.model_dump_json(indent=2) + "\n")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {path}: {exc.strerror}") from None
    console.print(f"wrote {path}", highlight=False)


@ab_app.command("power")
@friendly_errors
def power_command(
    mde: Annotated[
        float,
        typer.Option(
            help="Smallest effect worth detecting, absolute: 0.01 = one percentage point for a "
            "rate; in the metric's unit for a mean."
        ),
    ],
    baseline: Annotated[
        float | None, typer.Option(help="Control conversion rate (0 to 1): plan a proportion.")
    ] = None,
    sd: Annotated[
        float | None, typer.Option(help="Standard deviation of the metric: plan a mean.")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    power: Annotated[float, typer.Option(help="Probability of detecting the effect.")] = 0.8,
    ratio: Annotated[
        float, typer.Option(help="Treatment units per control unit (allocation ratio).")
    ] = 1.0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON here.")
    ] = None,
) -> None:
    """Units needed per variant for a two-sided test with the given power."""
    from modelmeter.abtest import sample_size_means, sample_size_proportions

    if (baseline is None) == (sd is None):
        raise typer.BadParameter(
            "give --baseline RATE (a proportion) or --sd SD (a mean), one of them",
            param_hint="--baseline/--sd",
        )
    for name, value in (("--mde", mde), ("--alpha", alpha), ("--power", power), ("--ratio", ratio)):
        if not math.isfinite(value):
            raise typer.BadParameter(f"must be a finite number, got {value}", param_hint=name)
    size = (
        sample_size_proportions(baseline, mde, alpha=alpha, power=power, ratio=ratio)
        if baseline is not None
        else sample_size_means(mde, sd or 0.0, alpha=alpha, power=power, ratio=ratio)
    )
    _show_size(size)
    if json_out is not None:
        _write(json_out, size.model_dump_json(indent=2) + "\n")


def register(app: typer.Typer) -> None:
    """Add the ``ab`` command group to ``app``."""
    app.add_typer(ab_app, name="ab")
