"""Pairwise comparisons with Holm's adjustment, tie groups and the sentences for reports."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from modelmeter.results import Interval, PairComparison
from modelmeter.stats import (
    Comparisons,
    comparison_sentence,
    format_p_value,
    mcnemar_exact,
    paired_bootstrap,
    pairwise_comparisons,
    tie_groups,
)


def _four_models(n: int = 400) -> tuple[list[str], list[np.ndarray]]:
    """Right/wrong outcomes of four models on shared items: two strong ones close together,
    a middling one and a weak one, with correlated errors (shared item difficulty)."""
    rng = np.random.default_rng(42)
    difficulty = rng.random(n)
    noise = rng.random((4, n)) < 0.03
    skill = [0.85, 0.84, 0.70, 0.50]
    outcomes = [(difficulty < s) ^ noise[i] for i, s in enumerate(skill)]
    return ["strong", "close", "middle", "weak"], outcomes


# tie_groups


def test_tie_groups_walks_down_the_ranking_comparing_with_the_leader() -> None:
    names = ["c", "a", "d", "b"]
    scores = [0.70, 0.90, 0.60, 0.85]
    # a–b and b–c are ties, a–c is not: c starts a new group although it ties with b.
    different = {frozenset(pair) for pair in [("a", "c"), ("a", "d"), ("b", "d")]}
    groups = tie_groups(names, scores, lambda x, y: frozenset((x, y)) in different)
    assert groups == [["a", "b"], ["c", "d"]]


def test_tie_groups_accepts_a_matrix() -> None:
    names = ["a", "b", "c"]
    matrix = [[False, False, True], [False, False, True], [True, True, False]]
    assert tie_groups(names, [0.8, 0.9, 0.1], matrix) == [["b", "a"], ["c"]]
    assert tie_groups(names, [0.8, 0.9, 0.1], np.array(matrix)) == [["b", "a"], ["c"]]
    everything_different = ~np.eye(3, dtype=bool)
    assert tie_groups(names, [0.8, 0.9, 0.1], everything_different) == [["b"], ["a"], ["c"]]


def test_equal_scores_keep_the_given_order() -> None:
    assert tie_groups(["x", "y", "z"], [0.5, 0.5, 0.5], lambda a, b: True) == [["x"], ["y"], ["z"]]
    assert tie_groups(["z", "y", "x"], [0.5, 0.5, 0.5], lambda a, b: False) == [["z", "y", "x"]]


@pytest.mark.parametrize(
    ("names", "scores", "matrix", "message"),
    [
        (["a", "b"], [0.1], [[False, False], [False, False]], "scores has 1 values for 2 names"),
        (["a", "a"], [0.1, 0.2], [[False, False], [False, False]], "'a' appears more than once"),
        (["a", ""], [0.1, 0.2], [[False, False], [False, False]], r"names\[1\]"),
        (["a", "b"], [0.1, 0.2], [[False, True]], "must be 2×2"),
        (["a", "b"], [0.1, 0.2], [[False, True], [False, False]], r"matrix\[0\]\[1\] is True"),
        (["a", "b"], [0.1, float("nan")], [[False, False], [False, False]], r"scores\[1\]"),
    ],
)
def test_tie_groups_rejects_bad_input(
    names: list[str], scores: list[float], matrix: list[list[bool]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tie_groups(names, scores, matrix)


# pairwise_comparisons


def test_mcnemar_comparisons_match_statsmodels_and_holm() -> None:
    names, outcomes = _four_models()
    result = pairwise_comparisons(names, outcomes)
    pairs = [(c.a, c.b) for c in result.comparisons]
    assert pairs == [
        ("strong", "close"),
        ("strong", "middle"),
        ("strong", "weak"),
        ("close", "middle"),
        ("close", "weak"),
        ("middle", "weak"),
    ]
    raw = []
    for comparison in result.comparisons:
        a = outcomes[names.index(comparison.a)]
        b = outcomes[names.index(comparison.b)]
        table = [[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]]
        assert comparison.p_value == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-10)
        single = mcnemar_exact(a, b)
        assert comparison.difference == single.difference
        assert (comparison.interval.low, comparison.interval.high) == (
            single.interval_low,
            single.interval_high,
        )
        assert (comparison.a_only, comparison.b_only) == (single.a_only, single.b_only)
        raw.append(comparison.p_value)
    reject, adjusted, _, _ = multipletests(raw, alpha=0.05, method="holm")
    assert [c.p_adjusted for c in result.comparisons] == pytest.approx(adjusted.tolist())
    assert [c.distinguishable for c in result.comparisons] == reject.tolist()
    assert result.scores == {name: float(o.mean()) for name, o in zip(names, outcomes, strict=True)}
    assert result.method == "mcnemar-exact"
    assert (result.n_resamples, result.seed) == (None, None)


def test_close_models_tie_and_clear_gaps_separate() -> None:
    names, outcomes = _four_models()
    result = pairwise_comparisons(names, outcomes)
    assert not result.distinguishable("strong", "close")
    assert not result.distinguishable("close", "strong")
    assert result.distinguishable("strong", "weak")
    # "close" happens to score a little higher on these items; it leads the top group.
    assert result.scores["close"] > result.scores["strong"]
    assert result.tie_groups() == [["close", "strong"], ["middle"], ["weak"]]


def test_sentences_read_as_the_decision() -> None:
    names, outcomes = _four_models()
    result = pairwise_comparisons(names, outcomes)
    tie = result.find("strong", "close")
    p_text = format_p_value(tie.p_adjusted)
    assert comparison_sentence(tie) == (
        f"strong and close are not distinguishable at 95% "
        f"(McNemar exact, Holm-adjusted p = {p_text})"
    )
    gap = result.find("weak", "middle")
    assert comparison_sentence(gap) == (
        "middle scores higher than weak at 95% (McNemar exact, Holm-adjusted p < 0.001)"
    )
    assert result.sentences()[0] == comparison_sentence(result.comparisons[0])


def test_sentence_names_the_better_model_whichever_comes_first() -> None:
    comparison = PairComparison(
        a="small",
        b="large",
        items=500,
        a_value=0.70,
        b_value=0.75,
        difference=-0.05,
        interval=Interval(low=-0.08, high=-0.02, level=0.9, method="paired-bootstrap"),
        p_value=0.002,
        p_adjusted=0.0123,
        distinguishable=True,
        method="paired-bootstrap",
    )
    assert comparison_sentence(comparison) == (
        "large scores higher than small at 90% (paired bootstrap, Holm-adjusted p = 0.012)"
    )


def test_bootstrap_comparisons_use_the_paired_bootstrap_with_one_seed() -> None:
    rng = np.random.default_rng(9)
    base = rng.random(200)
    scores = [np.clip(base + shift + rng.normal(0, 0.05, 200), 0, 1) for shift in (0.1, 0.09, 0.0)]
    result = pairwise_comparisons(
        ["a", "b", "c"], scores, method="bootstrap", n_resamples=2000, seed=13
    )
    assert result.method == "paired-bootstrap"
    assert (result.n_resamples, result.seed) == (2000, 13)
    for comparison in result.comparisons:
        i, j = "abc".index(comparison.a), "abc".index(comparison.b)
        single = paired_bootstrap(scores[i], scores[j], n_resamples=2000, seed=13)
        assert (comparison.p_value, comparison.interval.low) == (
            single.p_value,
            single.interval_low,
        )
        assert comparison.a_only is None
    assert result.tie_groups() == [["a", "b"], ["c"]]
    assert result == pairwise_comparisons(
        ["a", "b", "c"], scores, method="bootstrap", n_resamples=2000, seed=13
    )


def test_alpha_sets_the_interval_level_and_the_decision() -> None:
    names, outcomes = _four_models()
    strict = pairwise_comparisons(names, outcomes, alpha=0.01)
    loose = pairwise_comparisons(names, outcomes, alpha=0.2)
    assert all(c.interval.level == pytest.approx(0.99) for c in strict.comparisons)
    for tight, wide in zip(strict.comparisons, loose.comparisons, strict=True):
        assert tight.interval.high - tight.interval.low > wide.interval.high - wide.interval.low
        assert tight.p_adjusted == wide.p_adjusted
        assert tight.distinguishable == (tight.p_adjusted <= 0.01)


def test_comparisons_round_trip_through_json() -> None:
    names, outcomes = _four_models(100)
    result = pairwise_comparisons(names, outcomes)
    assert Comparisons.model_validate_json(result.model_dump_json()) == result


def test_find_names_the_models_it_knows() -> None:
    names, outcomes = _four_models(50)
    result = pairwise_comparisons(names, outcomes)
    with pytest.raises(KeyError, match="no comparison of 'strong' with 'nobody'"):
        result.find("strong", "nobody")


@pytest.mark.parametrize(
    ("names", "per_item", "kwargs", "message"),
    [
        (["a"], [[True]], {}, "at least two models"),
        (["a", "b"], [[True, False]], {}, "per_item has 1 rows for 2 names"),
        (["a", "b"], [[True, False], [True]], {}, "'a' has 2 items, 'b' has 1"),
        (["a", "b"], [[True, 3], [True, False]], {}, r"per_item\[0\] \(a\)\[1\] is 3"),
        (["a", "b"], [[], []], {}, "at least one item"),
        (["a", "b"], [[0.1, 0.2], [0.3, 0.4]], {"method": "t-test"}, "method must be"),
        (["a", "b"], [[True], [False]], {"alpha": 1.5}, "alpha must be"),
    ],
)
def test_pairwise_comparisons_reject_bad_input(
    names: list[str], per_item: list[list[object]], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        pairwise_comparisons(names, per_item, **kwargs)  # type: ignore[arg-type]


# format_p_value


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.41, "0.41"),
        (0.41234, "0.41"),
        (1.0, "1"),
        (0.0031, "0.0031"),
        (0.0009, "< 0.001"),
        (0.0496, "0.05"),  # at or below alpha, like the value itself
        (0.0504, "0.0504"),  # "0.05" would put it on the wrong side of alpha
        (0.05, "0.05"),
        (0.049, "0.049"),
    ],
)
def test_format_p_value(p: float, text: str) -> None:
    assert format_p_value(p) == text
