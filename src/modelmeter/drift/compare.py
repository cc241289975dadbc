"""Two tables compared column by column, with one decision for the whole family of tests.

A column drifted when its test's p-value, **Holm-corrected across the columns compared**, is
below ``alpha``: under no drift at all, the chance that *any* column is flagged is then at most
``alpha`` (5%), however many columns there are (tests/unit/test_drift.py shows it by
simulation). Uncorrected, 25 columns at 5% each flag at least one 72% of the time.

``rule="evidently"`` decides as Evidently's defaults do instead: with at most 1,000 reference
rows, the test at p < 0.05 per column (uncorrected); above, the distance: Wasserstein over the
reference's standard deviation ≥ 0.1 (numeric), Jensen-Shannon ≥ 0.1 (categorical, text).

Column kinds are read from the data: numbers (JSON numbers, or CSV cells that all parse as
one) are numeric; strings with few distinct values (at most 50, or 5% of the rows) are
categorical; other strings are text. Missing values (null, empty; for numbers also NaN and
infinities) are left out of the tests and their shares reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from modelmeter.drift.language import language_counts
from modelmeter.drift.stats import (
    ColumnDrift,
    categorical_counts_drift,
    categorical_drift,
    numeric_drift,
    text_drift,
)

__all__ = [
    "ColumnResult",
    "DriftReport",
    "column_kind",
    "compare_slices",
    "compare_tables",
    "holm",
]

Rule = Literal["holm", "evidently"]
_EVIDENTLY_SMALL = 1000
_EVIDENTLY_DISTANCE = 0.1


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_numbers(values: list[Any]) -> np.ndarray | None:
    """The column as floats (NaN where missing), or None when a value is not a number. NumPy
    converts a whole list at once; only a column it refuses is looked at value by value."""
    if bool in set(map(type, values)):  # True/False are categories, not 1 and 0
        return None
    try:
        return np.array(values, dtype=float)
    except (ValueError, TypeError):
        pass
    if "" not in values:
        return None
    try:  # CSV: an empty cell is a missing value
        return np.array([None if v == "" else v for v in values], dtype=float)
    except (ValueError, TypeError):
        return None


def _strings(values: list[Any]) -> list[str]:
    """The present values of a column that is not numeric, as strings."""
    return [v if type(v) is str else str(v) for v in values if v is not None and v != ""]


def _string_kind(reference: list[str], current: list[str]) -> str:
    distinct = len(set(reference) | set(current))
    return "categorical" if distinct <= max(50, 0.05 * (len(reference) + len(current))) else "text"


def column_kind(values: list[Any]) -> str:
    present = [v for v in values if not _missing(v)]
    if not present:
        return "empty"
    if _as_numbers(present) is not None:
        return "numeric"
    return _string_kind([str(v) for v in present], [])


@dataclass(frozen=True)
class ColumnResult:
    drift: ColumnDrift
    adjusted_p: float
    drifted: bool
    missing_reference: float
    missing_current: float


@dataclass
class DriftReport:
    rule: Rule
    alpha: float
    columns: list[ColumnResult]
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why

    @property
    def drifted(self) -> list[str]:
        return [c.drift.column for c in self.columns if c.drifted]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "alpha": self.alpha,
            "drifted": self.drifted,
            "columns": [
                {
                    "column": c.drift.column,
                    "kind": c.drift.kind,
                    "test": c.drift.test,
                    "statistic": c.drift.statistic,
                    "p_value": c.drift.p_value,
                    "p_value_holm": c.adjusted_p,
                    c.drift.distance_name: c.drift.distance,
                    "psi": c.drift.psi,
                    "drifted": c.drifted,
                    "n_reference": c.drift.n_reference,
                    "n_current": c.drift.n_current,
                    "missing_reference": c.missing_reference,
                    "missing_current": c.missing_current,
                    **c.drift.extra,
                }
                for c in self.columns
            ],
            "skipped": self.skipped,
        }


def compare_tables(
    reference: dict[str, list[Any]],
    current: dict[str, list[Any]],
    *,
    columns: list[str] | None = None,
    alpha: float = 0.05,
    rule: Rule = "holm",
) -> DriftReport:
    """Compare the columns both tables have (or ``columns``); ValueError names a column that
    one of them lacks."""
    names = columns if columns is not None else [c for c in reference if c in current]
    for name in names:
        for label, table in (("reference", reference), ("current", current)):
            if name not in table:
                raise ValueError(f"column {name!r} is not in the {label} data")
    results: list[tuple[ColumnDrift, float, float]] = []
    skipped: dict[str, str] = {}
    for name in names:
        ref_all, cur_all = reference[name], current[name]
        ref_floats, cur_floats = _as_numbers(ref_all), _as_numbers(cur_all)
        if ref_floats is not None and cur_floats is not None:
            # missing (NaN) and infinite values are left out of the tests
            ref_numbers = ref_floats[np.isfinite(ref_floats)]
            cur_numbers = cur_floats[np.isfinite(cur_floats)]
            if len(ref_numbers) < 2 or len(cur_numbers) < 2:
                skipped[name] = "fewer than 2 values on one side"
                continue
            drift = numeric_drift(name, ref_numbers, cur_numbers)
            present = len(ref_numbers), len(cur_numbers)
        else:
            ref, cur = _strings(ref_all), _strings(cur_all)
            if len(ref) < 2 or len(cur) < 2:
                skipped[name] = "fewer than 2 values on one side"
                continue
            if _string_kind(ref, cur) == "categorical":
                drift = categorical_drift(name, ref, cur)
            else:
                drift = text_drift(name, ref, cur)
                # the texts' language mix is a column of its own, in the same family
                mix = categorical_counts_drift(
                    f"{name}:language", language_counts(ref), language_counts(cur)
                )
                results.append((mix, 0.0, 0.0))
            present = len(ref), len(cur)
        results.append(
            (
                drift,
                1 - present[0] / max(1, len(ref_all)),
                1 - present[1] / max(1, len(cur_all)),
            )
        )
    return decide(results, alpha, rule, skipped)


def decide(
    results: list[tuple[ColumnDrift, float, float]],
    alpha: float,
    rule: Rule,
    skipped: dict[str, str],
) -> DriftReport:
    """One decision for the family: (drift, missing share in reference, in current) per
    column, Holm-adjusted together (or Evidently's rule)."""
    adjusted = holm([d.p_value for d, _, _ in results])
    decided = []
    for (drift, missing_ref, missing_cur), p_holm in zip(results, adjusted, strict=True):
        if rule == "holm":
            drifted = p_holm < alpha
        elif drift.n_reference <= _EVIDENTLY_SMALL:
            drifted = drift.p_value < alpha
        else:
            drifted = drift.distance >= _EVIDENTLY_DISTANCE
        decided.append(ColumnResult(drift, p_holm, drifted, missing_ref, missing_cur))
    return DriftReport(rule, alpha, decided, skipped)


def compare_slices(
    reference: dict[str, list[Any]],
    current: dict[str, list[Any]],
    slice_field: str,
    *,
    columns: list[str] | None = None,
    alpha: float = 0.05,
    rule: Rule = "holm",
    min_rows: int = 30,
) -> tuple[dict[str, DriftReport], dict[str, str]]:
    """The comparison within each value of ``slice_field`` both tables have (a language, a
    customer group), every slice's columns Holm-adjusted together: one family, so more slices
    do not mean more false alarms. Also the slices left out, with why."""
    for label, table in (("reference", reference), ("current", current)):
        if slice_field not in table:
            raise ValueError(f"no field {slice_field!r} in the {label} data (--slice-field)")

    def rows_by_value(table: dict[str, list[Any]]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for row, value in enumerate(table[slice_field]):
            if not _missing(value):
                found.setdefault(str(value), []).append(row)
        return found

    ref_rows, cur_rows = rows_by_value(reference), rows_by_value(current)
    names = columns if columns is not None else [c for c in reference if c in current]
    names = [c for c in names if c != slice_field]
    reports: dict[str, DriftReport] = {}
    left_out: dict[str, str] = {}
    for value in sorted(set(ref_rows) | set(cur_rows)):
        a, b = ref_rows.get(value, []), cur_rows.get(value, [])
        if min(len(a), len(b)) < min_rows:
            left_out[value] = (
                f"{len(a)} reference and {len(b)} current rows (fewer than {min_rows})"
            )
            continue
        sub_ref = {c: [reference[c][i] for i in a] for c in names}
        sub_cur = {c: [current[c][i] for i in b] for c in names}
        reports[value] = compare_tables(sub_ref, sub_cur, columns=names, alpha=alpha, rule=rule)
    family = [(value, k) for value, report in reports.items() for k in range(len(report.columns))]
    adjusted = holm([reports[v].columns[k].drift.p_value for v, k in family])
    for (value, k), p_holm in zip(family, adjusted, strict=True):
        old = reports[value].columns[k]
        drifted = p_holm < alpha if rule == "holm" else old.drifted
        reports[value].columns[k] = ColumnResult(
            old.drift, p_holm, drifted, old.missing_reference, old.missing_current
        )
    return reports, left_out
