"""Outcomes kept as columns and spilled to disk in chunks: memory that does not grow with a run.

An ``Outcome`` object costs several hundred bytes (about 450 for a plain HTTP answer, several KiB
with streamed token gaps); a 10-minute run at 20,000 requests/s makes 12 million of them.
``OutcomeRecorder`` takes the load engine's place of a list (it has ``append`` and ``__len__``,
and iterating it yields ``Outcome`` objects again) but keeps each outcome as one row of 16
integers in a preallocated buffer. Every ``chunk_rows`` rows (or sooner, when the buffered token
gaps or text pass 4 MiB) the buffer is handed to a background writer thread, which appends it to
one file per column in a temporary directory, and a fresh buffer takes its place.

On the hot path an append writes its row with one ``struct.pack_into`` call (strings are interned
or encoded to UTF-8, token gaps packed): about half a microsecond, nothing converted, sorted or
histogrammed. Handing a chunk over takes about 0.2 ms; the conversion to columns and the disk
writes happen on the writer thread (``write`` lets go of the GIL), so a slow disk does not stall
the requests in flight; only with more than four chunks queued does an append wait. Everything
else happens after the run, a batch of rows at a time:

* ``measured_stats()`` streams over the measured rows (warm-up and cool-down left out) and gives
  counts, the measured window, errors, token totals and the latency distributions: the exact
  values when the measured requests number at most ``exact_limit`` (default 5,000,000), else a
  ``LatencyHistogram`` of 3 significant digits filled batch by batch; each says which.
* ``iter_columns()`` / ``columns()`` give numpy columns (``columns`` memory-maps the files when no
  row has to be left out), ``iter_outcomes()`` streams ``Outcome`` objects back (for the store).
* ``close()`` (or the ``with`` block, or garbage collection) removes the temporary files.

Memory ceiling. Recording: the buffer (128 bytes a row, 2 MiB at the default 16,384 rows), up to
4 MiB each of buffered token gaps, predictions and error details, at most five chunks in flight
to the writer, and the interning tables; measured, 12 million HTTP outcomes added 22 MiB over
the interpreter, against about 5 GiB as a list. Summarising: 8 bytes per value of each figure
kept exactly (response, service time, lag; for LLMs also TTFT, TPOT, time to first reasoning, and
ITL per token gap), so up to 8 × ``exact_limit`` bytes per figure plus one sorted copy, and one
batch of rows: about 170 MiB at the 5,000,000 limit for a plain HTTP run, up to ~350 MiB for a
streamed one; past the limit 432 KiB per histogram plus one batch. Disk: about 90 bytes a row,
plus 8 per token gap and the text kept.

``None`` in an integer field is stored as ``MISSING`` (the smallest int64), which therefore is
not a value an outcome can carry; integers must fit in int64. Sample ids and targets are
interned: their tables grow with the number of distinct values (a dataset's ids, already in
memory), not with the run. Predictions are needed only by the quality pass:
``keep_predictions=False`` drops them for load phases (they then read back as ``None``); error
details are always kept.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from modelmeter._exceptions import ErrorKind, ModelmeterError
from modelmeter.load.histogram import PRECISION_LABEL, LatencyHistogram
from modelmeter.load.outcome import Outcome

MISSING = -(2**63)
"""Stands for ``None`` in the integer columns (timestamps, token counts)."""

DEFAULT_CHUNK_ROWS = 16_384
DEFAULT_EXACT_LIMIT = 5_000_000
EXACT = "exact"

# A chunk is also written early when its token gaps or text pass these sizes (4 MiB each).
_MAX_BUFFERED_GAP_BYTES = 4 << 20
_MAX_BUFFERED_TEXT = 4 << 20
# Chunks queued for the writer thread before an append waits for the disk.
_MAX_PENDING = 4
# Reading groups written chunks into batches of about this many rows or token gaps.
_READ_ROWS = 1 << 16
_READ_GAPS = 1 << 20

# One row of the buffer: the column names, in order, with their dtype on disk.
_ROW_COLUMNS: tuple[tuple[str, type[np.generic]], ...] = (
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
_WIDTH = len(_ROW_COLUMNS)
_ROW_BYTES = 8 * _WIDTH
# Native byte order and standard sizes: what numpy's int64 reads back.
_pack_row = struct.Struct(f"={_WIDTH}q").pack_into
_DTYPES: dict[str, np.dtype[Any]] = {name: np.dtype(kind) for name, kind in _ROW_COLUMNS}
# Flat columns: values of every row one after another; a row's share is given by a length column.
_FLAT_DTYPES: dict[str, np.dtype[Any]] = {
    "token_gaps": np.dtype(np.int64),
    "predictions": np.dtype(np.uint8),
    "details": np.dtype(np.uint8),
}
_WARMUP, _COOLDOWN = 1, 2
_CODE_LIMITS = {"error": 2**15 - 1, "token_source": 2**15 - 1, "sample": 2**31 - 1}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class _Interner:
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


@dataclass(frozen=True)
class Distribution:
    """Values of one latency figure (ns): the exact sample, or a histogram of 3 significant
    digits once the sample passed the recorder's exact limit. ``method`` says which."""

    values: npt.NDArray[np.int64] | npt.NDArray[np.float64] | None
    histogram: LatencyHistogram | None = None

    @property
    def method(self) -> str:
        return EXACT if self.histogram is None else PRECISION_LABEL

    @property
    def count(self) -> int:
        if self.histogram is not None:
            return self.histogram.count
        return 0 if self.values is None else int(self.values.size)

    def __len__(self) -> int:
        return self.count

    def _exact(self) -> npt.NDArray[np.int64] | npt.NDArray[np.float64]:
        if self.values is None or self.values.size == 0:
            raise ValueError("no values")
        return self.values

    @property
    def mean(self) -> float:
        if self.histogram is not None:
            return self.histogram.mean
        return float(np.mean(self._exact(), dtype=np.float64))

    @property
    def min(self) -> float:
        if self.histogram is not None:
            return float(self.histogram.min)
        return float(self._exact().min())

    @property
    def max(self) -> float:
        if self.histogram is not None:
            return float(self.histogram.max)
        return float(self._exact().max())

    def percentiles(self, qs: Sequence[float]) -> list[float]:
        """Linear interpolation between order statistics, as ``numpy.percentile``; from a
        histogram each order statistic is read to within 0.05%."""
        if self.histogram is not None:
            return self.histogram.percentiles(qs)
        return [float(v) for v in np.percentile(self._exact(), list(qs))]

    def weighted(self) -> tuple[FloatArray, IntArray | None]:
        """(values, counts) for charts: the exact values with no counts, or each histogram
        bucket's middle with its count."""
        if self.histogram is not None:
            return self.histogram.weighted_values()
        if self.values is None:
            return np.empty(0, dtype=np.float64), None
        return self.values.astype(np.float64), None


@dataclass(frozen=True)
class MeasuredStats:
    """What a phase summary needs, over the measured rows (warm-up and cool-down left out).

    Latency distributions are over successful requests, except ``lag_ns`` (every measured
    request). ``window_*`` span the first measured intended send to the last measured answer.
    Token totals are over successful requests; ``input_tokens``/``output_tokens`` are None when
    any successful request lacks the count (for cost), ``output_tokens_sum`` counts a missing
    one as 0 (for output tokens/s).
    """

    requests: int
    completed: int
    errors: dict[str, int]
    window_start_ns: int | None
    window_end_ns: int | None
    response_ns: Distribution
    service_ns: Distribution
    lag_ns: Distribution
    ttft_ns: Distribution
    reasoning_ns: Distribution
    itl_ns: Distribution
    tpot_ns: Distribution
    output_tokens_sum: int
    input_tokens: int | None
    output_tokens: int | None
    token_source: dict[str, int]
    streamed: bool

    @property
    def duration_s(self) -> float:
        if self.window_start_ns is None or self.window_end_ns is None:
            return 0.0
        return (self.window_end_ns - self.window_start_ns) / 1e9


@dataclass(frozen=True)
class Columns:
    """Rows as numpy columns. Integer fields hold ``MISSING`` where the outcome had ``None``;
    ``error`` and ``token_source`` are codes into ``error_kinds`` / ``token_sources`` (code 0 is
    ``None``). ``token_gaps_ns`` holds the rows' gaps one after another, ``token_gap_counts``
    how many belong to each row."""

    intended_at: IntArray
    sent_at: IntArray
    done_at: IntArray
    first_byte_at: IntArray
    first_token_at: IntArray
    first_reasoning_at: IntArray
    input_tokens: IntArray
    output_tokens: IntArray
    error: npt.NDArray[np.int16]
    token_source: npt.NDArray[np.int16]
    warmup: BoolArray
    cooldown: BoolArray
    token_gap_counts: npt.NDArray[np.int32]
    token_gaps_ns: IntArray
    error_kinds: tuple[Any, ...]
    token_sources: tuple[Any, ...]

    def __len__(self) -> int:
        return int(self.intended_at.size)

    @property
    def ok(self) -> BoolArray:
        succeeded: BoolArray = self.error == 0
        return succeeded

    @property
    def measured(self) -> BoolArray:
        return ~(self.warmup | self.cooldown)

    @property
    def response_ns(self) -> IntArray:
        return self.done_at - self.intended_at

    @property
    def service_ns(self) -> IntArray:
        return self.done_at - self.sent_at

    @property
    def lag_ns(self) -> IntArray:
        return self.sent_at - self.intended_at

    @property
    def ttft_ns(self) -> FloatArray:
        """Per row, NaN where no output token arrived."""
        return _minus_or_nan(self.first_token_at, self.sent_at)

    @property
    def reasoning_ns(self) -> FloatArray:
        """Per row, time to the first reasoning chunk; NaN where there was none."""
        return _minus_or_nan(self.first_reasoning_at, self.sent_at)

    @property
    def tpot_ns(self) -> FloatArray:
        """Per row, (done − first token) / (output tokens − 1); NaN where undefined."""
        defined = (
            (self.first_token_at != MISSING)
            & (self.output_tokens != MISSING)
            & (self.output_tokens >= 2)
        )
        result = np.full(self.first_token_at.shape, np.nan)
        result[defined] = (self.done_at[defined] - self.first_token_at[defined]) / (
            self.output_tokens[defined] - 1
        )
        return result

    def error_counts(self, rows: BoolArray | None = None) -> dict[str, int]:
        """Failed rows (of ``rows``, default all) by error kind."""
        codes = self.error if rows is None else self.error[rows]
        found = np.bincount(codes[codes != 0].astype(np.int64), minlength=1)
        return {str(self.error_kinds[c]): int(n) for c, n in enumerate(found) if c and n}

    def select(self, rows: BoolArray) -> Columns:
        """The rows where ``rows`` is true (token gaps follow their rows)."""
        return Columns(
            intended_at=self.intended_at[rows],
            sent_at=self.sent_at[rows],
            done_at=self.done_at[rows],
            first_byte_at=self.first_byte_at[rows],
            first_token_at=self.first_token_at[rows],
            first_reasoning_at=self.first_reasoning_at[rows],
            input_tokens=self.input_tokens[rows],
            output_tokens=self.output_tokens[rows],
            error=self.error[rows],
            token_source=self.token_source[rows],
            warmup=self.warmup[rows],
            cooldown=self.cooldown[rows],
            token_gap_counts=self.token_gap_counts[rows],
            token_gaps_ns=self.token_gaps_ns[np.repeat(rows, self.token_gap_counts)],
            error_kinds=self.error_kinds,
            token_sources=self.token_sources,
        )


def _minus_or_nan(at: IntArray, since: IntArray) -> FloatArray:
    result = (at - since).astype(np.float64)
    result[at == MISSING] = np.nan
    return result


@dataclass
class _Block:
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
            warmup=(flags & _WARMUP) != 0,
            cooldown=(flags & _COOLDOWN) != 0,
            token_gap_counts=c["gap_count"],
            token_gaps_ns=self.token_gaps,
            error_kinds=error_kinds,
            token_sources=sources,
        )


@dataclass(frozen=True)
class _Mark:
    """Totals written to disk up to the end of one chunk."""

    rows: int
    gaps: int
    predictions: int
    details: int


_NO_MARK = _Mark(0, 0, 0, 0)
_NO_GAPS: IntArray = np.empty(0, dtype=np.int64)


class OutcomeRecorder:
    """A list-like sink for the load engine that keeps outcomes as columns, mostly on disk.

    ``append(outcome)`` costs about half a microsecond and keeps no reference to the outcome.
    ``len()`` counts every row; iterating yields ``Outcome`` objects again, equal to those
    appended (predictions ``None`` unless kept). ``exact_limit``: with more measured requests
    than this, latency figures are summarised from histograms (3 significant digits) instead of
    the full sample. ``directory``: where the temporary directory goes (the system's default if
    None); nothing is written there until the first chunk fills.
    """

    def __init__(
        self,
        *,
        keep_predictions: bool = True,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        directory: str | os.PathLike[str] | None = None,
    ) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        if exact_limit < 0:
            raise ValueError(f"exact_limit must not be negative, got {exact_limit}")
        self.keep_predictions = keep_predictions
        self.chunk_rows = chunk_rows
        self.exact_limit = exact_limit
        self._parent = None if directory is None else Path(directory)
        self._dir: Path | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._closed = False
        self._marks: list[_Mark] = [_NO_MARK]
        self._errors = _Interner("error kind", _CODE_LIMITS["error"])
        for kind in ErrorKind:
            self._errors.add(kind)
        self._sources = _Interner("token source", _CODE_LIMITS["token_source"])
        for source in ("usage", "tokenizer", "chunks"):
            self._sources.add(source)
        self._samples = _Interner("sample id", _CODE_LIMITS["sample"])
        self._targets = _Interner("target", _CODE_LIMITS["sample"])
        self._error_codes = self._errors.codes
        self._source_codes = self._sources.codes
        self._sample_codes = self._samples.codes
        self._target_codes = self._targets.codes
        self._gap_packers: dict[int, Callable[..., bytes]] = {}
        self._pending: deque[Future[None]] = deque()
        self._new_buffers()

    def _new_buffers(self) -> None:
        # Fresh objects rather than cleared ones: the writer thread owns the old ones.
        self._rows = bytearray(self.chunk_rows * _ROW_BYTES)
        self._offset = 0
        self._end = len(self._rows)
        self._gaps = bytearray()
        self._predictions = bytearray()
        self._details = bytearray()

    @property
    def _buffered(self) -> int:
        return self._offset // _ROW_BYTES

    def _gap_packer(self, count: int) -> Callable[..., bytes]:
        packer = self._gap_packers[count] = struct.Struct(f"={count}q").pack
        return packer

    # -- the hot path -----------------------------------------------------------------------

    def append(self, outcome: Outcome) -> None:
        """Record one outcome (the engine calls this once per request)."""
        o = outcome
        if self._closed:
            raise ValueError("the recorder is closed")
        gaps = o.token_gaps_ns
        if gaps:
            packer = self._gap_packers.get(len(gaps))
            self._gaps += (packer or self._gap_packer(len(gaps)))(*gaps)
            if len(self._gaps) >= _MAX_BUFFERED_GAP_BYTES:
                self._end = self._offset + _ROW_BYTES
        prediction = o.prediction if self.keep_predictions else None
        if prediction is None:
            prediction_length = -1
        else:
            encoded = _utf8(prediction)
            self._predictions += encoded
            prediction_length = len(encoded)
            if len(self._predictions) >= _MAX_BUFFERED_TEXT:
                self._end = self._offset + _ROW_BYTES
        detail = o.error_detail
        if detail is None:
            detail_length = -1
        else:
            encoded = _utf8(detail)
            self._details += encoded
            detail_length = len(encoded)
            if len(self._details) >= _MAX_BUFFERED_TEXT:
                self._end = self._offset + _ROW_BYTES
        error = o.error
        if error is None:
            error_code = 0
        else:
            found = self._error_codes.get(error)
            error_code = self._errors.add(error) if found is None else found
        source = o.token_source
        if source is None:
            source_code = 0
        else:
            found = self._source_codes.get(source)
            source_code = self._sources.add(source) if found is None else found
        sample_code = self._sample_codes.get(o.sample_id)
        if sample_code is None:
            sample_code = self._samples.add(o.sample_id)
        target_code = self._target_codes.get(o.target)
        if target_code is None:
            target_code = self._targets.add(o.target)
        first_byte = o.first_byte_at
        first_token = o.first_token_at
        first_reasoning = o.first_reasoning_at
        input_tokens = o.input_tokens
        output_tokens = o.output_tokens
        offset = self._offset
        _pack_row(
            self._rows,
            offset,
            o.intended_at,
            o.sent_at,
            o.done_at,
            -9223372036854775808 if first_byte is None else first_byte,
            -9223372036854775808 if first_token is None else first_token,
            -9223372036854775808 if first_reasoning is None else first_reasoning,
            -9223372036854775808 if input_tokens is None else input_tokens,
            -9223372036854775808 if output_tokens is None else output_tokens,
            len(gaps),
            prediction_length,
            detail_length,
            error_code,
            source_code,
            (1 if o.warmup else 0) + (2 if o.cooldown else 0),
            sample_code,
            target_code,
        )
        offset += _ROW_BYTES
        self._offset = offset
        if offset >= self._end:
            self._spill()

    def extend(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            self.append(outcome)

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[Outcome], **options: Any) -> OutcomeRecorder:
        recorder = cls(**options)
        recorder.extend(outcomes)
        return recorder

    # -- writing chunks ---------------------------------------------------------------------

    def _directory(self) -> Path:
        if self._dir is None:
            try:
                if self._parent is not None:
                    self._parent.mkdir(parents=True, exist_ok=True)
                made = tempfile.mkdtemp(prefix="modelmeter-outcomes-", dir=self._parent)
            except OSError as exc:
                where = self._parent or tempfile.gettempdir()
                raise ModelmeterError(f"cannot keep outcomes in {where}: {exc}") from exc
            self._dir = Path(made)
            self._finalizer = weakref.finalize(self, _remove, self._dir, self._pending)
        return self._dir

    def _buffered_block(self) -> _Block:
        """The buffer's rows as a block of copies (the buffer stays as it is)."""
        matrix = np.frombuffer(self._rows, dtype=np.int64, count=self._offset // 8)
        matrix = matrix.reshape(-1, _WIDTH)
        columns = {
            name: np.ascontiguousarray(matrix[:, i], dtype=_DTYPES[name])
            for i, (name, _) in enumerate(_ROW_COLUMNS)
        }
        del matrix
        gaps = np.frombuffer(self._gaps, dtype=np.int64).copy()
        return _Block(columns, gaps, bytes(self._predictions), bytes(self._details))

    def _spill(self) -> None:
        """Hand the buffered rows to the writer thread and start a new buffer.

        The event loop never waits on the disk: converting the rows to columns and appending
        them to the files happen on a background thread (``write`` lets go of the GIL), so a
        slow disk or the kernel's write-back throttling does not stall the requests in flight.
        Only when several chunks are queued (the disk cannot keep up) does an append wait.
        """
        rows = self._offset // _ROW_BYTES
        if rows == 0:
            return
        directory = self._directory()
        chunk = _Chunk(self._rows, rows, self._gaps, self._predictions, self._details)
        last = self._marks[-1]
        self._marks.append(
            _Mark(
                last.rows + rows,
                last.gaps + len(self._gaps) // 8,
                last.predictions + len(self._predictions),
                last.details + len(self._details),
            )
        )
        self._pending.append(_writer().submit(_write_chunk, directory, chunk))
        self._new_buffers()
        while self._pending and (len(self._pending) > _MAX_PENDING or self._pending[0].done()):
            self._finish(self._pending.popleft())

    def flush(self) -> None:
        """Write the buffered rows too, and wait until everything is on disk."""
        if self._closed:
            raise ValueError("the recorder is closed")
        self._spill()
        self._drain()

    def _finish(self, written: Future[None]) -> None:
        try:
            written.result()
        except OSError as exc:
            raise ModelmeterError(f"cannot write outcomes to {self._dir}: {exc}") from exc

    def _drain(self) -> None:
        """Wait until every chunk handed to the writer is on disk."""
        while self._pending:
            self._finish(self._pending.popleft())

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._marks[-1].rows + self._buffered

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the recorder is closed")
        self._drain()

    @property
    def spilled_rows(self) -> int:
        """Rows handed to disk so far (written, or queued for the writer thread)."""
        return self._marks[-1].rows

    @property
    def directory(self) -> Path | None:
        """The temporary directory, once a chunk has been written."""
        return self._dir

    def _read_block(
        self, start: _Mark, stop: _Mark, text: bool, only: tuple[str, ...] | None = None
    ) -> _Block:
        assert self._dir is not None
        rows = stop.rows - start.rows
        columns = {
            name: _read_file(self._dir / name, dtype, start.rows, rows)
            for name, dtype in _DTYPES.items()
            if only is None or name in only
        }
        if only is not None:
            return _Block(columns, _NO_GAPS, b"", b"")
        gaps = _read_file(
            self._dir / "token_gaps", _FLAT_DTYPES["token_gaps"], start.gaps, stop.gaps - start.gaps
        )
        if not text:
            return _Block(columns, gaps, b"", b"")
        predictions = _read_file(
            self._dir / "predictions",
            _FLAT_DTYPES["predictions"],
            start.predictions,
            stop.predictions - start.predictions,
        )
        details = _read_file(
            self._dir / "details",
            _FLAT_DTYPES["details"],
            start.details,
            stop.details - start.details,
        )
        return _Block(columns, gaps, predictions.tobytes(), details.tobytes())

    def _blocks(self, *, text: bool, only: tuple[str, ...] | None = None) -> Iterator[_Block]:
        """Every row, in batches: written chunks grouped, then the buffer (as it was when the
        iteration began; rows appended meanwhile are not included). ``only``: just these row
        columns (no token gaps, no text) from disk."""
        self._check_open()
        marks = list(self._marks)
        tail = self._buffered_block() if self._buffered else None
        start = marks[0]
        for index in range(1, len(marks)):
            mark = marks[index]
            last = index == len(marks) - 1
            if last or mark.rows - start.rows >= _READ_ROWS or mark.gaps - start.gaps >= _READ_GAPS:
                yield self._read_block(start, mark, text, only)
                start = mark
        if tail is not None:
            yield tail

    def _tables(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return tuple(self._errors.values), tuple(self._sources.values)

    def iter_columns(self, *, measured_only: bool = False) -> Iterator[Columns]:
        """The rows as numpy columns, a batch of whole chunks (about 65,536 rows) at a time."""
        errors, sources = self._tables()
        for block in self._blocks(text=False):
            columns = block.to_columns(errors, sources)
            if measured_only:
                columns = columns.select(columns.measured)
            if len(columns):
                yield columns

    def columns(self, *, measured_only: bool = False) -> Columns:
        """All the rows (or the measured ones) as numpy columns in one piece. Memory-mapped from
        the column files when every row is on disk and none is left out; otherwise a copy in
        memory (mind the size: about 100 bytes a row, plus 8 per token gap)."""
        self._check_open()
        if self._buffered == 0 and self._dir is not None and len(self) > 0:
            mapped = self._mapped_columns()
            if not measured_only or bool(mapped.measured.all()):
                return mapped
        parts = list(self.iter_columns(measured_only=measured_only))
        if not parts:
            empty = _Block(
                {n: np.empty(0, dtype=d) for n, d in _DTYPES.items()}, _NO_GAPS, b"", b""
            )
            return empty.to_columns(*self._tables())
        return _concatenate(parts)

    def _mapped_columns(self) -> Columns:
        assert self._dir is not None
        mark = self._marks[-1]
        columns = {
            name: _map_file(self._dir / name, dtype, mark.rows) for name, dtype in _DTYPES.items()
        }
        gaps = _map_file(self._dir / "token_gaps", _FLAT_DTYPES["token_gaps"], mark.gaps)
        return _Block(columns, gaps, b"", b"").to_columns(*self._tables())

    def iter_outcomes(self, *, measured_only: bool = False) -> Iterator[Outcome]:
        """``Outcome`` objects again, a batch at a time (memory: one batch)."""
        for block in self._blocks(text=True):
            yield from self._block_outcomes(block, measured_only)

    def __iter__(self) -> Iterator[Outcome]:
        return self.iter_outcomes()

    def _block_outcomes(self, block: _Block, measured_only: bool) -> Iterator[Outcome]:
        c = block.columns
        samples, targets = self._samples.values, self._targets.values
        errors, sources = self._errors.values, self._sources.values
        gap_ends = np.cumsum(c["gap_count"], dtype=np.int64).tolist()
        gaps = block.token_gaps.tolist()
        prediction_lengths = c["prediction_length"].tolist()
        detail_lengths = c["detail_length"].tolist()
        prediction_ends = np.cumsum(np.maximum(c["prediction_length"], 0), dtype=np.int64).tolist()
        detail_ends = np.cumsum(np.maximum(c["detail_length"], 0), dtype=np.int64).tolist()
        nullable = {
            name: _with_none(c[name])
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
                warmup=bool(flag & _WARMUP),
                cooldown=bool(flag & _COOLDOWN),
            )

    # -- summaries ---------------------------------------------------------------------------

    def measured_stats(self, *, exact_limit: int | None = None) -> MeasuredStats:
        """Counts, window, errors, tokens and latency distributions of the measured rows,
        streamed a batch at a time. The distributions are the exact values when the measured
        requests number at most ``exact_limit`` (default: the recorder's; for ITL, the token
        gaps of the successful ones), else histograms of 3 significant digits."""
        limit = self.exact_limit if exact_limit is None else exact_limit
        # A first, light pass decides: exact while the measured requests (for ITL, their token
        # gaps) number at most the limit, else histograms from the start, so a long run's
        # summary never holds more than one batch of raw values.
        measured_rows = measured_gaps = 0
        for block in self._blocks(text=False, only=("flags", "error", "gap_count")):
            measured = block.columns["flags"] == 0
            measured_rows += int(np.count_nonzero(measured))
            ok = measured & (block.columns["error"] == 0)
            measured_gaps += int(block.columns["gap_count"][ok].sum(dtype=np.int64))
        rows = measured_rows if measured_rows <= limit else None
        gaps = measured_gaps if measured_gaps <= limit else None
        response, service, lag = _Values(rows), _Values(rows), _Values(rows)
        ttft, reasoning = _Values(rows), _Values(rows)
        tpot, itl = _Values(rows, np.float64), _Values(gaps)
        requests = completed = output_sum = 0
        input_total: int | None = 0
        output_total: int | None = 0
        error_codes = np.zeros(len(self._errors.values), dtype=np.int64)
        source_codes = np.zeros(len(self._sources.values), dtype=np.int64)
        start: int | None = None
        end: int | None = None
        streamed = False
        for block in self._blocks(text=False):
            c = block.columns
            measured = c["flags"] == 0
            count = int(np.count_nonzero(measured))
            if count == 0:
                continue
            requests += count
            intended, sent, done, error = c["intended_at"], c["sent_at"], c["done_at"], c["error"]
            first, last = int(intended[measured].min()), int(done[measured].max())
            start = first if start is None else min(start, first)
            end = last if end is None else max(end, last)
            error_codes += np.bincount(error[measured], minlength=error_codes.size)
            lag.add(sent[measured] - intended[measured])
            ok = measured & (error == 0)
            succeeded = int(np.count_nonzero(ok))
            if succeeded == 0:
                continue
            completed += succeeded
            response.add(done[ok] - intended[ok])
            service.add(done[ok] - sent[ok])
            first_token, first_reasoning = c["first_token_at"], c["first_reasoning_at"]
            has_token = ok & (first_token != MISSING)
            ttft.add(first_token[has_token] - sent[has_token])
            has_reasoning = ok & (first_reasoning != MISSING)
            reasoning.add(first_reasoning[has_reasoning] - sent[has_reasoning])
            if block.token_gaps.size:
                itl.add(block.token_gaps[np.repeat(ok, c["gap_count"])])
            outputs, inputs = c["output_tokens"][ok], c["input_tokens"][ok]
            per_token = has_token & (c["output_tokens"] != MISSING) & (c["output_tokens"] >= 2)
            tpot.add(
                (done[per_token] - first_token[per_token])
                / (c["output_tokens"][per_token] - 1).astype(np.float64)
            )
            sources = c["token_source"][ok]
            source_codes += np.bincount(sources, minlength=source_codes.size)
            streamed = streamed or bool(has_token.any()) or bool(sources.any())
            counted = outputs != MISSING
            output_sum += int(outputs[counted].sum())
            if input_total is not None:
                input_total = (
                    None if bool((inputs == MISSING).any()) else input_total + int(inputs.sum())
                )
            if output_total is not None:
                output_total = (
                    None if not bool(counted.all()) else output_total + int(outputs.sum())
                )
        error_names = self._errors.values
        errors = {str(error_names[i]): int(n) for i, n in enumerate(error_codes) if i and n}
        source_names = self._sources.values
        return MeasuredStats(
            requests=requests,
            completed=completed,
            errors=errors,
            window_start_ns=start,
            window_end_ns=end,
            response_ns=response.result(),
            service_ns=service.result(),
            lag_ns=lag.result(),
            ttft_ns=ttft.result(),
            reasoning_ns=reasoning.result(),
            itl_ns=itl.result(),
            tpot_ns=tpot.result(),
            output_tokens_sum=output_sum,
            input_tokens=input_total if completed else None,
            output_tokens=output_total if completed else None,
            token_source={
                str(source_names[i]): int(n) for i, n in enumerate(source_codes) if i and n
            },
            streamed=streamed,
        )

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the temporary files; the recorder cannot be used afterwards."""
        self._closed = True
        self._rows, self._offset = bytearray(), 0
        self._gaps, self._predictions, self._details = bytearray(), bytearray(), bytearray()
        if self._finalizer is not None:
            self._finalizer()
        self._pending.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> OutcomeRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"OutcomeRecorder(rows={len(self)}, spilled={self.spilled_rows}, "
            f"keep_predictions={self.keep_predictions})"
        )


class _Values:
    """Values of one figure: into an array sized up front (``capacity`` values at most), or, with
    no capacity, counted into a histogram."""

    __slots__ = ("filled", "histogram", "values")

    def __init__(self, capacity: int | None, dtype: type[np.generic] = np.int64) -> None:
        # np.empty maps memory lazily: pages are resident once written, not before.
        self.values = None if capacity is None else np.empty(capacity, dtype=dtype)
        self.filled = 0
        self.histogram = LatencyHistogram() if capacity is None else None

    def add(self, values: npt.NDArray[Any]) -> None:
        if values.size == 0:
            return
        if self.values is None:
            assert self.histogram is not None
            self.histogram.record_many(values)
            return
        self.values[self.filled : self.filled + values.size] = values
        self.filled += int(values.size)

    def result(self) -> Distribution:
        if self.values is None:
            return Distribution(values=None, histogram=self.histogram)
        kept = self.values[: self.filled]
        # A figure most rows lack (TTFT of a non-streaming run) must not hold the whole array.
        return Distribution(values=kept.copy() if 2 * self.filled < self.values.size else kept)


def measured_stats(
    outcomes: OutcomeRecorder | Iterable[Outcome], *, exact_limit: int | None = None
) -> MeasuredStats:
    """``MeasuredStats`` of a recorder, or of plain outcomes (recorded on the way)."""
    if isinstance(outcomes, OutcomeRecorder):
        return outcomes.measured_stats(exact_limit=exact_limit)
    with OutcomeRecorder(keep_predictions=False) as recorder:
        recorder.extend(outcomes)
        return recorder.measured_stats(exact_limit=exact_limit)


@dataclass(frozen=True)
class _Chunk:
    """Buffered rows handed to the writer thread, which alone uses them from then on."""

    rows: bytearray
    count: int
    gaps: bytearray
    predictions: bytearray
    details: bytearray


_writer_pool: ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def _writer() -> ThreadPoolExecutor:
    """One thread writes every recorder's chunks, in the order they were handed over."""
    global _writer_pool
    with _writer_lock:
        if _writer_pool is None:
            _writer_pool = ThreadPoolExecutor(1, thread_name_prefix="modelmeter-outcome-writer")
        return _writer_pool


def _remove(directory: Path, pending: deque[Future[None]]) -> None:
    """Remove a recorder's files once the writer is done with them (write errors included)."""
    for written in list(pending):
        written.exception()
    shutil.rmtree(directory, ignore_errors=True)


def _write_chunk(directory: Path, chunk: _Chunk) -> None:
    matrix = np.frombuffer(chunk.rows, dtype=np.int64, count=chunk.count * _WIDTH)
    matrix = matrix.reshape(-1, _WIDTH)
    for i, (name, _) in enumerate(_ROW_COLUMNS):
        column = np.ascontiguousarray(matrix[:, i], dtype=_DTYPES[name])
        _append_file(directory / name, column.data.cast("B"))
    del matrix
    if chunk.gaps:
        _append_file(directory / "token_gaps", chunk.gaps)
    if chunk.predictions:
        _append_file(directory / "predictions", chunk.predictions)
    if chunk.details:
        _append_file(directory / "details", chunk.details)


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:  # lone surrogates (JSON allows them) survive the round trip
        return text.encode("utf-8", "surrogatepass")


def _append_file(path: Path, data: memoryview | bytes | bytearray) -> None:
    with path.open("ab") as file:
        file.write(data)


def _read_file(path: Path, dtype: np.dtype[Any], offset: int, count: int) -> npt.NDArray[Any]:
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.fromfile(path, dtype=dtype, count=count, offset=offset * dtype.itemsize)


def _map_file(path: Path, dtype: np.dtype[Any], count: int) -> npt.NDArray[Any]:
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(count,))


def _with_none(values: npt.NDArray[np.int64]) -> list[int | None]:
    listed: list[int | None] = list(values.tolist())
    if bool((values == MISSING).any()):
        return [None if v == MISSING else v for v in listed]
    return listed


def _concatenate(parts: list[Columns]) -> Columns:
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return Columns(
        intended_at=np.concatenate([p.intended_at for p in parts]),
        sent_at=np.concatenate([p.sent_at for p in parts]),
        done_at=np.concatenate([p.done_at for p in parts]),
        first_byte_at=np.concatenate([p.first_byte_at for p in parts]),
        first_token_at=np.concatenate([p.first_token_at for p in parts]),
        first_reasoning_at=np.concatenate([p.first_reasoning_at for p in parts]),
        input_tokens=np.concatenate([p.input_tokens for p in parts]),
        output_tokens=np.concatenate([p.output_tokens for p in parts]),
        error=np.concatenate([p.error for p in parts]),
        token_source=np.concatenate([p.token_source for p in parts]),
        warmup=np.concatenate([p.warmup for p in parts]),
        cooldown=np.concatenate([p.cooldown for p in parts]),
        token_gap_counts=np.concatenate([p.token_gap_counts for p in parts]),
        token_gaps_ns=np.concatenate([p.token_gaps_ns for p in parts]),
        error_kinds=first.error_kinds,
        token_sources=first.token_sources,
    )
