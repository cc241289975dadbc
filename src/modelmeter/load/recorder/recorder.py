"""``OutcomeRecorder``: the load engine's sink, its hot write path, and reading the run back."""

from __future__ import annotations

import os
import struct
import tempfile
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from modelmeter._exceptions import ErrorKind, ModelmeterError
from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder.columns import (
    Columns,
    MeasuredStats,
    Values,
    concatenate,
)
from modelmeter.load.recorder.layout import (
    CODE_LIMITS,
    DEFAULT_CHUNK_ROWS,
    DEFAULT_EXACT_LIMIT,
    DTYPES,
    FLAT_DTYPES,
    MAX_BUFFERED_GAP_BYTES,
    MAX_BUFFERED_TEXT,
    MAX_PENDING,
    MISSING,
    READ_GAPS,
    READ_ROWS,
    ROW_BYTES,
    ROW_COLUMNS,
    WIDTH,
    Interner,
    pack_row,
)
from modelmeter.load.recorder.spill import (
    NO_GAPS,
    NO_MARK,
    SPILL_PREFIX,
    Block,
    Chunk,
    Mark,
    Tables,
    block_outcomes,
    map_file,
    read_file,
    remove,
    remove_orphans,
    utf8,
    write_chunk,
    writer,
)

__all__ = ["OutcomeRecorder", "measured_stats"]


def error_key(kind: str, detail: str | None) -> str:
    """``kind``, or for an HTTP status failure ``http_status NNN`` read from its message."""
    if kind == ErrorKind.HTTP_STATUS and detail and detail.startswith("HTTP "):
        status = detail[5:8]
        if status.isdigit():
            return f"{kind} {status}"
    return str(kind)


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
        self._marks: list[Mark] = [NO_MARK]
        self._errors = Interner("error kind", CODE_LIMITS["error"])
        for kind in ErrorKind:
            self._errors.add(kind)
        self._sources = Interner("token source", CODE_LIMITS["token_source"])
        for source in ("usage", "tokenizer", "chunks"):
            self._sources.add(source)
        self._samples = Interner("sample id", CODE_LIMITS["sample"])
        self._targets = Interner("target", CODE_LIMITS["sample"])
        self._error_codes = self._errors.codes
        # Failed measured requests by kind and HTTP status, with the first message of each:
        # what a user needs to see why a target failed (kept apart from the hot path's columns).
        self.error_counts: dict[str, int] = {}
        self.error_samples: dict[str, str] = {}
        self._source_codes = self._sources.codes
        self._sample_codes = self._samples.codes
        self._target_codes = self._targets.codes
        self._gap_packers: dict[int, Callable[..., bytes]] = {}
        self._pending: deque[Future[None]] = deque()
        self._new_buffers()

    def _new_buffers(self) -> None:
        # Fresh objects rather than cleared ones: the writer thread owns the old ones.
        self._rows = bytearray(self.chunk_rows * ROW_BYTES)
        self._offset = 0
        self._end = len(self._rows)
        self._gaps = bytearray()
        self._predictions = bytearray()
        self._details = bytearray()

    @property
    def _buffered(self) -> int:
        return self._offset // ROW_BYTES

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
            if len(self._gaps) >= MAX_BUFFERED_GAP_BYTES:
                self._end = self._offset + ROW_BYTES
        prediction = o.prediction if self.keep_predictions else None
        if prediction is None:
            prediction_length = -1
        else:
            encoded = utf8(prediction)
            self._predictions += encoded
            prediction_length = len(encoded)
            if len(self._predictions) >= MAX_BUFFERED_TEXT:
                self._end = self._offset + ROW_BYTES
        detail = o.error_detail
        if detail is None:
            detail_length = -1
        else:
            encoded = utf8(detail)
            self._details += encoded
            detail_length = len(encoded)
            if len(self._details) >= MAX_BUFFERED_TEXT:
                self._end = self._offset + ROW_BYTES
        error = o.error
        if error is None:
            error_code = 0
        else:
            found = self._error_codes.get(error)
            error_code = self._errors.add(error) if found is None else found
            if not o.warmup and not o.cooldown:
                key = error_key(error, detail)
                self.error_counts[key] = self.error_counts.get(key, 0) + 1
                if key not in self.error_samples:
                    self.error_samples[key] = detail or ""
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
        pack_row(
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
        offset += ROW_BYTES
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
                remove_orphans(self._parent)
                prefix = f"{SPILL_PREFIX}{os.getpid()}-"
                made = tempfile.mkdtemp(prefix=prefix, dir=self._parent)
            except OSError as exc:
                where = self._parent or tempfile.gettempdir()
                raise ModelmeterError(f"cannot keep outcomes in {where}: {exc}") from exc
            self._dir = Path(made)
            self._finalizer = weakref.finalize(self, remove, self._dir, self._pending)
        return self._dir

    def _buffered_block(self) -> Block:
        """The buffer's rows as a block of copies (the buffer stays as it is)."""
        matrix = np.frombuffer(self._rows, dtype=np.int64, count=self._offset // 8)
        matrix = matrix.reshape(-1, WIDTH)
        columns = {
            name: np.ascontiguousarray(matrix[:, i], dtype=DTYPES[name])
            for i, (name, _) in enumerate(ROW_COLUMNS)
        }
        del matrix
        gaps = np.frombuffer(self._gaps, dtype=np.int64).copy()
        return Block(columns, gaps, bytes(self._predictions), bytes(self._details))

    def _spill(self) -> None:
        """Hand the buffered rows to the writer thread and start a new buffer.

        The event loop never waits on the disk: converting the rows to columns and appending
        them to the files happen on a background thread (``write`` lets go of the GIL), so a
        slow disk or the kernel's write-back throttling does not stall the requests in flight.
        Only when several chunks are queued (the disk cannot keep up) does an append wait.
        """
        rows = self._offset // ROW_BYTES
        if rows == 0:
            return
        directory = self._directory()
        chunk = Chunk(self._rows, rows, self._gaps, self._predictions, self._details)
        last = self._marks[-1]
        self._marks.append(
            Mark(
                last.rows + rows,
                last.gaps + len(self._gaps) // 8,
                last.predictions + len(self._predictions),
                last.details + len(self._details),
            )
        )
        self._pending.append(writer().submit(write_chunk, directory, chunk))
        self._new_buffers()
        while self._pending and (len(self._pending) > MAX_PENDING or self._pending[0].done()):
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
        self, start: Mark, stop: Mark, text: bool, only: tuple[str, ...] | None = None
    ) -> Block:
        assert self._dir is not None
        rows = stop.rows - start.rows
        columns = {
            name: read_file(self._dir / name, dtype, start.rows, rows)
            for name, dtype in DTYPES.items()
            if only is None or name in only
        }
        if only is not None:
            return Block(columns, NO_GAPS, b"", b"")
        gaps = read_file(
            self._dir / "token_gaps", FLAT_DTYPES["token_gaps"], start.gaps, stop.gaps - start.gaps
        )
        if not text:
            return Block(columns, gaps, b"", b"")
        predictions = read_file(
            self._dir / "predictions",
            FLAT_DTYPES["predictions"],
            start.predictions,
            stop.predictions - start.predictions,
        )
        details = read_file(
            self._dir / "details",
            FLAT_DTYPES["details"],
            start.details,
            stop.details - start.details,
        )
        return Block(columns, gaps, predictions.tobytes(), details.tobytes())

    def _blocks(self, *, text: bool, only: tuple[str, ...] | None = None) -> Iterator[Block]:
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
            if last or mark.rows - start.rows >= READ_ROWS or mark.gaps - start.gaps >= READ_GAPS:
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
            empty = Block({n: np.empty(0, dtype=d) for n, d in DTYPES.items()}, NO_GAPS, b"", b"")
            return empty.to_columns(*self._tables())
        return concatenate(parts)

    def _mapped_columns(self) -> Columns:
        assert self._dir is not None
        mark = self._marks[-1]
        columns = {
            name: map_file(self._dir / name, dtype, mark.rows) for name, dtype in DTYPES.items()
        }
        gaps = map_file(self._dir / "token_gaps", FLAT_DTYPES["token_gaps"], mark.gaps)
        return Block(columns, gaps, b"", b"").to_columns(*self._tables())

    def iter_outcomes(self, *, measured_only: bool = False) -> Iterator[Outcome]:
        """``Outcome`` objects again, a batch at a time (memory: one batch)."""
        for block in self._blocks(text=True):
            yield from block_outcomes(block, self._interned(), measured_only)

    def __iter__(self) -> Iterator[Outcome]:
        return self.iter_outcomes()

    def _interned(self) -> Tables:
        """The interned values rows refer to by code: sample ids, targets, errors, sources."""
        return (
            self._samples.values,
            self._targets.values,
            self._errors.values,
            self._sources.values,
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
        response, service, lag = Values(rows), Values(rows), Values(rows)
        ttft, reasoning = Values(rows), Values(rows)
        tpot, itl = Values(rows, np.float64), Values(gaps)
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


def measured_stats(
    outcomes: OutcomeRecorder | Iterable[Outcome], *, exact_limit: int | None = None
) -> MeasuredStats:
    """``MeasuredStats`` of a recorder, or of plain outcomes (recorded on the way)."""
    if isinstance(outcomes, OutcomeRecorder):
        return outcomes.measured_stats(exact_limit=exact_limit)
    with OutcomeRecorder(keep_predictions=False) as recorder:
        recorder.extend(outcomes)
        return recorder.measured_stats(exact_limit=exact_limit)
