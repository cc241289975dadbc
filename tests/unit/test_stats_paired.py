"""McNemar's exact test and Newcombe's paired interval, against statsmodels and published tables."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from modelmeter.stats import PairedProportionTest, mcnemar_exact, newcombe_paired_interval

# Newcombe (1998), Statistics in Medicine 17:2635-2650, Table III, method 10 (95% limits):
# (e, f, g, h) = (both, first only, second only, neither), theta = (f - g) / n.
NEWCOMBE_TABLE_III = [
    ((36, 12, 2, 0), (0.0569, 0.3404)),
    ((20, 12, 2, 16), (0.0562, 0.3292)),
    ((18, 12, 2, 18), (0.0562, 0.3290)),
    ((36, 14, 0, 0), (0.1528, 0.4167)),
    ((35, 14, 0, 1), (0.1461, 0.4175)),
    ((18, 14, 0, 18), (0.1441, 0.3963)),
    ((2, 97, 1, 0), (0.8721, 0.9854)),
    ((1, 97, 1, 1), (0.8736, 0.9850)),
    ((0, 29, 1, 0), (0.6666, 0.9882)),
    ((2, 98, 0, 0), (0.9178, 0.9945)),
    ((1, 98, 0, 1), (0.9171, 0.9916)),
    ((0, 30, 0, 0), (0.8395, 1.0)),
    ((54, 0, 0, 0), (-0.0664, 0.0664)),
    ((53, 0, 0, 1), (-0.0729, 0.0729)),
    ((30, 0, 0, 24), (-0.0358, 0.0358)),
    ((29, 0, 0, 25), (-0.0354, 0.0354)),
    ((28, 0, 0, 26), (-0.0352, 0.0352)),
    ((27, 0, 0, 27), (-0.0351, 0.0351)),
]


def _outcomes(both: int, a_only: int, b_only: int, neither: int) -> tuple[list[bool], list[bool]]:
    """Per-item right/wrong lists that produce the given 2×2 table, in a shuffled order."""
    a = [True] * both + [True] * a_only + [False] * b_only + [False] * neither
    b = [True] * both + [False] * a_only + [True] * b_only + [False] * neither
    order = np.random.default_rng(both * 1000 + a_only).permutation(len(a))
    return [a[i] for i in order], [b[i] for i in order]


@pytest.mark.parametrize(("table", "published"), NEWCOMBE_TABLE_III)
def test_newcombe_interval_reproduces_the_published_table(
    table: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    low, high = newcombe_paired_interval(*table)
    # Published to 4 decimals.
    assert low == pytest.approx(published[0], abs=1e-4)
    assert high == pytest.approx(published[1], abs=1e-4)


def test_newcombe_interval_matches_fagerland_cavo_example() -> None:
    # Fagerland, Lydersen & Laake (2014), Stat Med 33:2850; Statistical Analysis of Contingency
    # Tables (2017), ch. 8: Cavo et al. (2012), table [[59, 6], [16, 80]]:
    # estimate -0.0621, Newcombe square-and-add 95% CI -0.1186 to -0.0046.
    low, high = newcombe_paired_interval(59, 6, 16, 80)
    assert low == pytest.approx(-0.1186, abs=1e-4)
    assert high == pytest.approx(-0.0046, abs=1e-4)


def test_mcnemar_exact_hand_example() -> None:
    # 1 item only A got right, 6 only B: p = 2 · P(X ≤ 1), X ~ Bin(7, 1/2) = 2 · 8/128 = 0.125.
    a, b = _outcomes(10, 1, 6, 3)
    result = mcnemar_exact(a, b)
    assert (result.n, result.both_correct, result.a_only, result.b_only, result.neither) == (
        20,
        10,
        1,
        6,
        3,
    )
    assert result.p_value == pytest.approx(0.125, abs=1e-12)
    assert result.difference == pytest.approx((1 - 6) / 20)
    assert result.a_accuracy == pytest.approx(11 / 20)
    assert result.b_accuracy == pytest.approx(16 / 20)
    assert result.interval_low < result.difference < result.interval_high
    assert result.method == "mcnemar-exact"
    assert result.interval_method == "newcombe-hybrid-score"


@pytest.mark.parametrize(
    "table",
    [
        (10, 1, 6, 3),
        (794, 150, 86, 570),
        (40, 9, 4, 47),
        (5, 0, 7, 2),
        (3, 12, 12, 3),
        (0, 1, 0, 0),
    ],
)
def test_mcnemar_p_value_matches_statsmodels(table: tuple[int, int, int, int]) -> None:
    both, a_only, b_only, neither = table
    a, b = _outcomes(*table)
    expected = mcnemar([[both, a_only], [b_only, neither]], exact=True).pvalue
    assert mcnemar_exact(a, b).p_value == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_mcnemar_matches_statsmodels_on_random_outcomes() -> None:
    rng = np.random.default_rng(20240601)
    for _ in range(50):
        n = int(rng.integers(5, 400))
        difficulty = rng.random(n)
        a = difficulty < rng.uniform(0.3, 0.9)
        b = difficulty < rng.uniform(0.3, 0.9)
        flips = rng.random(n) < 0.1
        b = np.where(flips, ~b, b)
        table = [[int((a & b).sum()), int((a & ~b).sum())], [int((~a & b).sum()), 0]]
        table[1][1] = n - table[0][0] - table[0][1] - table[1][0]
        expected = mcnemar(table, exact=True).pvalue
        assert mcnemar_exact(a, b).p_value == pytest.approx(expected, rel=1e-10)


def test_agresti_approval_rating_example() -> None:
    # Agresti, Categorical Data Analysis: the same 1600 people rated a leader's performance in two
    # surveys, [[794, 150], [86, 570]]; difference 0.59 - 0.55 = 0.04, 95% CI about
    # (0.02, 0.06), and McNemar's z = (150 - 86) / sqrt(236) = 4.17.
    a, b = _outcomes(794, 150, 86, 570)
    result = mcnemar_exact(a, b)
    assert result.a_accuracy == pytest.approx(0.59)
    assert result.b_accuracy == pytest.approx(0.55)
    assert result.difference == pytest.approx(0.04)
    assert round(result.interval_low, 2) == 0.02
    assert round(result.interval_high, 2) == 0.06
    # For large n the score interval is close to the Wald interval.
    wald_se = np.sqrt((150 + 86) / 1600**2 - (150 - 86) ** 2 / 1600**3)
    assert result.interval_low == pytest.approx(0.04 - 1.959964 * wald_se, abs=2e-3)
    assert result.interval_high == pytest.approx(0.04 + 1.959964 * wald_se, abs=2e-3)
    assert result.p_value < 1e-4


def test_no_discordant_items_gives_p_one_and_a_symmetric_interval() -> None:
    a, b = _outcomes(27, 0, 0, 27)
    result = mcnemar_exact(a, b)
    assert result.p_value == 1.0
    assert result.difference == 0.0
    assert result.interval_low == pytest.approx(-result.interval_high)
    assert result.interval_low == pytest.approx(-0.0351, abs=1e-4)


def test_swapping_the_models_mirrors_the_result() -> None:
    a, b = _outcomes(20, 12, 2, 16)
    forward = mcnemar_exact(a, b)
    backward = mcnemar_exact(b, a)
    assert backward.p_value == pytest.approx(forward.p_value)
    assert backward.difference == pytest.approx(-forward.difference)
    assert backward.interval_low == pytest.approx(-forward.interval_high)
    assert backward.interval_high == pytest.approx(-forward.interval_low)


def test_interval_widens_with_the_level() -> None:
    a, b = _outcomes(40, 9, 4, 47)
    widths = [
        mcnemar_exact(a, b, level=level).interval_high
        - mcnemar_exact(a, b, level=level).interval_low
        for level in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
    ]
    assert widths == sorted(widths)
    assert len(set(widths)) == len(widths)


def test_interval_limits_stay_within_minus_one_and_one() -> None:
    a, b = _outcomes(0, 30, 0, 0)
    result = mcnemar_exact(a, b)
    assert result.difference == 1.0
    assert result.interval_high == 1.0
    assert -1.0 <= result.interval_low <= 1.0


def test_accepts_zero_one_numbers_and_numpy_arrays() -> None:
    a, b = _outcomes(10, 1, 6, 3)
    as_numbers = mcnemar_exact([int(x) for x in a], np.array(b, dtype=np.float64))
    assert as_numbers == mcnemar_exact(a, b)


def test_result_round_trips_through_json() -> None:
    a, b = _outcomes(10, 1, 6, 3)
    result = mcnemar_exact(a, b)
    assert PairedProportionTest.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([True, False], [True], "the first model has 2 items, the second 1"),
        ([], [], "at least one item"),
        ([True, 2], [True, False], r"a_correct\[1\] is 2"),
        ([True, False], [0.5, 1], r"b_correct\[0\] is 0.5"),
        (["yes", "no"], [True, False], "booleans"),
        ([[True], [False]], [True, False], "flat sequence"),
    ],
)
def test_bad_outcomes_name_the_problem(a: object, b: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mcnemar_exact(a, b)  # type: ignore[arg-type]


def test_bad_level_and_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="level must be a number strictly between 0 and 1"):
        mcnemar_exact([True], [False], level=95)
    with pytest.raises(ValueError, match="a_only must be a whole number"):
        newcombe_paired_interval(1, -1, 0, 0)
    with pytest.raises(ValueError, match="empty"):
        newcombe_paired_interval(0, 0, 0, 0)
