"""The log-linear latency histogram: bucket layout, stated precision, merge, exact moments."""

from __future__ import annotations

import numpy as np
import pytest

from modelmeter.load.histogram import (
    COUNTS_LENGTH,
    RELATIVE_ERROR,
    LatencyHistogram,
    bucket_bounds,
    bucket_index,
)

NS_PER_US = 1_000
NS_PER_HOUR = 3_600 * 10**9
INT64_MAX = 2**63 - 1
QS = [0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100]


def test_buckets_tile_the_whole_int64_range() -> None:
    slots = np.arange(COUNTS_LENGTH, dtype=np.int64)
    lowest, highest = bucket_bounds(slots)
    assert lowest[0] == 0 and highest[-1] == INT64_MAX
    # Contiguous, no gap and no overlap; every bound maps back to its own slot.
    assert np.array_equal(highest[:-1] + 1, lowest[1:])
    assert np.array_equal(bucket_index(lowest), slots)
    assert np.array_equal(bucket_index(highest), slots)
    # Below 2,048 ns one bucket per ns; above, never wider than 1/1,024 of the values held.
    assert (
        np.array_equal(lowest[:2048], np.arange(2048)) and (highest[:2048] == lowest[:2048]).all()
    )
    width = (highest - lowest + 1).astype(np.float64)
    assert (width[2048:] / lowest[2048:] <= 1 / 1024).all()


@pytest.mark.parametrize(
    "value",
    [
        *(0, 1, 999, 1_000, 2_047, 2_048, 2_049, 4_095, 4_096),
        *(NS_PER_US, NS_PER_HOUR, NS_PER_HOUR + 1),
        *(2**53 - 1, 2**53, 2**53 + 1, 2**62, INT64_MAX - 1, INT64_MAX),
    ],
)
def test_edge_values_land_in_their_bucket_and_read_back_within_the_precision(value: int) -> None:
    slot = bucket_index(np.array([value], dtype=np.int64))
    lowest, highest = bucket_bounds(slot)
    assert lowest[0] <= value <= highest[0]
    middle = (float(lowest[0]) + float(highest[0])) / 2
    assert abs(middle - value) <= RELATIVE_ERROR * max(value, 1)
    histogram = LatencyHistogram.of([value])
    # A single value: min, max and every percentile are that value, exactly.
    assert histogram.min == histogram.max == value
    assert histogram.percentiles([0, 50, 100]) == [float(value)] * 3
    assert histogram.count == 1 and histogram.total == value


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [1, 2, 7, 1_000, 200_003])
def test_percentiles_match_numpy_within_the_stated_precision(seed: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    # Lognormal around 2 ms with a long tail: from µs to seconds.
    values = rng.lognormal(np.log(2e6), 1.2, size).astype(np.int64)
    histogram = LatencyHistogram()
    for part in np.array_split(values, 5):
        histogram.record_many(part)
    exact = np.percentile(values, QS)
    got = np.array(histogram.percentiles(QS))
    assert np.all(np.abs(got - exact) <= RELATIVE_ERROR * exact + 1e-9)
    assert RELATIVE_ERROR <= 0.001  # what the report states: 3 significant digits, ≤ 0.1%
    assert histogram.percentile(0) == values.min() and histogram.percentile(100) == values.max()
    assert histogram.count == size
    assert histogram.total == int(values.sum())
    assert histogram.mean == pytest.approx(values.mean(), rel=1e-12)


def test_small_values_are_exact() -> None:
    values = np.array([0, 1, 1, 2, 5, 100, 2_047], dtype=np.int64)
    histogram = LatencyHistogram.of(values)
    assert histogram.percentiles(QS) == pytest.approx(np.percentile(values, QS))


def test_merge_equals_recording_the_union() -> None:
    rng = np.random.default_rng(7)
    a = rng.lognormal(14, 1, 5_000).astype(np.int64)
    b = rng.lognormal(16, 2, 3_000).astype(np.int64)
    merged = LatencyHistogram.of(a)
    merged.merge(LatencyHistogram.of(b))
    together = LatencyHistogram.of(np.concatenate([b, a]))
    assert merged == together
    assert merged.percentiles(QS) == together.percentiles(QS)
    assert (merged.count, merged.min, merged.max, merged.total) == (
        8_000,
        int(min(a.min(), b.min())),
        int(max(a.max(), b.max())),
        int(a.sum()) + int(b.sum()),
    )
    # Merging an empty histogram changes nothing; merging into an empty one copies.
    before = merged.copy()
    merged.merge(LatencyHistogram())
    assert merged == before
    empty = LatencyHistogram()
    empty.merge(before)
    assert empty == before


def test_mean_and_total_are_exact_where_int64_would_overflow() -> None:
    values = np.full(10, 2**62, dtype=np.int64)
    histogram = LatencyHistogram.of(values)
    assert histogram.total == 10 * 2**62
    assert histogram.mean == float(2**62)


def test_negative_values_count_as_zero_but_min_and_mean_stay_exact() -> None:
    histogram = LatencyHistogram.of([-500, 1_000, 3_000])
    assert histogram.min == -500 and histogram.max == 3_000
    assert histogram.mean == pytest.approx(3_500 / 3)
    assert histogram.percentile(0) == -500
    assert histogram.percentile(50) == 1_000


def test_floats_are_rounded_and_bad_input_refused() -> None:
    histogram = LatencyHistogram.of(np.array([1.4, 1.6, 2_000_000.5]))
    assert histogram.min == 1 and histogram.count == 3
    with pytest.raises(ValueError, match="finite"):
        LatencyHistogram.of([1.0, float("nan")])
    with pytest.raises(TypeError):
        LatencyHistogram.of(np.array(["a"]))
    with pytest.raises(ValueError, match="within 0 and 100"):
        histogram.percentiles([101])


def test_empty_histogram() -> None:
    histogram = LatencyHistogram()
    histogram.record_many(np.array([], dtype=np.int64))
    assert histogram.count == 0 and histogram.total == 0
    for read in (lambda: histogram.min, lambda: histogram.mean, lambda: histogram.percentile(50)):
        with pytest.raises(ValueError, match="empty"):
            read()
    lowest, highest, counts = histogram.to_buckets()
    assert lowest.size == highest.size == counts.size == 0
    assert repr(histogram) == "LatencyHistogram(count=0)"


def test_buckets_for_charts_and_storage() -> None:
    values = np.array([5, 5, 3_000, 3_001, 10**9], dtype=np.int64)
    histogram = LatencyHistogram.of(values)
    lowest, highest, counts = histogram.to_buckets()
    assert counts.sum() == values.size
    assert (np.diff(lowest) > 0).all() and (lowest <= highest).all()
    for value in values:
        assert ((lowest <= value) & (value <= highest)).any()
    middles, weights = histogram.weighted_values()
    assert weights.tolist() == counts.tolist()
    assert middles[0] == 5 and middles[-1] == 10**9  # clipped to exact min and max
    restored = LatencyHistogram.from_dict(histogram.to_dict())
    assert restored == histogram
    broken = histogram.to_dict() | {"count": 99}
    with pytest.raises(ValueError, match="add up"):
        LatencyHistogram.from_dict(broken)
