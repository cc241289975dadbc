"""The profile and window paths of `modelmeter drift`: inputs that are saved profiles, the
current data cut into windows of time, the profiles saved, the HTML page of the windows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from modelmeter._exceptions import SpecError
from modelmeter.cli._console import console, stdout

if TYPE_CHECKING:
    from modelmeter.drift.profile import Profile

PROFILE_SUFFIX = ".profile.json"
_MAX_PROFILE_BYTES = 100_000


def load_input(path: Path) -> dict[str, list[Any]] | Profile:
    """A saved profile (``*.profile.json``), else the rows of a JSONL/CSV file as columns."""
    from modelmeter.data import read_columns
    from modelmeter.drift.profile import Profile

    if path.name.endswith(PROFILE_SUFFIX):
        try:
            return Profile.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise SpecError(f"{path}: no such file") from None
        except ValueError as exc:
            raise SpecError(f"{path}: {exc}") from None
    return read_columns(path)


def kinds_of(
    reference: dict[str, list[Any]] | Profile, current_names: list[str], skip: set[str]
) -> dict[str, str]:
    from modelmeter.drift import column_kind
    from modelmeter.drift.profile import Profile

    if isinstance(reference, Profile):
        return {n: s.kind for n, s in reference.columns.items() if n in current_names}
    return {
        name: column_kind(values)
        for name, values in reference.items()
        if name in current_names and name not in skip and column_kind(values) != "empty"
    }


def as_profile(data: dict[str, list[Any]] | Profile, kinds: dict[str, str]) -> Profile:
    from modelmeter.drift.profile import Profile, profile_table

    return data if isinstance(data, Profile) else profile_table(data, kinds)


def save(profile: Profile, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{PROFILE_SUFFIX}"
    text = json.dumps(profile.to_json(), separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    size = len(text.encode())
    warning = (
        f" [yellow](over {_MAX_PROFILE_BYTES // 1000} KB: many categories or words)[/]"
        if size > _MAX_PROFILE_BYTES
        else ""
    )
    console.print(f"wrote {path} ({size / 1000:,.1f} KB){warning}", highlight=False)


def windowed(
    reference: dict[str, list[Any]] | Profile,
    current: dict[str, list[Any]],
    *,
    names: tuple[str, str],
    time_field: str,
    window_s: float,
    wanted: list[str] | None,
    alpha: float,
    rule: str,
    html_out: Path | None,
    profiles_out: Path | None,
) -> dict[str, Any]:
    """Compare each window of ``current`` with ``reference``; print, save and draw them."""
    from modelmeter.drift.windows import compare_profiles, profile_windows
    from modelmeter.report.drift_page import WindowRow, drift_page

    if time_field not in current:
        raise SpecError(f"{names[1]}: no field {time_field!r} (--time-field)")
    kinds = kinds_of(reference, list(current), {time_field})
    if wanted is not None:
        missing = [c for c in wanted if c not in kinds]
        if missing:
            raise SpecError(f"column(s) not in both: {', '.join(missing)}")
        kinds = {c: kinds[c] for c in wanted}
    base = as_profile(reference, kinds)
    try:
        windows = profile_windows(current, kinds, time_field, window_s, source=names[1])
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    table = Table(
        title=f"Drift per window of {names[1]} against {names[0]} ({rule}, α = {alpha:g})"
    )
    for column in ("window (UTC)", "rows", "drifted"):
        table.add_column(column)
    found: list[dict[str, Any]] = []
    rows: list[WindowRow] = []
    p_values: dict[str, list[float | None]] = {c: [] for c in kinds}
    for profile in windows:
        report = compare_profiles(base, profile, alpha=alpha, rule=rule)  # type: ignore[arg-type]
        by_column = {c.drift.column: c.adjusted_p for c in report.columns}
        for column in kinds:
            p_values[column].append(by_column.get(column))
        start = profile.start or ""
        rows.append(WindowRow(start, profile.rows, report.drifted))
        table.add_row(
            start[:16].replace("T", " "), f"{profile.rows:,}", ", ".join(report.drifted) or "—"
        )
        found.append({"start": start, "end": profile.end, "rows": profile.rows, **report.to_json()})
        if profiles_out is not None:
            save(profile, profiles_out, f"window-{start[:19].replace(':', '')}")
    stdout.print(table)
    if profiles_out is not None:
        save(base, profiles_out, "reference")
    if html_out is not None:
        page = drift_page(
            title=f"Drift of {names[1]} per window",
            reference=names[0],
            alpha=alpha,
            windows=rows,
            p_values=p_values,
        )
        html_out.write_text(page, encoding="utf-8")
        stdout.print(f"wrote {html_out}")
    return {"time_field": time_field, "window_s": window_s, "windows": found}
