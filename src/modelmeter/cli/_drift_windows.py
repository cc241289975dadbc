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


def _stored_run(spec: str, db: str | None) -> dict[str, list[Any]]:
    """``run:ID`` or ``run:ID:TARGET``: a stored run's answers as columns."""
    from modelmeter.drift.sources import prediction_columns
    from modelmeter.store import RunStore

    _, _, rest = spec.partition(":")
    run_id, _, target = rest.partition(":")
    if not run_id:
        raise SpecError(f"{spec!r}: give a run id, run:ID or run:ID:TARGET")
    store = RunStore(db)
    try:
        rows = store.predictions(run_id)
        report = store.load_report(run_id)
    finally:
        store.close()
    graded = {
        model.name: dict(zip(model.items.ids, model.items.correct, strict=True))
        for model in report.models
        if model.items is not None
    }
    columns = prediction_columns(rows, graded, target or None)
    if not columns["target"]:
        which = f" for target {target!r}" if target else ""
        raise SpecError(f"{spec}: the run stored no answers{which} (its quality pass)")
    return columns


def _gateway_span(spec: str, db: str | None, time_field: str | None) -> dict[str, list[Any]]:
    """``gateway:7d`` (the last seven days of the gateway's log) or ``gateway:14d..7d``; with
    ``time_field``, each request's arrival under that name (to cut windows by)."""
    import time

    from modelmeter._intervals import parse_interval
    from modelmeter.drift import gateway_columns
    from modelmeter.store import RunStore

    _, _, span = spec.partition(":")
    since_text, _, until_text = span.partition("..")
    try:
        since = parse_interval(since_text)
        until = parse_interval(until_text) if until_text else 0.0
    except ValueError as exc:
        raise SpecError(f"{spec!r}: {exc} (gateway:7d, or gateway:14d..7d)") from None
    if until >= since:
        raise SpecError(f"{spec!r}: the span must end after it starts, e.g. gateway:14d..7d")
    now = time.time_ns()
    store = RunStore(db)
    try:
        rows = store.gateway_log(since_ns=now - int(since * 1e9))
    finally:
        store.close()
    end = now - int(until * 1e9)
    kept = [r for r in rows if r["at_ns"] < end]
    if not kept:
        raise SpecError(f"{spec}: the gateway logged no request in that span")
    columns = gateway_columns(kept)
    if time_field is not None:
        columns[time_field] = [r["at_ns"] for r in kept]
    return columns


def label(source: str) -> str:
    """How a source is named in tables and messages."""
    return source if source.startswith(("run:", "gateway:")) else Path(source).name


def file_stem(name: str) -> str:
    """A file name made of a source's label (run:20261201-...:base -> run-20261201-...-base)."""
    stem = name.removesuffix(PROFILE_SUFFIX).split(".")[0] if "." in name else name
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)


def load_input(
    source: str, db: str | None = None, time_field: str | None = None
) -> dict[str, list[Any]] | Profile:
    """What REFERENCE or CURRENT names: a saved profile (``*.profile.json``), a stored run's
    answers (``run:ID[:TARGET]``), the gateway's traffic log (``gateway:7d[..1d]``), else the
    rows of a JSONL/CSV file as columns."""
    from modelmeter.data import read_columns
    from modelmeter.drift.profile import Profile

    if source.startswith("run:"):
        return _stored_run(source, db)
    if source.startswith("gateway:"):
        return _gateway_span(source, db, time_field)
    path = Path(source)

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
    quality: Quality | None = None,
) -> dict[str, Any]:
    """Compare each window of ``current`` with ``reference``; print, save and draw them. With
    ``quality``, each window's estimated F1 and, where labels came in, its realised F1."""
    from modelmeter.drift.windows import compare_profiles, profile_windows, window_rows
    from modelmeter.report.drift_page import WindowQuality, WindowRow, drift_page

    if time_field not in current:
        raise SpecError(f"{names[1]}: no field {time_field!r} (--time-field)")
    skip = {time_field} | ({quality.field} if quality is not None else set())
    kinds = kinds_of(reference, list(current), skip)
    if wanted is not None:
        missing = [c for c in wanted if c not in kinds]
        if missing:
            raise SpecError(f"column(s) not in both: {', '.join(missing)}")
        kinds = {c: kinds[c] for c in wanted}
    base = as_profile(reference, kinds)
    try:
        cut = window_rows(current[time_field], window_s, source=names[1])
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    windows = profile_windows(current, kinds, cut, window_s)
    table = Table(
        title=f"Drift per window of {names[1]} against {names[0]} ({rule}, α = {alpha:g})"
    )
    for column in ("window (UTC)", "rows", "drifted"):
        table.add_column(column)
    if quality is not None:
        table.add_column("F1 estimated")
        table.add_column("F1 realised (labelled rows, 95% CI)")
    found: list[dict[str, Any]] = []
    rows: list[WindowRow] = []
    scores: list[WindowQuality] = []
    p_values: dict[str, list[float | None]] = {}
    for number, profile in enumerate(windows):
        report = compare_profiles(base, profile, alpha=alpha, rule=rule)  # type: ignore[arg-type]
        for result in report.columns:
            earlier = p_values.setdefault(result.drift.column, [None] * number)
            earlier.append(result.adjusted_p)
        for series in p_values.values():
            series.extend([None] * (number + 1 - len(series)))
        start = profile.start or ""
        rows.append(WindowRow(start, profile.rows, report.drifted))
        cells = [
            start[:16].replace("T", " "),
            f"{profile.rows:,}",
            ", ".join(report.drifted) or "—",
        ]
        figures: dict[str, Any] = {"start": start, "end": profile.end, "rows": profile.rows}
        if quality is not None:
            score = quality.window(cut[number][1])
            scores.append(
                WindowQuality(
                    start, score.estimated, score.realised, score.interval, score.labelled
                )
            )
            cells += score.cells()
            figures["quality"] = score.to_json()
        table.add_row(*cells)
        found.append({**figures, **report.to_json()})
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
            quality=scores or None,
        )
        html_out.write_text(page, encoding="utf-8")
        stdout.print(f"wrote {html_out}")
    return {"time_field": time_field, "window_s": window_s, "windows": found}


class _Score:
    def __init__(
        self,
        estimated: float,
        labelled: int,
        realised: float | None,
        interval: tuple[float, float] | None,
    ) -> None:
        self.estimated, self.labelled = estimated, labelled
        self.realised, self.interval = realised, interval

    def cells(self) -> list[str]:
        if self.realised is None or self.interval is None:
            late = f"— ({self.labelled} labelled)" if self.labelled else "—"
        else:
            low, high = self.interval
            late = f"{self.realised:.3f} (n {self.labelled:,}, {low:.3f}–{high:.3f})"
        return [f"{self.estimated:.3f}", late]

    def to_json(self) -> dict[str, Any]:
        return {
            "estimated_f1_macro": self.estimated,
            "labelled": self.labelled,
            "realised_f1_macro": self.realised,
            "realised_ci95": list(self.interval) if self.interval else None,
        }


class Quality:
    """Each window's quality: CBPE's estimate on all its rows (calibrated on the reference's
    labels), and the realised macro F1 with a bootstrap interval on the rows whose label came
    in (30 at least)."""

    MIN_LABELLED = 30

    def __init__(
        self,
        reference: dict[str, list[Any]],
        current: dict[str, list[Any]],
        field: str,
        label: str,
        names: tuple[str, str],
    ) -> None:
        from modelmeter.drift.performance import fit_calibration, probability_rows

        for name, table in zip(names, (reference, current), strict=True):
            if field not in table:
                raise SpecError(f"{name}: no field {field!r} (--probabilities)")
        if label not in reference:
            raise SpecError(f"{names[0]}: no field {label!r} (--label): calibrating needs labels")
        self.field = field
        try:
            ref, self.classes = probability_rows(reference[field])
            self.current, _ = probability_rows(current[field], self.classes)
        except ValueError as exc:
            raise SpecError(f"{field}: {exc}") from None
        known = [i for i, v in enumerate(reference[label]) if v not in (None, "")]
        try:
            self.calibration = fit_calibration(
                ref[known], [str(reference[label][i]) for i in known], self.classes
            )
        except ValueError as exc:
            raise SpecError(f"{names[0]}: {exc}") from None
        self.labels = current.get(label, [None] * len(self.current))

    def window(self, rows: list[int]) -> _Score:
        from modelmeter.drift.performance import estimate_f1, f1_interval, macro_f1

        estimate = estimate_f1(self.current[rows], self.calibration).f1_macro
        late = [i for i in rows if self.labels[i] not in (None, "")]
        if len(late) < self.MIN_LABELLED:
            return _Score(estimate, len(late), None, None)
        truth = [str(self.labels[i]) for i in late]
        predicted = [self.classes[k] for k in self.current[late].argmax(axis=1)]
        realised = macro_f1(truth, predicted, self.classes)
        return _Score(estimate, len(late), realised, f1_interval(truth, predicted, self.classes))
