"""`modelmeter drift REFERENCE CURRENT`: which columns of a dataset changed, and by how much."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from modelmeter._exceptions import SpecError
from modelmeter._intervals import parse_interval
from modelmeter.cli._console import friendly_errors, stdout
from modelmeter.cli.run import DbOption

if TYPE_CHECKING:
    from modelmeter.drift import DriftReport


def register(app: typer.Typer) -> None:
    app.command("drift")(drift)


@friendly_errors
def drift(
    reference: Annotated[
        str,
        typer.Argument(
            metavar="REFERENCE",
            help="The reference: a .jsonl/.csv file, a *.profile.json, a stored run's answers "
            "(run:ID or run:ID:TARGET) or the gateway's log (gateway:14d..7d).",
        ),
    ],
    current: Annotated[
        str, typer.Argument(metavar="CURRENT", help="The data to compare with it, given alike.")
    ],
    columns: Annotated[
        str | None, typer.Option(help="Only these columns, comma-separated (default: all shared).")
    ] = None,
    alpha: Annotated[
        float, typer.Option(min=1e-6, max=0.5, help="Family-wise false-alarm rate under no drift.")
    ] = 0.05,
    rule: Annotated[
        str,
        typer.Option(
            help="holm: each column's test, Holm-corrected across columns; evidently: "
            "Evidently's defaults (test per column up to 1,000 rows, distance ≥ 0.1 above)."
        ),
    ] = "holm",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON here too.")
    ] = None,
    probabilities: Annotated[
        str | None,
        typer.Option(
            help="The field holding each prediction's class probabilities ({class: p}): "
            "estimate the current data's macro F1 without its labels (calibrated on the "
            "reference's labels; docs/drift.md).",
        ),
    ] = None,
    label: Annotated[
        str, typer.Option(help="The field holding the true label (with --probabilities).")
    ] = "label",
    time_field: Annotated[
        str | None,
        typer.Option(
            help="Cut CURRENT into windows of --window by this field's time (Unix seconds or "
            "ISO 8601) and compare each with REFERENCE.",
        ),
    ] = None,
    window: Annotated[str, typer.Option(help="Window length with --time-field.")] = "1d",
    slice_field: Annotated[
        str | None,
        typer.Option(
            help="Compare within each value of this field too (a language, a customer group), "
            "all slices' columns Holm-corrected together.",
        ),
    ] = None,
    db: DbOption = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="With --time-field: the chart of the last 30 windows."),
    ] = None,
    save_profiles: Annotated[
        Path | None,
        typer.Option(
            help="Write compact profiles (REFERENCE's, and CURRENT's or each window's) to this "
            "folder, to compare later without the rows: give a *.profile.json as REFERENCE "
            "or CURRENT.",
        ),
    ] = None,
) -> None:
    """Compare two datasets column by column: Kolmogorov-Smirnov, chi-squared, distances and
    PSI, with one Holm-corrected decision (docs/drift.md)."""
    from modelmeter.cli import _drift_windows as windows
    from modelmeter.drift import compare_tables
    from modelmeter.drift.profile import Profile

    if rule not in ("holm", "evidently"):
        raise typer.BadParameter(f"{rule!r}: holm or evidently", param_hint="--rule")
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    loaded = (
        windows.load_input(reference, db, time_field),
        windows.load_input(current, db, time_field),
    )
    names = windows.label(reference), windows.label(current)
    profiled = any(isinstance(side, Profile) for side in loaded)
    if probabilities is not None and profiled:
        raise typer.BadParameter(
            "estimating quality needs the rows of both sides, not profiles",
            param_hint="--probabilities",
        )
    if html is not None and time_field is None:
        raise typer.BadParameter("the chart is of windows: give --time-field", param_hint="--html")
    if time_field is not None:
        if isinstance(loaded[1], Profile):
            raise typer.BadParameter(
                "CURRENT must be rows (JSONL or CSV) to cut into windows", param_hint="--time-field"
            )
        try:
            window_s = parse_interval(window)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--window") from None
        quality = None
        if probabilities is not None:
            assert not isinstance(loaded[0], Profile)  # refused above
            quality = windows.Quality(loaded[0], loaded[1], probabilities, label, names)
        figures = windows.windowed(
            loaded[0],
            loaded[1],
            quality=quality,
            names=names,
            time_field=time_field,
            window_s=window_s,
            wanted=wanted,
            alpha=alpha,
            rule=rule,
            html_out=html,
            profiles_out=save_profiles,
        )
        if json_out is not None:
            json_out.write_text(json.dumps(figures, indent=2) + "\n")
            stdout.print(f"wrote {json_out}")
        return
    if profiled or save_profiles is not None:
        report = _compare_profiles(loaded, wanted, alpha, rule, names, save_profiles)
        tables = None
    else:
        ref_rows, cur_rows = loaded
        assert not isinstance(ref_rows, Profile) and not isinstance(cur_rows, Profile)
        tables = ref_rows, cur_rows
        if probabilities is not None and wanted is None:
            # {class: p} mappings are the model's output, not a column to test as text
            wanted = [c for c in ref_rows if c in cur_rows and c != probabilities]
        try:
            report = compare_tables(*tables, columns=wanted, alpha=alpha, rule=rule)  # type: ignore[arg-type]
        except ValueError as exc:
            raise SpecError(str(exc)) from None
    if not report.columns:
        raise SpecError(f"{names[0]} and {names[1]} share no column to compare")
    table = Table(title=f"Drift from {names[0]} to {names[1]} ({rule}, α = {alpha:g})")
    for name in ("column", "kind", "test", "p (Holm)", "distance", "PSI", "drifted"):
        table.add_column(name)
    for column in report.columns:
        found = column.drift
        table.add_row(
            found.column,
            found.kind,
            f"{found.test} {found.statistic:.3g}",
            f"{column.adjusted_p:.2g}",
            f"{found.distance_name} {found.distance:.3f}",
            "—" if found.psi is None else f"{found.psi:.3f}",
            "[bold red]yes[/]" if column.drifted else "no",
        )
    stdout.print(table)
    for name, why in report.skipped.items():
        stdout.print(f"skipped {name}: {why}")
    drifted = report.drifted
    stdout.print(
        f"{len(drifted)} of {len(report.columns)} columns drifted"
        + (f": {', '.join(drifted)}" if drifted else "")
    )
    figures = report.to_json()
    if slice_field is not None:
        if tables is None:
            raise typer.BadParameter(
                "slices need the rows of both sides, not profiles", param_hint="--slice-field"
            )
        figures["slices"] = _slices(tables, slice_field, wanted, alpha, rule)
    if probabilities is not None:
        assert tables is not None  # rows: profiles were refused with --probabilities above
        figures["quality"] = _estimate_quality(tables, probabilities, label, reference, current)
    if json_out is not None:
        json_out.write_text(json.dumps(figures, indent=2) + "\n")
        stdout.print(f"wrote {json_out}")


def _compare_profiles(
    loaded: tuple[Any, Any],
    wanted: list[str] | None,
    alpha: float,
    rule: str,
    names: tuple[str, str],
    save_to: Path | None,
) -> DriftReport:
    """Both sides as profiles (a saved one, or the rows profiled here), compared."""
    from modelmeter.cli import _drift_windows as windows
    from modelmeter.drift.profile import Profile
    from modelmeter.drift.windows import compare_profiles

    current = loaded[1]
    shared = list(current.columns) if isinstance(current, Profile) else list(current)
    kinds = windows.kinds_of(loaded[0], shared, set())
    reference_profile = windows.as_profile(loaded[0], kinds)
    current_profile = windows.as_profile(current, kinds)
    if save_to is not None:
        for profile, name in zip((reference_profile, current_profile), names, strict=True):
            windows.save(profile, save_to, windows.file_stem(name))
    try:
        return compare_profiles(
            reference_profile,
            current_profile,
            columns=wanted,
            alpha=alpha,
            rule=rule,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def _slices(
    tables: tuple[dict[str, list[Any]], dict[str, list[Any]]],
    field: str,
    wanted: list[str] | None,
    alpha: float,
    rule: str,
) -> dict[str, Any]:
    """The comparison within each slice, as a table and as figures."""
    from modelmeter.drift import compare_slices

    try:
        reports, left_out = compare_slices(
            *tables,
            field,
            columns=wanted,
            alpha=alpha,
            rule=rule,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    table = Table(title=f"Drift within each {field} (Holm over every slice and column)")
    for name in ("slice", "rows", "drifted"):
        table.add_column(name)
    for value, report in reports.items():
        rows = report.columns[0].drift if report.columns else None
        counted = f"{rows.n_reference:,} → {rows.n_current:,}" if rows else "—"
        table.add_row(value, counted, ", ".join(report.drifted) or "—")
    stdout.print(table)
    for value, why in left_out.items():
        stdout.print(f"slice {value}: left out, {why}")
    return {
        "field": field,
        "slices": {value: report.to_json() for value, report in reports.items()},
        "left_out": left_out,
    }


def _labelled(values: list[Any]) -> list[int]:
    return [i for i, v in enumerate(values) if v is not None and str(v).strip() != ""]


def _estimate_quality(
    tables: tuple[dict[str, list[Any]], dict[str, list[Any]]],
    field: str,
    label: str,
    reference: str,
    current: str,
) -> dict[str, Any]:
    """Calibrate on the reference's labels, estimate the current macro F1 (CBPE), and show
    the realised F1 on whatever current rows carry labels already."""
    from modelmeter.drift.performance import (
        estimate_f1,
        expected_calibration_error,
        f1_interval,
        fit_calibration,
        macro_f1,
        probability_rows,
    )

    for path, table in ((reference, tables[0]), (current, tables[1])):
        if field not in table:
            raise SpecError(f"{path}: no field {field!r} (--probabilities)")
    if label not in tables[0]:
        raise SpecError(f"{reference}: no field {label!r} (--label): calibrating needs labels")
    try:
        ref_all, classes = probability_rows(tables[0][field])
    except ValueError as exc:
        raise SpecError(f"{reference}: {field}: {exc}") from None
    try:
        cur_all, _ = probability_rows(tables[1][field], classes)
    except ValueError as exc:
        raise SpecError(f"{current}: {field}: {exc}") from None
    rows = _labelled(tables[0][label])
    ref_labels = [str(tables[0][label][i]) for i in rows]
    try:
        calibration = fit_calibration(ref_all[rows], ref_labels, classes)
    except ValueError as exc:
        raise SpecError(f"{reference}: {exc}") from None
    estimate = estimate_f1(cur_all, calibration)
    ref_pred = [classes[k] for k in ref_all[rows].argmax(axis=1)]
    figures: dict[str, Any] = {
        "method": "CBPE (isotonic calibration per class on the reference)",
        "reference_f1_macro": macro_f1(ref_labels, ref_pred, classes),
        "reference_ece": expected_calibration_error(ref_all[rows], ref_labels, classes),
        "reference_ece_calibrated": expected_calibration_error(
            calibration.apply(ref_all[rows]), ref_labels, classes
        ),
        "estimated_f1_macro": estimate.f1_macro,
        "estimated_per_class": estimate.per_class,
        "n_current": estimate.n,
    }
    stdout.print(
        f"\nQuality without labels (CBPE): estimated macro F1 {estimate.f1_macro:.3f} on "
        f"{estimate.n:,} current rows; {figures['reference_f1_macro']:.3f} realised on the "
        f"{len(rows):,} labelled reference rows (calibration error "
        f"{figures['reference_ece']:.3f} raw, {figures['reference_ece_calibrated']:.3f} "
        "calibrated)."
    )
    late = _labelled(tables[1].get(label, []))
    if late:
        truth = [str(tables[1][label][i]) for i in late]
        predicted = [classes[k] for k in cur_all[late].argmax(axis=1)]
        realised = macro_f1(truth, predicted, classes)
        low, high = f1_interval(truth, predicted, classes)
        figures["labelled_current"] = {
            "n": len(late),
            "f1_macro": realised,
            "f1_macro_ci95": [low, high],
        }
        stdout.print(
            f"{len(late):,} current rows have their label already: realised macro F1 "
            f"{realised:.3f} (95% CI {low:.3f}–{high:.3f})."
        )
    stdout.print(
        "[dim]The estimate assumes the model is as well calibrated on the current inputs as on "
        "the reference ones (a change in the inputs' mix), and that what a label means has not "
        "changed (no concept shift): that only the labels can show.[/]"
    )
    return figures
