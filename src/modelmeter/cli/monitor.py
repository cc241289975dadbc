"""`modelmeter monitor SPEC --out DIR`: Prometheus rules, burn-rate alerts and their promtool
tests from the spec's SLA."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from modelmeter._exceptions import SpecError
from modelmeter.cli._console import EXIT_FAILED, console, friendly_errors, stdout

if TYPE_CHECKING:
    from modelmeter.spec.objectives import Sla


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)


def _minutes(value: float | None) -> str:
    if value is None:
        return "never"
    if value < 1:
        return f"{value * 60:.0f} s"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


@friendly_errors
def monitor(
    spec_path: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The spec whose objectives.sla to watch.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files to.")] = Path(
        "monitoring"
    ),
    source: Annotated[
        str,
        typer.Option(help="Whose metrics the rules read: gateway, serve or simulate."),
    ] = "gateway",
    sla_buckets: Annotated[
        bool,
        typer.Option(
            "--sla-buckets",
            help="The server exports the SLA's thresholds as histogram boundaries (run with "
            "--bucket-ms, or bucket_ms in the gateway file): count at the thresholds "
            "themselves.",
        ),
    ] = False,
    check: Annotated[
        bool, typer.Option(help="Run promtool check/test on the files (where installed).")
    ] = True,
    metrics_url: Annotated[
        str | None,
        typer.Option(
            "--metrics-url",
            help="A live /metrics page (vLLM, Triton, serve, the gateway): check that the "
            "SLA's thresholds are bucket boundaries of its histograms.",
        ),
    ] = None,
    preview_from: Annotated[
        str | None,
        typer.Option(
            "--preview-from",
            help="A Prometheus server's URL: run every dashboard panel's queries on it and "
            "write dashboard.html, a static render of the panels.",
        ),
    ] = None,
    preview_range: Annotated[
        str, typer.Option(help="How far back the preview looks (90s, 30m, 1h, 1d).")
    ] = "1h",
    time_scale: Annotated[
        float,
        typer.Option(
            min=1e-6,
            max=1.0,
            help="Shrink every window by this factor (1/60: an hour becomes a minute) to try "
            "the alerts on a live server; the promtool tests are then not written.",
        ),
    ] = 1.0,
) -> None:
    """Write Prometheus recording rules and multi-window multi-burn-rate alerts for the SLA,
    with promtool unit tests proving when each alert fires (docs/monitoring.md)."""
    from modelmeter.monitor import SOURCES, amtool, monitoring_files, promtool
    from modelmeter.spec import load_spec

    if source not in SOURCES:
        raise typer.BadParameter(
            f"{source!r} is not a known source; one of: {', '.join(SOURCES)}",
            param_hint="--source",
        )
    spec = load_spec(spec_path)
    watched = SOURCES[source]
    if sla_buckets:
        from modelmeter.telemetry import sla_thresholds_s

        limits = sla_thresholds_s(spec.objectives.sla)
        thresholds = sorted({*limits["duration"], *limits["ttft"], *limits["itl"]})
        watched = watched.with_thresholds(thresholds)
        flags = " ".join(f"--bucket-ms {s * 1000:g}" for s in thresholds)
        where = (
            f"bucket_ms: [{', '.join(f'{s * 1000:g}' for s in thresholds)}] in the gateway file"
            if source == "gateway"
            else f"modelmeter {source} ... {flags}"
        )
        console.print(f"[yellow]note:[/] the rules count at the SLA's thresholds: run {where}")
    economics = spec.economics
    budget = None
    if economics.monthly_budget is not None:
        if economics.budget_currency is None:
            console.print(
                "[yellow]note:[/] economics.monthly_budget: not watched (set "
                "economics.budget_currency, the gateway's currency)"
            )
        else:
            budget = (float(economics.monthly_budget), economics.budget_currency)
    try:
        files = monitoring_files(
            spec.objectives.sla,
            watched,
            spec_name=spec_path.name,
            time_scale=time_scale,
            budget=budget,
        )
    except ValueError as exc:
        raise SpecError(f"{spec_path}: {exc}") from None
    written = files.write(out)
    table = Table(title=f"Objectives from {spec_path.name}, on {source}'s metrics")
    for column in ("objective", "budget", "outage: page", "2× budget: ticket", "0.1% noise"):
        table.add_column(column)
    for slo in files.slos:
        scenarios = {s.name: s for s in files.scenarios[slo.name]}
        noise = scenarios["background"]
        page = scenarios["outage"].first_minutes.get("page")
        ticket = scenarios["slow burn"].first_minutes.get("ticket")
        table.add_row(
            slo.description,
            "the month" if slo.spend_per_s is not None else f"{slo.budget:.2%}",
            "after " + _minutes(None if page is None else page * time_scale),
            "after " + _minutes(None if ticket is None else ticket * time_scale),
            "silent" if not noise.first_minutes else "alerts",
        )
    stdout.print(table)
    if any(slo.spend_per_s is not None for slo in files.slos):
        console.print(
            "[yellow]note:[/] spend: the outage is a runaway at 20 times the budget's even "
            "rate; 2× budget spends twice it (a 3-day window: 36 h to a ticket)"
        )
    for slo in files.slos:
        if slo.note:
            console.print(f"[yellow]note:[/] {slo.name}: {escape(slo.note)}")
    for line in files.unwatched:
        console.print(f"[yellow]note:[/] {escape(line)}")
    for path in written:
        stdout.print(f"wrote {path}")
    if metrics_url is not None:
        _check_buckets(metrics_url, spec.objectives.sla)
    if preview_from is not None:
        _preview(files.dashboard, preview_from, preview_range, out)
    if not check:
        return
    results = promtool(out)
    if results is None:
        console.print(
            "[yellow]note:[/] promtool is not installed, so the files were not checked "
            "(Debian/Ubuntu: apt-get install prometheus)"
        )
        return
    checked = amtool(out)
    if checked is None:
        console.print(
            "[yellow]note:[/] amtool is not installed, so alertmanager.yml was not checked "
            "(Debian/Ubuntu: apt-get install prometheus-alertmanager)"
        )
    else:
        results.append(checked)
    failed = False
    for command, passed, output in results:
        stdout.print(f"{command}: {'[green]passed[/]' if passed else '[red]FAILED[/]'}")
        if not passed:
            failed = True
            console.print(escape(output.strip()[-3000:]), highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _preview(dashboard: dict[str, Any], url: str, back: str, out: Path) -> None:
    """Query the dashboard's panels on a live Prometheus; write dashboard.html."""
    import time

    from modelmeter._intervals import parse_interval
    from modelmeter.monitor.preview import query_panels, render_preview

    if not url.startswith(("http://", "https://")):
        raise SpecError(f"--preview-from {url!r}: the http:// URL of a Prometheus server")
    try:
        seconds = parse_interval(back)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--preview-range") from None
    end = time.time()
    step = max(1.0, round(seconds / 240))
    try:
        panels = query_panels(dashboard, url, start=end - seconds, end=end, step=step)
    except OSError as exc:
        raise SpecError(f"--preview-from {url}: cannot query it: {exc}") from None
    path = out / "dashboard.html"
    path.write_text(render_preview(dashboard, panels, source=url), encoding="utf-8")
    states = [data.state for data in panels]
    stdout.print(
        f"wrote {path}: {states.count('ok')} of {len(states)} panels with data"
        + (f", {states.count('empty')} empty" if "empty" in states else "")
        + (f", [red]{states.count('error')} failed[/]" if "error" in states else "")
    )
    for data in panels:
        for error in data.errors:
            console.print(
                f"[red]panel {escape(data.panel['title'])}:[/] {escape(error)}", highlight=False
            )


def _check_buckets(url: str, sla: Sla) -> None:
    """The bucket check of a live page (`monitor.buckets`), as a table and warnings."""
    import urllib.error
    import urllib.request

    from modelmeter.monitor.buckets import check_buckets

    limits = {"p95_ms": sla.p95_ms, "p99_ms": sla.p99_ms, "ttft_p95_ms": sla.ttft_p95_ms}
    limits["itl_p95_ms"] = sla.itl_p95_ms
    thresholds = {name: value / 1000 for name, value in limits.items() if value is not None}
    if not thresholds:
        console.print("[yellow]note:[/] the SLA sets no latency limit: no bucket to check")
        return
    if not url.startswith(("http://", "https://")):
        raise SpecError(f"--metrics-url {url!r}: an http:// or https:// URL of a /metrics page")
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read(64 * 1024 * 1024).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SpecError(f"--metrics-url {url}: cannot read it: {exc}") from None
    try:
        findings = check_buckets(text, thresholds)
    except ValueError as exc:
        raise SpecError(f"--metrics-url {url}: {exc}") from None
    if not findings:
        console.print(f"[yellow]note:[/] {escape(url)} exports no histogram in seconds")
        return
    table = Table(title=f"Bucket check of {url}")
    for column in ("histogram", "limit", "threshold", "a boundary?", "a quantile there is off by"):
        table.add_column(column)
    for found in findings:
        bound = found.error_bound_s
        if found.exact:
            verdict, off = "yes", "—"
        else:
            low = "−∞" if found.below_s is None else f"{found.below_s * 1000:g} ms"
            high = "+∞" if found.above_s is None else f"{found.above_s * 1000:g} ms"
            verdict = f"no: between {low} and {high}"
            off = "unbounded" if bound is None else f"up to {bound * 1000:g} ms"
        table.add_row(found.histogram, found.what, f"{found.threshold_s * 1000:g} ms", verdict, off)
    stdout.print(table)
