"""How one outcome is laid out as a row of 16 integers, and the limits of that layout."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt

from modelmeter._exceptions import ModelmeterError

__all__ = [
    "CODE_LIMITS",
    "COOLDOWN",
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_EXACT_LIMIT",
    "DTYPES",
    "EXACT",
    "FLAT_DTYPES",
    "MAX_BUFFERED_GAP_BYTES",
    "MAX_BUFFERED_TEXT",
    "MAX_PENDING",
    "MISSING",
    "READ_GAPS",
    "READ_ROWS",
    "ROW_BYTES",
    "ROW_COLUMNS",
    "WARMUP",
    "WIDTH",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "Interner",
    "pack_row",
]


MISSING = -(2**63)
"""Stands for ``None`` in the integer columns (timestamps, token counts)."""

DEFAULT_CHUNK_ROWS = 16_384
# Past this many measured requests, percentiles come from histograms. The end of a load level
# takes about 130 bytes per exactly kept request (values, sorted copies, intervals): about
# 360 MiB peak at this limit for an HTTP run (716 MiB at 5,000,000, the limit before), measured
# with benchmarks/recorder_memory.py.
DEFAULT_EXACT_LIMIT = 2_000_000
EXACT = "exact"

# A chunk is also written early when its token gaps or text pass these sizes (4 MiB each).
MAX_BUFFERED_GAP_BYTES = 4 << 20
MAX_BUFFERED_TEXT = 4 << 20
# Chunks queued for the writer thread before an append waits for the disk.
MAX_PENDING = 4
# Reading groups written chunks into batches of about this many rows or token gaps.
READ_ROWS = 1 << 16
READ_GAPS = 1 << 20

# One row of the buffer: the column names, in order, with their dtype on disk.
ROW_COLUMNS: tuple[tuple[str, type[np.generic]], ...] = (
    ("intended_at", np.int64),
    ("sent_at", np.int64),
    ("done_at", np.int64),
    ("first_byte_at", np.int64),
    ("first_token_at", np.int64),
    ("first_reasoning_at", np.int64),
    ("input_tokens", np.int64),
    ("output_tokens", np.int64),
    ("gap_count", np.int32),
    ("prediction_length", np.int32),
    ("detail_length", np.int32),
    ("error", np.int16),
    ("token_source", np.int16),
    ("flags", np.uint8),
    ("sample", np.int32),
    ("target", np.int32),
)
WIDTH = len(ROW_COLUMNS)
ROW_BYTES = 8 * WIDTH
# Native byte order and standard sizes: what numpy's int64 reads back.
pack_row = struct.Struct(f"={WIDTH}q").pack_into
DTYPES: dict[str, np.dtype[Any]] = {name: np.dtype(kind) for name, kind in ROW_COLUMNS}
# Flat columns: values of every row one after another; a row's share is given by a length column.
FLAT_DTYPES: dict[str, np.dtype[Any]] = {
    "token_gaps": np.dtype(np.int64),
    "predictions": np.dtype(np.uint8),
    "details": np.dtype(np.uint8),
}
WARMUP, COOLDOWN = 1, 2
CODE_LIMITS = {"error": 2**15 - 1, "token_source": 2**15 - 1, "sample": 2**31 - 1}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Interner:
    """Distinct values ↔ small integer codes; code 0 is ``None``."""

    __slots__ = ("codes", "limit", "name", "values")

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.values: list[Any] = [None]
        self.codes: dict[Any, int] = {}

    def add(self, value: Any) -> int:
        code = len(self.values)
        if code > self.limit:
            raise ModelmeterError(f"more than {self.limit:,} distinct {self.name} values")
        self.values.append(value)
        self.codes[value] = code
        return code
