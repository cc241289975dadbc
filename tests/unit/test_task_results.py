"""What the LLM tasks measured, turned into the report's figures: pooled score and billed tokens."""

from __future__ import annotations

from decimal import Decimal

from modelmeter.results import Interval, TaskQuality
from modelmeter.spec.economics import EconomicsSpec
from modelmeter.spec.pricing import ApiPricing
from modelmeter.tasks.evaluate import TaskEvaluation
from modelmeter.tasks.results import economics_for, pooled_score


def _evaluation(n: int, correct: int, **tokens: int) -> TaskEvaluation:
    ci = Interval(low=0.0, high=1.0, method="wilson")
    quality = TaskQuality(
        metric="accuracy",
        n=n,
        n_failed=0,
        n_correct=correct,
        accuracy=correct / n,
        accuracy_ci=ci,
        mean_score=correct / n,
        n_bootstrap=0,
        seed=0,
    )
    return TaskEvaluation(
        task="t",
        kind="multiple_choice",
        route="think",
        quality=quality,
        answers=n,
        sent=n,
        correct_answers=correct,
        **tokens,
    )


def test_pooled_score_is_the_share_of_all_items_right_with_a_wilson_interval() -> None:
    score, interval = pooled_score([_evaluation(10, 8), _evaluation(30, 12)])
    assert score == 20 / 40
    assert interval is not None and interval.method.startswith("wilson")
    # Wilson 95% for 20/40: 0.5 ± 0.1480 (hand: z=1.96, centre 0.5, half-width 0.1480).
    assert abs(interval.low - 0.3520) < 1e-3 and abs(interval.high - 0.6480) < 1e-3


def test_reasoning_tokens_are_billed_as_output_and_cached_input_at_its_rate() -> None:
    pricing = ApiPricing(
        currency="USD",
        per_1m_input_tokens=Decimal("1"),
        per_1m_cached_input_tokens=Decimal("0.5"),
        per_1m_output_tokens=Decimal("2"),
    )
    evaluation = _evaluation(
        2,
        1,
        input_tokens=1000,
        cached_input_tokens=400,
        output_tokens=300,
        reasoning_tokens=200,
    )
    breakdown, budget, breakeven, _notes = economics_for(
        [evaluation], pricing, EconomicsSpec(), throughput_rps=None
    )
    assert budget is None and breakeven is None
    assert breakdown is not None
    # 600 input × 1/M + 400 cached × 0.5/M + (300 visible + 200 reasoning) × 2/M
    # = 0.0006 + 0.0002 + 0.0010 = 0.0018 USD, over 1 correct answer.
    assert breakdown.total == Decimal("0.0018")
    assert breakdown.per_correct_answer == Decimal("0.0018")
    assert breakdown.per_request == Decimal("0.0009")
