"""Holm's step-down adjustment, against statsmodels and a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from modelmeter.stats import holm


def test_hand_worked_example() -> None:
    # Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → monotone: 0.06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_capped_at_one_and_monotone() -> None:
    adjusted = holm([0.5, 0.4, 0.9])
    assert adjusted == pytest.approx([1.0, 1.0, 1.0])
    assert holm([0.2, 0.01]) == pytest.approx([0.2, 0.02])


def test_single_and_empty() -> None:
    assert holm([0.037]) == [0.037]
    assert holm([]) == []


def test_ties_are_deterministic() -> None:
    assert holm([0.01, 0.01, 0.01]) == pytest.approx([0.03, 0.03, 0.03])


@pytest.mark.parametrize("seed", range(20))
def test_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 40))
    # A mix of tiny, moderate and large p-values, with repeats.
    p_values = np.concatenate([rng.random(m) ** 3, rng.choice([0.0, 0.05, 1.0], 3)])
    reject, expected, _, _ = multipletests(p_values, alpha=0.05, method="holm")
    adjusted = holm(p_values.tolist())
    assert adjusted == pytest.approx(expected.tolist(), rel=1e-12, abs=1e-15)
    assert [p <= 0.05 for p in adjusted] == reject.tolist()
    order = np.argsort(p_values, kind="stable")
    assert all(np.diff(np.array(adjusted)[order]) >= 0)


@pytest.mark.parametrize(
    ("p_values", "message"),
    [
        ([0.1, 1.2], r"p_values\[1\] must be a number in \[0, 1\], got 1.2"),
        ([float("nan")], r"p_values\[0\]"),
        ([-0.01], r"p_values\[0\]"),
        (["0.1"], r"p_values\[0\]"),
    ],
)
def test_bad_p_values_name_the_position(p_values: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        holm(p_values)  # type: ignore[arg-type]
