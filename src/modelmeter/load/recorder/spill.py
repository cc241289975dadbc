"""Spilling to disk: chunks of rows appended to one file per column by a writer thread, and the
blocks read back from those files.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from modelmeter._process import process_alive
from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder.columns import Columns, with_none
from modelmeter.load.recorder.layout import COOLDOWN, DTYPES, ROW_COLUMNS, WARMUP, WIDTH, IntArray

__all__ = [
    "NO_GAPS",
    "NO_MARK",
    "Block",
    "Chunk",
    "Mark",
    "map_file",
    "read_file",
    "remove",
    "utf8",
    "write_chunk",
    "writer",
]


@dataclass
class Block:
    """A contiguous run of rows read back: the row columns and the flat data they point into."""

    columns: dict[str, npt.NDArray[Any]]
    token_gaps: IntArray
    predictions: bytes
    details: bytes

    @property
    def rows(self) -> int:
        return int(self.columns["intended_at"].size)

    def to_columns(self, error_kinds: tuple[Any, ...], sources: tuple[Any, ...]) -> Columns:
        c = self.columns
        flags = c["flags"]
        return Columns(
            intended_at=c["intended_at"],
            sent_at=c["sent_at"],
            done_at=c["done_at"],
            first_byte_at=c["first_byte_at"],
            first_token_at=c["first_token_at"],
            first_reasoning_at=c["first_reasoning_at"],
            input_tokens=c["input_tokens"],
            output_tokens=c["output_tokens"],
            error=c["error"],
            token_source=c["token_source"],
            warmup=(flags & WARMUP) != 0,
            cooldown=(flags & COOLDOWN) != 0,
            token_gap_counts=c["gap_count"],
            token_gaps_ns=self.token_gaps,
            error_kinds=error_kinds,
            token_sources=sources,
        )


@dataclass(frozen=True)
class Mark:
    """Totals written to disk up to the end of one chunk."""

    rows: int
    gaps: int
    predictions: int
    details: int


NO_MARK = Mark(0, 0, 0, 0)
NO_GAPS: IntArray = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Chunk:
    """Buffered rows handed to the writer thread, which alone uses them from then on."""

    rows: bytearray
    count: int
    gaps: bytearray
    predictions: bytearray
    details: bytearray


_writer_pool: ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def writer() -> ThreadPoolExecutor:
    """One thread writes every recorder's chunks, in the order they were handed over."""
    global _writer_pool
    with _writer_lock:
        if _writer_pool is None:
            _writer_pool = ThreadPoolExecutor(1, thread_name_prefix="modelmeter-outcome-writer")
        return _writer_pool


# Spill folders are named SPILL_PREFIX + the owner's process id + a random part.
SPILL_PREFIX = "modelmeter-outcomes-"


def remove(directory: Path, pending: deque[Future[None]]) -> None:
    """Remove a recorder's files once the writer is done with them (write errors included)."""
    for written in list(pending):
        written.exception()
    shutil.rmtree(directory, ignore_errors=True)


def write_chunk(directory: Path, chunk: Chunk) -> None:
    matrix = np.frombuffer(chunk.rows, dtype=np.int64, count=chunk.count * WIDTH)
    matrix = matrix.reshape(-1, WIDTH)
    for i, (name, _) in enumerate(ROW_COLUMNS):
        column = np.ascontiguousarray(matrix[:, i], dtype=DTYPES[name])
        _append_file(directory / name, column.data.cast("B"))
    del matrix
    if chunk.gaps:
        _append_file(directory / "token_gaps", chunk.gaps)
    if chunk.predictions:
        _append_file(directory / "predictions", chunk.predictions)
    if chunk.details:
        _append_file(directory / "details", chunk.details)


def utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:  # lone surrogates (JSON allows them) survive the round trip
        return text.encode("utf-8", "surrogatepass")


def _append_file(path: Path, data: memoryview | bytes | bytearray) -> None:
    with path.open("ab") as file:
        file.write(data)


def read_file(path: Path, dtype: np.dtype[Any], offset: int, count: int) -> npt.NDArray[Any]:
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.fromfile(path, dtype=dtype, count=count, offset=offset * dtype.itemsize)


def map_file(path: Path, dtype: np.dtype[Any], count: int) -> npt.NDArray[Any]:
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(count,))


Tables = tuple[list[Any], list[Any], list[Any], list[Any]]


def block_outcomes(block: Block, tables: Tables, measured_only: bool) -> Iterator[Outcome]:
    """The ``Outcome`` objects of a block read back, their interned values looked up in
    ``tables`` (sample ids, targets, error kinds, token sources)."""
    c = block.columns
    samples, targets, errors, sources = tables
    gap_ends = np.cumsum(c["gap_count"], dtype=np.int64).tolist()
    gaps = block.token_gaps.tolist()
    prediction_lengths = c["prediction_length"].tolist()
    detail_lengths = c["detail_length"].tolist()
    prediction_ends = np.cumsum(np.maximum(c["prediction_length"], 0), dtype=np.int64).tolist()
    detail_ends = np.cumsum(np.maximum(c["detail_length"], 0), dtype=np.int64).tolist()
    nullable = {
        name: with_none(c[name])
        for name in (
            "first_byte_at",
            "first_token_at",
            "first_reasoning_at",
            "input_tokens",
            "output_tokens",
        )
    }
    flags = c["flags"].tolist()
    rows = zip(
        c["intended_at"].tolist(),
        c["sent_at"].tolist(),
        c["done_at"].tolist(),
        nullable["first_byte_at"],
        nullable["first_token_at"],
        nullable["first_reasoning_at"],
        nullable["input_tokens"],
        nullable["output_tokens"],
        c["error"].tolist(),
        c["token_source"].tolist(),
        c["sample"].tolist(),
        c["target"].tolist(),
        flags,
        gap_ends,
        prediction_lengths,
        prediction_ends,
        detail_lengths,
        detail_ends,
        strict=True,
    )
    gap_start = 0
    for (
        intended,
        sent,
        done,
        first_byte,
        first_token,
        first_reasoning,
        input_tokens,
        output_tokens,
        error,
        source,
        sample,
        target,
        flag,
        gap_end,
        prediction_length,
        prediction_end,
        detail_length,
        detail_end,
    ) in rows:
        gap_begin, gap_start = gap_start, gap_end
        if measured_only and flag:
            continue
        yield Outcome(
            sample_id=samples[sample],
            target=targets[target],
            intended_at=intended,
            sent_at=sent,
            done_at=done,
            prediction=None
            if prediction_length < 0
            else block.predictions[prediction_end - prediction_length : prediction_end].decode(
                "utf-8", "surrogatepass"
            ),
            error=errors[error],
            error_detail=None
            if detail_length < 0
            else block.details[detail_end - detail_length : detail_end].decode(
                "utf-8", "surrogatepass"
            ),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            token_source=sources[source],
            first_byte_at=first_byte,
            first_token_at=first_token,
            first_reasoning_at=first_reasoning,
            token_gaps_ns=tuple(gaps[gap_begin:gap_end]),
            warmup=bool(flag & WARMUP),
            cooldown=bool(flag & COOLDOWN),
        )


def remove_orphans(parent: Path | None) -> None:
    """Remove the spill folders of processes that are gone: a run killed with SIGKILL runs no
    finalizer, and its folder (tens of MB for a long load phase) would stay in the temporary
    directory for good. Folders are named after their process id; a live process's (this
    one's, or another run's) are left alone."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for folder in base.glob(f"{SPILL_PREFIX}*"):
            pid = folder.name.removeprefix(SPILL_PREFIX).split("-", 1)[0]
            if pid.isdigit() and not process_alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)
