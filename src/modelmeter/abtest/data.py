"""Logged outcomes of an online experiment: one row per unit, its variant and its metric.

An A/B analysis needs little from its input — which variant a unit saw, one number per unit
(a 0/1 conversion, a latency, a revenue), optionally a pre-period value of the same unit for CUPED
and an order (a timestamp) for sequential looks — but it must trust every row. So every reader
here checks each value and names the place of a bad one (``file:line``, the column, what is
allowed) instead of letting a NaN or a typo flow silently into a p-value.

Three sources give the same :class:`Observations`: a CSV file (:func:`load_csv`), rows already in
memory (:func:`from_rows`), and a stored modelmeter run (:func:`from_store`), whose targets are the
variants and whose per-request outcomes are the units.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from modelmeter._exceptions import DatasetError, SpecError, StoreError
from modelmeter._text_files import allow_long_csv_cells, csv_problem, not_utf8

__all__ = ["STORE_METRICS", "Observations", "StoreMetric", "from_rows", "from_store", "load_csv"]

StoreMetric = Literal["success", "latency_ms", "input_tokens", "output_tokens", "cost", "feedback"]
STORE_METRICS: tuple[StoreMetric, ...] = (
    "success",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost",
    "feedback",
)
# Kept for a gateway's A/B log only (modelmeter gateway, split or shadow routes).
GATEWAY_METRICS = ("input_tokens", "output_tokens", "cost", "feedback")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True, eq=False)
class Observations:
    """The units of one experiment, as parallel arrays (one entry per unit).

    ``variants`` lists the variant names sorted (so "A" comes before "B" whatever the row
    order); ``groups[i]`` is the index in ``variants`` of unit ``i``. ``order`` (when given)
    sorts units in time for sequential looks; without it the row order is the time order.
    ``assigned`` counts the units assigned to each variant when it differs from the units
    analysed (a stored run's failed requests have no latency but were still assigned); the
    sample-ratio check uses it.
    """

    variants: tuple[str, ...]
    groups: IntArray
    metric: FloatArray
    metric_name: str
    source: str
    covariate: FloatArray | None = None
    covariate_name: str | None = None
    order: FloatArray | None = None
    order_name: str | None = None
    assigned: tuple[int, ...] | None = None
    path: Path | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.metric)
        if len(self.groups) != n:
            raise ValueError(f"groups has {len(self.groups)} entries, metric {n}")
        for name, array in (("covariate", self.covariate), ("order", self.order)):
            if array is not None and len(array) != n:
                raise ValueError(f"{name} has {len(array)} entries, metric {n}")
        if self.assigned is not None and len(self.assigned) != len(self.variants):
            raise ValueError("assigned needs one count per variant")

    @property
    def counts(self) -> tuple[int, ...]:
        """Units analysed per variant, in the order of ``variants``."""
        found = np.bincount(self.groups, minlength=len(self.variants))
        return tuple(int(c) for c in found)

    def values(self, variant: str) -> FloatArray:
        """The metric of one variant's units, in row order."""
        selected: FloatArray = self.metric[self.groups == self.variants.index(variant)]
        return selected


def _sorted(names: Mapping[str, int], groups: list[int]) -> tuple[tuple[str, ...], IntArray]:
    """Variant names sorted, and each unit's group index renumbered to match."""
    ordered = sorted(names)
    renumber = np.empty(len(names), dtype=np.intp)
    for new, name in enumerate(ordered):
        renumber[names[name]] = new
    return tuple(ordered), renumber[np.asarray(groups, dtype=np.intp)]


def _where(path: Path | None, line: int) -> str:
    """How an error names a row: ``path:line`` for a file (DatasetError adds it), else 'row N'."""
    return "" if path is not None else f"row {line}: "


def _number(raw: object, column: str, path: Path | None, line: int, allowed: str) -> float:
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise DatasetError(
                f"{_where(path, line)}column '{column}' is empty; it must be {allowed}",
                path=path,
                line=line,
            )
        try:
            value = float(text)
        except ValueError:
            raise DatasetError(
                f"{_where(path, line)}column '{column}' must be {allowed}, got {text!r}",
                path=path,
                line=line,
            ) from None
    if not math.isfinite(value):
        raise DatasetError(
            f"{_where(path, line)}column '{column}' must be a finite number, got {raw!r}",
            path=path,
            line=line,
        )
    return value


def _order_value(raw: object, column: str, path: Path | None, line: int, as_time: bool) -> float:
    """A number, or an ISO 8601 timestamp as seconds since the epoch (naive = UTC)."""
    if not as_time:
        return _number(raw, column, path, line, "a number (or every row an ISO 8601 timestamp)")
    if isinstance(raw, datetime):
        moment = raw
    else:
        text = "" if raw is None else str(raw).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise DatasetError(
                f"{_where(path, line)}column '{column}' must be an ISO 8601 timestamp like the "
                f"first row's (e.g. 2026-03-01T12:00:00), got {text!r}",
                path=path,
                line=line,
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _looks_like_time(raw: object) -> bool:
    if isinstance(raw, datetime):
        return True
    if isinstance(raw, bool | int | float):
        return False
    text = "" if raw is None else str(raw).strip()
    try:
        float(text)
    except ValueError:
        pass
    else:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _collect(
    rows: Iterable[tuple[int, Mapping[str, object]]],
    *,
    variant: str,
    metric: str,
    covariate: str | None,
    order_by: str | None,
    path: Path | None,
    source: str,
) -> Observations:
    names: dict[str, int] = {}
    groups: list[int] = []
    metrics: list[float] = []
    covariates: list[float] = []
    orders: list[float] = []
    order_is_time: bool | None = None
    wanted = [c for c in (variant, metric, covariate, order_by) if c is not None]
    for line, row in rows:
        for column in wanted:
            if column not in row:
                known = ", ".join(str(k) for k in row) or "none"
                raise DatasetError(
                    f"{_where(path, line)}no column '{column}' (columns: {known})",
                    path=path,
                    line=line,
                )
        raw_variant = row[variant]
        name = "" if raw_variant is None else str(raw_variant).strip()
        if not name:
            raise DatasetError(
                f"{_where(path, line)}column '{variant}' is empty; every row needs its variant",
                path=path,
                line=line,
            )
        groups.append(names.setdefault(name, len(names)))
        metrics.append(_number(row[metric], metric, path, line, "a number (0/1 for a conversion)"))
        if covariate is not None:
            covariates.append(
                _number(row[covariate], covariate, path, line, "a number (the pre-period value)")
            )
        if order_by is not None:
            if order_is_time is None:
                order_is_time = _looks_like_time(row[order_by])
            orders.append(_order_value(row[order_by], order_by, path, line, order_is_time))
    if not groups:
        what = "no data rows after the header" if path is not None else f"{source}: no rows"
        raise DatasetError(what, path=path)
    variants, group_index = _sorted(names, groups)
    return Observations(
        variants=variants,
        groups=group_index,
        metric=np.asarray(metrics, dtype=np.float64),
        metric_name=metric,
        source=source,
        covariate=np.asarray(covariates, dtype=np.float64) if covariate is not None else None,
        covariate_name=covariate,
        order=np.asarray(orders, dtype=np.float64) if order_by is not None else None,
        order_name=order_by,
        path=path,
    )


def _csv_rows(path: Path) -> Iterator[tuple[int, Mapping[str, object]]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DatasetError(f"cannot read the file: {exc.strerror}", path=path) from None
    allow_long_csv_cells()
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames
        except UnicodeDecodeError as exc:
            raise not_utf8(path, exc) from None
        except csv.Error as exc:
            raise DatasetError(csv_problem(exc), path=path, line=1) from None
        if not header:
            raise DatasetError("the CSV file has no header row", path=path, line=1)
        try:
            for row in reader:
                if None in row:
                    raise DatasetError(
                        f"more values than the {len(header)} header columns",
                        path=path,
                        line=reader.line_num,
                    )
                yield reader.line_num, row
        except UnicodeDecodeError as exc:
            raise not_utf8(path, exc) from None
        except csv.Error as exc:
            raise DatasetError(csv_problem(exc), path=path, line=reader.line_num) from None


def load_csv(
    path: Path,
    *,
    variant: str,
    metric: str,
    covariate: str | None = None,
    order_by: str | None = None,
) -> Observations:
    """Read an experiment log: one row per unit, columns named by the caller.

    ``metric`` must be a number on every row (0/1 for a conversion); ``covariate`` the same
    unit's pre-period value; ``order_by`` a number or an ISO 8601 timestamp that orders the rows
    in time. Errors name ``path:line`` and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError("experiment file not found", path=path)
    header = _header(path)
    for column in (variant, metric, covariate, order_by):
        if column is not None and column not in header:
            raise DatasetError(
                f"no column '{column}' in the header (columns: {', '.join(header) or 'none'})",
                path=path,
                line=1,
            )
    return _collect(
        _csv_rows(path),
        variant=variant,
        metric=metric,
        covariate=covariate,
        order_by=order_by,
        path=path,
        source=str(path),
    )


def _header(path: Path) -> list[str]:
    allow_long_csv_cells()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            first = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except OSError as exc:
        raise DatasetError(f"cannot read the file: {exc.strerror}", path=path) from None
    except csv.Error as exc:
        raise DatasetError(csv_problem(exc), path=path, line=1) from None
    if not first:
        raise DatasetError("the CSV file has no header row", path=path, line=1)
    return first


def from_rows(
    rows: Iterable[Mapping[str, object]],
    *,
    variant: str,
    metric: str,
    covariate: str | None = None,
    order_by: str | None = None,
    source: str = "rows",
) -> Observations:
    """The same as :func:`load_csv` for rows already in memory; errors name 'row N' (1-based)."""
    return _collect(
        ((number, row) for number, row in enumerate(rows, start=1)),
        variant=variant,
        metric=metric,
        covariate=covariate,
        order_by=order_by,
        path=None,
        source=source,
    )


def from_store(
    db_url: str | None,
    run_id: str,
    *,
    metric: StoreMetric = "success",
    phase: str = "load",
) -> Observations:
    """A stored run's per-request outcomes as an experiment: variants are its targets.

    ``metric`` is ``success`` (1 when the request did not fail) or ``latency_ms`` (service time,
    done − sent; failed requests have none and are left out of the metric but still counted as
    assigned); a gateway's A/B log also has ``input_tokens``, ``output_tokens``, ``cost`` (where
    the route has a price) and ``feedback`` (where a client sent one), each left out where a
    request has none. Warm-up and cool-down requests are left out. Units are ordered by send time.
    ``run_id`` may be a unique prefix; ``db_url`` None means the default store.
    """
    from modelmeter.store.runs import RunStore, default_db_url, to_url

    if metric not in STORE_METRICS:
        raise SpecError(
            f"unknown metric '{metric}' for a stored run; use one of {', '.join(STORE_METRICS)}",
            field="metric",
        )
    url = to_url(db_url) if db_url else default_db_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise StoreError(f"no run store at {url.removeprefix('sqlite:///')}")
    store = RunStore(url)
    try:
        full_id = store.resolve_run_id(run_id)
        rows = store.measured_outcomes(full_id)
    finally:
        store.close()
    chosen = [r for r in rows if r.phase == phase]
    if not chosen and phase == "load" and {r.phase for r in rows} == {"gateway"}:
        # a gateway's A/B log has one phase; asked for the default, it is the one meant
        phase = "gateway"
        chosen = list(rows)
    if not chosen:
        phases = sorted({str(r.phase) for r in rows})
        raise SpecError(
            f"run {full_id} has no measured outcomes in phase '{phase}' "
            f"(phases with outcomes: {', '.join(phases) or 'none'})",
            field="phase",
        )
    names: dict[str, int] = {}
    assigned: list[int] = []
    groups: list[int] = []
    values: list[float] = []
    order: list[float] = []
    failed = missing = 0
    shadowed = 0
    if phase == "gateway":
        # Shadow copies duplicate requests the split already assigned: they are not units of
        # the split (counting them would fail the sample-ratio check by design).
        plain = {str(r.target) for r in chosen if not str(r.target).endswith(" (shadow)")}
        if len(plain) >= 2:
            shadowed = sum(1 for r in chosen if str(r.target) not in plain)
            chosen = [r for r in chosen if str(r.target) in plain]
    if metric in GATEWAY_METRICS and phase != "gateway":
        raise SpecError(
            f"'{metric}' is kept for a gateway's A/B log only; run {full_id} offers success or "
            "latency_ms",
            field="metric",
        )
    for row in chosen:
        index = names.setdefault(str(row.target), len(names))
        if index == len(assigned):
            assigned.append(0)
        assigned[index] += 1
        ok = row.error_kind is None
        if metric == "success":
            value = 1.0 if ok else 0.0
        elif metric in GATEWAY_METRICS:
            found = getattr(row, metric)
            if found is None:
                missing += 1
                continue
            value = float(found)
        elif ok:
            value = (int(row.done_at_ns) - int(row.sent_at_ns)) / 1e6
        else:
            failed += 1
            continue
        groups.append(index)
        values.append(value)
        order.append(float(row.sent_at_ns))
    without = sorted(name for name, index in names.items() if index not in set(groups))
    if without and metric in GATEWAY_METRICS:
        # an arm that never has the metric (a shadow copy has no feedback) is not compared
        kept = {name: index for name, index in names.items() if name not in without}
        renumber = {old: new for new, old in enumerate(kept.values())}
        groups = [renumber[group] for group in groups]
        assigned = [assigned[old] for old in kept.values()]
        names = {name: renumber[old] for name, old in kept.items()}
        missing_arms = f"{', '.join(without)} {'has' if len(without) == 1 else 'have'} no {metric}"
    variants, group_index = _sorted(names, groups)
    assigned_sorted = tuple(assigned[names[name]] for name in variants)
    notes: tuple[str, ...] = ()
    if failed:
        notes = (f"{failed} failed requests have no latency and are left out of the metric",)
    if shadowed:
        notes = (
            *notes,
            f"{shadowed} shadow copies are not units of the split and are left out",
        )
    if missing:
        notes = (*notes, f"{missing} requests have no {metric} and are left out of the metric")
    if without and metric in GATEWAY_METRICS:
        notes = (*notes, f"{missing_arms}: left out of the comparison")
    if not values:
        raise SpecError(f"no request of run {full_id} has a {metric}", field="metric")
    return Observations(
        variants=variants,
        groups=group_index,
        metric=np.asarray(values, dtype=np.float64),
        metric_name=metric,
        source=f"run {full_id}, phase {phase}",
        order=np.asarray(order, dtype=np.float64),
        order_name="sent_at_ns",
        assigned=assigned_sorted,
        notes=notes,
    )
