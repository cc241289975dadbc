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
  values when the measured requests number at most ``exact_limit`` (default 2,000,000), else a
  ``LatencyHistogram`` of 3 significant digits filled batch by batch; each says which.
* ``iter_columns()`` / ``columns()`` give numpy columns (``columns`` memory-maps the files when no
  row has to be left out), ``iter_outcomes()`` streams ``Outcome`` objects back (for the store).
* ``close()`` (or the ``with`` block, or garbage collection) removes the temporary files.

Memory ceiling. Recording: the buffer (128 bytes a row, 2 MiB at the default 16,384 rows), up to
4 MiB each of buffered token gaps, predictions and error details, at most five chunks in flight
to the writer, and the interning tables; measured, 12 million HTTP outcomes added 22 MiB over
the interpreter, against about 5 GiB as a list. Summarising: 8 bytes per value of each figure
kept exactly (response, service time, lag; for LLMs also TTFT, TPOT, time to first reasoning, and
ITL per token gap), plus sorted copies and the percentile intervals when a level ends: measured,
the end of an HTTP level peaks at about 360 MiB at the 2,000,000 limit (about 130 bytes per
exactly kept request); past the limit, 432 KiB per histogram plus one batch of rows (10 million
requests: 90 MiB in all). Disk: about 90 bytes a row,
plus 8 per token gap and the text kept.

``None`` in an integer field is stored as ``MISSING`` (the smallest int64), which therefore is
not a value an outcome can carry; integers must fit in int64. Sample ids and targets are
interned: their tables grow with the number of distinct values (a dataset's ids, already in
memory), not with the run. Predictions are needed only by the quality pass:
``keep_predictions=False`` drops them for load phases (they then read back as ``None``); error
details are always kept.

The package: ``layout`` (one outcome as a row), ``recorder`` (the hot write path and reading a
run back), ``spill`` (chunks to disk and blocks back), ``columns`` (the read side's columns and
distributions).
"""

from modelmeter.load.recorder.columns import Columns, Distribution, MeasuredStats
from modelmeter.load.recorder.layout import DEFAULT_CHUNK_ROWS, DEFAULT_EXACT_LIMIT, EXACT, MISSING
from modelmeter.load.recorder.recorder import OutcomeRecorder, measured_stats

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_EXACT_LIMIT",
    "EXACT",
    "MISSING",
    "Columns",
    "Distribution",
    "MeasuredStats",
    "OutcomeRecorder",
    "measured_stats",
]
