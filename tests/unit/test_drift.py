"""Drift between two tables: the tests' false alarms and power, by simulation; Holm against
statsmodels; each kind of column; Evidently's rule."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from modelmeter.drift import column_kind, compare_tables, holm


def test_holm_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        p = rng.uniform(0, 0.2, size=12).tolist()
        assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def _table(rng: np.random.Generator, n: int, columns: int, shift: float = 0.0) -> dict[str, list]:
    table = {f"x{i}": rng.normal(size=n).tolist() for i in range(columns)}
    table["x0"] = (np.array(table["x0"]) + shift).tolist()
    return table


def test_under_no_drift_the_family_raises_a_false_alarm_at_most_alpha_of_the_time() -> None:
    """300 pairs of same-distribution tables, 25 numeric columns, 1,000 rows each: the share
    with any column flagged stays at 5% (9% is over three binomial standard deviations above);
    uncorrected, it would be about 72%."""
    rng = np.random.default_rng(11)
    any_flagged = uncorrected = 0
    for _ in range(300):
        report = compare_tables(_table(rng, 1000, 25), _table(rng, 1000, 25))
        any_flagged += bool(report.drifted)
        uncorrected += any(c.drift.p_value < 0.05 for c in report.columns)
    assert any_flagged / 300 <= 0.09
    assert uncorrected / 300 > 0.5  # the correction is what keeps it down


def test_a_tenth_of_a_standard_deviation_is_found_at_ten_thousand_rows() -> None:
    """Power: one column shifted by 0.1 σ among 25, 10,000 rows a side, found (and nothing
    else) in at least 90% of 40 tries (KS, Holm-corrected)."""
    rng = np.random.default_rng(5)
    found = sum(
        compare_tables(_table(rng, 10_000, 25), _table(rng, 10_000, 25, shift=0.1)).drifted
        == ["x0"]
        for _ in range(40)
    )
    assert found / 40 >= 0.9


def test_each_kind_of_column_and_its_measures() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    languages = ["en", "fr", "pt"]
    reference = {
        "amount": rng.lognormal(3, 1, n).tolist(),
        "language": rng.choice(languages, n, p=[0.6, 0.3, 0.1]).tolist(),
        "text": [" ".join(rng.choice(["hello", "world", "refund", "order"], 5)) for _ in range(n)],
        "same": ["a", "b"] * (n // 2),
    }
    current = {
        "amount": rng.lognormal(3, 1, n).tolist(),
        "language": rng.choice(languages, n, p=[0.3, 0.3, 0.4]).tolist(),  # mix changed
        "text": [
            " ".join(rng.choice(["hello", "world", "refund", "order", "bonjour"], 9))
            for _ in range(n)
        ],  # longer, and a new word
        "same": ["a", "b"] * (n // 2),
    }
    report = compare_tables(reference, current)
    by_name = {c.drift.column: c for c in report.columns}
    assert [by_name[c].drift.kind for c in ("amount", "language", "text", "same")] == [
        "numeric",
        "categorical",
        "text",
        "categorical",
    ]
    # "bonjour" makes some current texts French: the language mix moved too
    assert sorted(report.drifted) == ["language", "text", "text:language"]
    assert by_name["language"].drift.psi > 0.25  # a large change by the usual PSI reading
    assert by_name["text"].drift.extra["out_of_vocabulary"] == pytest.approx(1 / 5, abs=0.03)
    assert by_name["same"].drift.distance == 0.0


def test_missing_values_are_left_out_and_counted() -> None:
    reference = {"x": [1.0, 2.0, None, float("inf"), ""] * 100}
    current = {"x": [1.0, 2.0, 3.0, 4.0, 5.0] * 100}
    column = compare_tables(reference, current).columns[0]
    # null, an infinity and an empty cell: three of five left out
    assert (column.missing_reference, column.missing_current) == (0.6, 0.0)
    assert column.drift.n_reference == 200


def test_kinds_are_read_from_the_values() -> None:
    assert column_kind(["1", "2.5", "", None]) == "numeric"  # CSV cells
    assert column_kind([True, False]) == "categorical"  # booleans are not numbers
    assert column_kind([f"free text {i}" for i in range(200)]) == "text"
    assert column_kind([None, ""]) == "empty"


def test_evidentlys_rule_uses_distances_above_a_thousand_rows() -> None:
    rng = np.random.default_rng(9)
    reference, current = _table(rng, 5000, 2), _table(rng, 5000, 2, shift=0.05)
    holm_report = compare_tables(reference, current)
    evidently = compare_tables(reference, current, rule="evidently")
    assert evidently.drifted == []  # 0.05 σ is under its 0.1 distance threshold
    assert evidently.columns[0].drift.distance < 0.1
    assert holm_report.rule == "holm"


def test_a_column_one_side_lacks_is_named() -> None:
    with pytest.raises(ValueError, match="'b' is not in the current data"):
        compare_tables({"a": [1, 2], "b": [1, 2]}, {"a": [1, 2]}, columns=["a", "b"])


@pytest.mark.parametrize(
    ("n", "m", "shift", "integers"),
    [(100_000, 100_000, 0.005, False), (5000, 3000, 0.05, True), (30, 17, 1.0, False),
     (2000, 2000, 0.3, False)],
)  # fmt: skip
def test_one_sort_gives_scipys_ks_and_wasserstein(
    n: int, m: int, shift: float, integers: bool
) -> None:
    from scipy import stats

    from modelmeter.drift.stats import ks_and_wasserstein

    rng = np.random.default_rng(n + m)
    a, b = rng.normal(0, 1, n), rng.normal(shift, 1, m)
    if integers:  # ties
        a, b = np.round(a * 3), np.round(b * 3)
    ks = stats.ks_2samp(a, b, method="asymp")
    statistic, p_value, distance = ks_and_wasserstein(a, b)
    assert statistic == ks.statistic
    assert distance == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12, abs=1e-15)
    if ks.pvalue > 1e-6:
        assert p_value == pytest.approx(ks.pvalue, rel=1e-12)
    else:  # the limiting distribution far in the tail: both tiny, within 50% of each other
        assert p_value < 1e-6 and p_value == pytest.approx(ks.pvalue, rel=0.5)


def test_a_texts_language_mix_is_tested_as_a_column_of_its_own() -> None:
    from modelmeter.drift.language import language_of

    rng = np.random.default_rng(5)
    english = ["where is my order", "please send the invoice", "can you help me"]
    spanish = ["dónde está mi pedido", "por favor la factura", "hola necesito ayuda"]
    assert [language_of(t) for t in english + spanish] == ["en"] * 3 + ["es"] * 3
    assert language_of("ok 123") == "unknown"

    def texts(phrases: list[str], weights: list[float]) -> list[str]:
        chosen = rng.choice(phrases, 3000, p=weights)
        return [
            f"{phrase} {number}"
            for phrase, number in zip(chosen, rng.integers(0, 10**6, 3000), strict=True)
        ]

    mostly_english = english + spanish[:1], [0.3, 0.3, 0.3, 0.1]
    reference = {"prompt": texts(*mostly_english)}
    current = {"prompt": texts(english + spanish, [1 / 6] * 6)}  # half Spanish now
    by_name = {c.drift.column: c for c in compare_tables(reference, current).columns}
    assert by_name["prompt"].drift.kind == "text"
    mix = by_name["prompt:language"]
    assert mix.drifted and mix.drift.kind == "categorical"
    same = compare_tables(reference, {"prompt": texts(*mostly_english)})
    assert "prompt:language" not in same.drifted
