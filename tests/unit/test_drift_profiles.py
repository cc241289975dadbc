"""Profiles: compact, mergeable, and compared to the same decisions as the rows they sum up;
windows of time cut at the right rows."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from modelmeter.drift import compare_tables
from modelmeter.drift.compare import column_kind
from modelmeter.drift.profile import Profile, profile_table
from modelmeter.drift.windows import compare_profiles, profile_windows, window_rows

WORDS = [f"w{k}" for k in range(300)]
LANGUAGES = (["en", "fr", "de"], ["en", "en", "fr", "de"])


def _table(n: int, rng: np.random.Generator, shift: float = 0.0) -> dict[str, list[object]]:
    py = random.Random(int(rng.integers(1 << 30)))
    return {
        "latency": list(rng.lognormal(3 + shift, 0.5, n)),
        "tokens": [int(v) for v in rng.poisson(20 + 10 * shift, n)],
        "score": list(rng.normal(shift, 1, n)),
        "language": [py.choice(LANGUAGES[bool(shift)]) for _ in range(n)],
        "prompt": [
            " ".join(py.choices(WORDS, k=py.randint(3, 12 + int(6 * shift)))) for _ in range(n)
        ],
    }


def _kinds(table: dict[str, list[object]]) -> dict[str, str]:
    return {name: column_kind(values) for name, values in table.items()}


def test_profiles_decide_as_the_rows_do() -> None:
    rng = np.random.default_rng(1)
    reference, same, shifted = _table(5000, rng), _table(4000, rng), _table(4000, rng, 0.3)
    kinds = _kinds(reference)
    assert kinds == {
        "latency": "numeric", "tokens": "numeric", "score": "numeric",
        "language": "categorical", "prompt": "text",
    }  # fmt: skip
    ref_profile = profile_table(reference, kinds)
    for current in (same, shifted):
        rows = compare_tables(reference, current)
        sketched = compare_profiles(ref_profile, profile_table(current, kinds))
        assert sketched.drifted == rows.drifted
        for exact, approx in zip(rows.columns, sketched.columns, strict=True):
            a, b = exact.drift, approx.drift
            assert a.column == b.column and a.test == b.test
            assert abs(a.statistic - b.statistic) < 0.02, (a, b)
            assert abs(a.distance - b.distance) < 0.02 + 0.05 * a.distance, (a, b)
            if a.psi is not None and b.psi is not None:
                assert abs(a.psi - b.psi) < 0.02 + 0.1 * a.psi, (a, b)
    assert sorted(compare_profiles(ref_profile, profile_table(shifted, kinds)).drifted) == sorted(
        kinds
    )


def test_profiles_merge_exactly_and_survive_json() -> None:
    rng = np.random.default_rng(2)
    a, b = _table(3000, rng), _table(2000, rng)
    kinds = _kinds(a)
    both = {name: a[name] + b[name] for name in a}
    merged = profile_table(a, kinds).merge(profile_table(b, kinds))
    whole = profile_table(both, kinds)
    assert merged.rows == whole.rows == 5000
    for name in kinds:
        left, right = merged.columns[name].to_json(), whole.columns[name].to_json()
        if name in ("latency", "score"):  # float sums: equal to rounding
            assert left.pop("sum") == pytest.approx(right.pop("sum"))
            assert left.pop("sum_squares") == pytest.approx(right.pop("sum_squares"))
        assert left == right, name
    text = json.dumps(whole.to_json())
    again = Profile.from_json(json.loads(text))
    assert again.to_json() == whole.to_json()
    assert len(text) < 100_000
    with pytest.raises(ValueError, match="not a modelmeter profile"):
        Profile.from_json({"rows": 3})


def test_windows_cut_at_midnight_utc_whatever_the_time_format() -> None:
    times = [
        "2026-12-01T23:59:59Z", 1796169600, "2026-12-02T10:00:00+00:00",
        1796169600_000, 1796256000_000_000_000, "2026-12-03T00:00:00",
    ]  # fmt: skip
    windows = window_rows(times, 86_400)
    assert [(start.date().isoformat(), rows) for start, rows in windows] == [
        ("2026-12-01", [0]),
        ("2026-12-02", [1, 2, 3]),
        ("2026-12-03", [4, 5]),
    ]
    with pytest.raises(ValueError, match="row 2: 'yesterday' is not a time"):
        window_rows(["2026-12-01T00:00:00Z", "yesterday"], 86_400, source="log.jsonl")
    table = {"at": times, "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    profiles = profile_windows(table, {"x": "numeric"}, window_rows(times, 86_400), 86_400)
    assert [p.rows for p in profiles] == [1, 3, 2]
    assert profiles[1].start == "2026-12-02T00:00:00+00:00"
    assert profiles[1].end == "2026-12-03T00:00:00+00:00"


def test_scattered_numbers_keep_a_small_profile() -> None:
    values = [10.0**k for k in range(-300, 301, 50)] + [-1e-200, 0.0, 5.0]
    profile = profile_table({"x": values}, {"x": "numeric"})
    text = json.dumps(profile.to_json())
    assert len(text) < 2_000  # bins far apart are written as pairs, not a run of zeros
    again = Profile.from_json(json.loads(text))
    assert again.columns["x"].to_json() == profile.columns["x"].to_json()
    values_back, counts = again.columns["x"].points()  # type: ignore[union-attr]
    assert counts.sum() == len(values)
    assert all(
        abs(v - w) <= 0.01 * abs(w) for v, w in zip(values_back, sorted(values), strict=True)
    )
