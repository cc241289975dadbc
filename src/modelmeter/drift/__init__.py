"""Data drift between a reference and a current table: per column, a test and distances, and
one Holm-corrected decision for the family (see `compare`)."""

from modelmeter.drift.compare import (
    ColumnResult,
    DriftReport,
    column_kind,
    compare_slices,
    compare_tables,
    holm,
)
from modelmeter.drift.gateway import gateway_columns
from modelmeter.drift.stats import ColumnDrift

__all__ = [
    "ColumnDrift",
    "ColumnResult",
    "DriftReport",
    "column_kind",
    "compare_slices",
    "compare_tables",
    "gateway_columns",
    "holm",
]
