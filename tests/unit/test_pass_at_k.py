"""pass@k against values worked out by hand and against exact binomial arithmetic."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

from modelmeter.tasks.code import pass_at_k, pass_at_k_per_task


def exact(n: int, c: int, k: int) -> Fraction:
    """1 - C(n-c, k) / C(n, k) in exact rational arithmetic (C(m, k) is 0 for m < k)."""
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (2, 1, 1, 0.5),
        (10, 3, 1, 0.3),  # pass@1 is the share of correct samples
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (10, 3, 5, 11 / 12),  # 1 - C(7,5)/C(10,5) = 1 - 21/252
        (4, 1, 4, 1.0),  # every sample drawn: the correct one is among them
        (200, 0, 100, 0.0),
    ],
)
def test_values_worked_out_by_hand(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-15)


def test_agrees_with_exact_arithmetic_for_every_small_case() -> None:
    for n in range(1, 31):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(float(exact(n, c, k)), abs=1e-12), (
                    n,
                    c,
                    k,
                )


@pytest.mark.parametrize(("n", "c", "k"), [(1000, 500, 100), (1000, 1, 1), (500, 3, 250)])
def test_stays_accurate_where_binomials_are_huge(n: int, c: int, k: int) -> None:
    # C(1000, 100) has 140 digits: a float ratio of binomials would overflow.
    assert pass_at_k(n, c, k) == pytest.approx(float(exact(n, c, k)), rel=1e-12)


def test_edge_cases() -> None:
    assert pass_at_k(7, 0, 3) == 0.0
    assert pass_at_k(7, 7, 3) == 1.0
    assert pass_at_k(7, 5, 3) == 1.0  # n - c = 2 < k: any 3 draws include a correct one


@pytest.mark.parametrize(
    ("n", "c", "k", "message"),
    [
        (5, 2, 6, "k must be between 1 and n=5"),
        (5, 2, 0, "k must be between 1 and n=5"),
        (5, 6, 1, "c \\(correct samples\\) must be between 0 and n=5"),
        (5, -1, 1, "c \\(correct samples\\)"),
        (0, 0, 1, "n \\(samples per task\\) must be at least 1"),
        (5, 2, True, "k must be an integer"),
        (5.0, 2, 1, "n must be an integer"),
    ],
)
def test_invalid_arguments_are_refused_clearly(n: int, c: int, k: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pass_at_k(n, c, k)


def test_per_task_is_the_mean_over_tasks() -> None:
    results = {
        "a": [True, False, False, False],  # pass@2 = 1 - C(3,2)/C(4,2) = 1/2
        "b": [True, True, False, False],  # 1 - C(2,2)/C(4,2) = 5/6
        "c": [False, False, False, False],  # 0
    }
    assert pass_at_k_per_task(results, 2) == pytest.approx((1 / 2 + 5 / 6 + 0) / 3)
    assert pass_at_k_per_task(results, 1) == pytest.approx((1 / 4 + 2 / 4 + 0) / 3)


def test_per_task_refuses_too_few_samples_naming_the_task() -> None:
    with pytest.raises(ValueError, match="task 'short' has 2 samples, fewer than k=3"):
        pass_at_k_per_task({"long": [True] * 5, "short": [True, False]}, 3)
    with pytest.raises(ValueError, match="at least one task"):
        pass_at_k_per_task({}, 1)
