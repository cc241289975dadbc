"""The read side: recorded outcomes as numpy columns, and the distributions and totals
``measured_stats`` makes of them (exact values, or a histogram past the exact limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from modelmeter.load.histogram import PRECISION_LABEL, LatencyHistogram
from modelmeter.load.recorder.layout import EXACT, MISSING, BoolArray, FloatArray, IntArray

__all__ = ["Columns", "Distribution", "MeasuredStats", "Values", "concatenate", "with_none"]


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


class Values:
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


def with_none(values: npt.NDArray[np.int64]) -> list[int | None]:
    listed: list[int | None] = list(values.tolist())
    if bool((values == MISSING).any()):
        return [None if v == MISSING else v for v in listed]
    return listed


def concatenate(parts: list[Columns]) -> Columns:
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
