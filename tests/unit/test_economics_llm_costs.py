"""LLM cost arithmetic: every expected figure worked out by hand in the comment beside it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from modelmeter._exceptions import SpecError
from modelmeter.economics import (
    CurrencyMismatchError,
    TokenMeans,
    TokenUsage,
    blended_3_to_1,
    break_even,
    builtin_catalogue,
    check_budget_limit,
    llm_cost_breakdown,
    monthly_budget,
    request_cost,
    resolve_pricing,
)
from modelmeter.spec.economics import Workload
from modelmeter.spec.pricing import ApiPricing, CataloguePricing, InstancePricing


def _api(**prices: Any) -> ApiPricing:
    return ApiPricing.model_validate({"currency": "USD", **prices})


MINI = _api(per_1m_input_tokens="0.15", per_1m_output_tokens="0.60")
CACHED = _api(
    per_1m_input_tokens="3",
    per_1m_output_tokens="15",
    per_1m_cached_input_tokens="0.30",
    per_1m_cache_write_tokens="3.75",
)
REASONER = _api(
    per_1m_input_tokens="0.5", per_1m_output_tokens="2.5", per_1m_reasoning_tokens="3.5"
)


# --- one request ------------------------------------------------------------------------------


def test_plain_request() -> None:
    # 1,000 × 0.15 / 1e6 + 200 × 0.60 / 1e6 = 0.00015 + 0.00012 = 0.00027
    assert request_cost(MINI, input_tokens=1000, output_tokens=200) == Decimal("0.00027")


def test_cached_and_cache_write_tokens_are_parts_of_the_input() -> None:
    # full rate: 10,000 − 6,000 − 2,000 = 2,000 × 3 / 1e6      = 0.006
    # cached:    6,000 × 0.30 / 1e6                             = 0.0018
    # written:   2,000 × 3.75 / 1e6                             = 0.0075
    # output:    500 × 15 / 1e6                                 = 0.0075
    # total                                                     = 0.0228
    cost = request_cost(
        CACHED,
        input_tokens=10_000,
        output_tokens=500,
        cached_input_tokens=6000,
        cache_write_tokens=2000,
    )
    assert cost == Decimal("0.0228")


def test_cached_tokens_without_a_price_of_their_own_are_billed_as_input() -> None:
    # 10,000 × 0.15 / 1e6 = 0.0015, whatever share was cached
    cost = request_cost(MINI, input_tokens=10_000, output_tokens=0, cached_input_tokens=9000)
    assert cost == Decimal("0.0015")


def test_reasoning_tokens_at_their_own_price_or_as_output() -> None:
    # 200 × 0.5 / 1e6 + (1,000 − 800) × 2.5 / 1e6 + 800 × 3.5 / 1e6
    # = 0.0001 + 0.0005 + 0.0028 = 0.0034
    priced = request_cost(REASONER, input_tokens=200, output_tokens=1000, reasoning_tokens=800)
    assert priced == Decimal("0.0034")
    # No reasoning price: all 1,000 output tokens at 2.5 -> 0.0001 + 0.0025 = 0.0026
    as_output = request_cost(
        MINI.model_copy(
            update={"per_1m_output_tokens": Decimal("2.5"), "per_1m_input_tokens": Decimal("0.5")}
        ),
        input_tokens=200,
        output_tokens=1000,
        reasoning_tokens=800,
    )
    assert as_output == Decimal("0.0026")


def test_per_second_and_per_request_prices() -> None:
    hosted = _api(per_request="0.005", per_second="0.0014")
    # 0.005 + 2.5 s × 0.0014 = 0.005 + 0.0035 = 0.0085 (tokens unpriced)
    assert request_cost(hosted, input_tokens=50, output_tokens=50, seconds=2.5) == Decimal("0.0085")
    with pytest.raises(SpecError, match="per second of request duration"):
        request_cost(hosted, input_tokens=50, output_tokens=50)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"input_tokens": 10, "output_tokens": 5, "cached_input_tokens": 11}, "cannot exceed"),
        (
            {
                "input_tokens": 10,
                "output_tokens": 5,
                "cached_input_tokens": 6,
                "cache_write_tokens": 5,
            },
            "cannot exceed",
        ),
        ({"input_tokens": 10, "output_tokens": 5, "reasoning_tokens": 6}, "cannot exceed"),
        ({"input_tokens": -1, "output_tokens": 5}, "must not be negative"),
    ],
)
def test_parts_cannot_exceed_their_whole(counts: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        request_cost(MINI, **counts)


# --- the breakdown of a run -------------------------------------------------------------------


def test_breakdown_per_request_per_1m_tokens_and_per_correct_answer() -> None:
    usage = TokenUsage(requests=1000, input_tokens=1_200_000, output_tokens=200_000)
    result = llm_cost_breakdown(MINI, usage, correct_answers=800)
    # input 1,200,000 × 0.15 / 1e6 = 0.18; output 200,000 × 0.60 / 1e6 = 0.12; total 0.30
    assert result.total == Decimal("0.3")
    assert result.per_request == Decimal("0.0003")  # 0.30 / 1,000
    assert result.per_1000_requests == Decimal("0.3")  # 0.0003 × 1000
    # 0.30 / 1,400,000 × 1e6 = 0.2142857142… -> 6 significant digits
    assert result.per_1m_tokens == Decimal("0.214286")
    assert result.per_correct_answer == Decimal("0.000375")  # 0.30 / 800
    assert result.blended_3_to_1_per_1m == Decimal("0.2625")  # (3 × 0.15 + 0.60) / 4
    assert result.total_tokens == 1_400_000
    assert [line.item for line in result.lines] == ["input tokens", "output tokens"]
    assert "input tokens: 1,200,000 × 0.15 USD/1M = 0.18 USD" in result.explanation
    assert "total = 0.18 + 0.12 = 0.3 USD over 1,000 requests" in result.explanation
    assert any("0.3 USD / 800 correct = 0.000375 USD" in line for line in result.explanation)
    assert any(
        line.startswith("blended 3:1 = (3 × 0.15 + 1 × 0.60) / 4 = 0.2625 USD")
        for line in result.explanation
    )

    as_json = json.loads(result.model_dump_json())
    assert as_json["per_correct_answer"] == 0.000375  # a plain JSON number
    assert as_json["lines"][0]["amount"] == 0.18


def test_breakdown_with_cache_reasoning_and_seconds() -> None:
    pricing = _api(
        per_1m_input_tokens="3",
        per_1m_output_tokens="15",
        per_1m_cached_input_tokens="0.3",
        per_1m_reasoning_tokens="20",
        per_second="0.001",
        per_request="0.01",
    )
    usage = TokenUsage(
        requests=10,
        input_tokens=100_000,
        cached_input_tokens=40_000,
        output_tokens=20_000,
        reasoning_tokens=5_000,
        seconds=12.5,
    )
    result = llm_cost_breakdown(pricing, usage, correct_answers=4)
    # input full rate 60,000 × 3 / 1e6 = 0.18;  cached 40,000 × 0.3 / 1e6 = 0.012
    # output 15,000 × 15 / 1e6 = 0.225;          reasoning 5,000 × 20 / 1e6 = 0.1
    # requests 10 × 0.01 = 0.1;                   seconds 12.5 × 0.001 = 0.0125
    # total = 0.18 + 0.012 + 0.225 + 0.1 + 0.1 + 0.0125 = 0.6295
    assert [(line.item, line.amount) for line in result.lines] == [
        ("input tokens (full rate)", Decimal("0.18")),
        ("cached input tokens", Decimal("0.012")),
        ("output tokens (besides reasoning)", Decimal("0.225")),
        ("reasoning tokens", Decimal("0.1")),
        ("requests", Decimal("0.1")),
        ("request seconds", Decimal("0.0125")),
    ]
    assert result.total == Decimal("0.6295")
    assert result.per_request == Decimal("0.06295")  # 0.6295 / 10
    assert result.per_correct_answer == Decimal("0.157375")  # 0.6295 / 4
    # 0.6295 / 120,000 tokens × 1e6 = 5.24583333… -> 5.24583
    assert result.per_1m_tokens == Decimal("5.24583")


def test_zero_correct_answers_has_no_cost_per_correct_answer() -> None:
    usage = TokenUsage(requests=10, input_tokens=1000, output_tokens=1000)
    result = llm_cost_breakdown(MINI, usage, correct_answers=0)
    assert result.per_correct_answer is None
    assert result.per_request == Decimal("0.000075")  # (0.00015 + 0.0006) / 10
    assert "no answer was correct" in " ".join(result.explanation)
    ungraded = llm_cost_breakdown(MINI, usage)
    assert ungraded.per_correct_answer is None and ungraded.correct_answers is None
    with pytest.raises(ValueError, match="correct_answers"):
        llm_cost_breakdown(MINI, usage, correct_answers=11)


def test_no_requests_has_no_per_request_figures() -> None:
    result = llm_cost_breakdown(MINI, TokenUsage(requests=0, input_tokens=0, output_tokens=0))
    assert result.total == 0
    assert (result.per_request, result.per_1000_requests, result.per_1m_tokens) == (
        None,
        None,
        None,
    )


def test_token_usage_refuses_parts_above_wholes() -> None:
    with pytest.raises(ValidationError, match="reasoning_tokens"):
        TokenUsage(requests=1, input_tokens=1, output_tokens=1, reasoning_tokens=2)


def test_blended_price_of_a_catalogue_model() -> None:
    # gpt-4o in the built-in catalogue: 2.5 input, 10 output -> (3 × 2.5 + 10) / 4 = 4.375
    gpt4o = resolve_pricing(CataloguePricing(model="gpt-4o"), builtin_catalogue())
    assert blended_3_to_1(gpt4o) == Decimal("4.375")


# --- monthly budget ---------------------------------------------------------------------------


def test_budget_from_requests_per_day_and_declared_tokens() -> None:
    workload = Workload(
        requests_per_day=Decimal(20_000),
        input_tokens_per_request=Decimal(500),
        output_tokens_per_request=Decimal(150),
    )
    budget = monthly_budget(MINI, workload)
    # 20,000 × 30 days = 600,000 requests
    # input 600,000 × 500 = 300,000,000 × 0.15 / 1e6 = 45; output 90,000,000 × 0.60 / 1e6 = 54
    assert budget.requests_per_month == Decimal(600_000)
    assert budget.input_tokens_per_month == Decimal(300_000_000)
    assert budget.total == Decimal(99)
    assert "a month is taken as 30 days" in budget.assumptions
    assert "requests per month = 20,000 per day × 30 days = 600,000" in budget.explanation
    assert "monthly total = 45 + 54 = 99 USD" in budget.explanation


def test_budget_takes_measured_means_and_says_so() -> None:
    pricing = _api(
        per_1m_input_tokens="0.15", per_1m_output_tokens="0.60", per_1m_cached_input_tokens="0.075"
    )
    measured = TokenUsage(
        requests=4, input_tokens=2000, output_tokens=600, cached_input_tokens=1000
    ).means()
    assert measured is not None
    workload = Workload(requests_per_day=Decimal(20_000), days_per_month=Decimal(31))
    budget = monthly_budget(pricing, workload, measured)
    # means: 500 input, 150 output, cached share 1,000 / 2,000 = 0.5
    # 620,000 requests: input 310,000,000, of which cached 155,000,000
    # full rate 155,000,000 × 0.15 / 1e6 = 23.25; cached 155,000,000 × 0.075 / 1e6 = 11.625
    # output 620,000 × 150 = 93,000,000 × 0.60 / 1e6 = 55.8;  total = 90.675
    assert budget.total == Decimal("90.675")
    assert any("the mean measured over 4 requests" in a for a in budget.assumptions)
    assert any("cached input share = 0.5" in a for a in budget.assumptions)
    assert not any("30 days" in a for a in budget.assumptions)


def test_budget_from_tokens_per_month_with_reasoning_and_cache() -> None:
    pricing = _api(
        per_1m_input_tokens="1",
        per_1m_output_tokens="4",
        per_1m_cached_input_tokens="0.25",
        per_1m_reasoning_tokens="6",
    )
    workload = Workload(
        input_tokens_per_month=Decimal(10_000_000),
        output_tokens_per_month=Decimal(2_000_000),
        reasoning_tokens_per_month=Decimal(500_000),
        cached_input_share=Decimal("0.2"),
    )
    budget = monthly_budget(pricing, workload)
    # input: 8,000,000 × 1 / 1e6 = 8; cached 2,000,000 × 0.25 / 1e6 = 0.5
    # output: 1,500,000 × 4 / 1e6 = 6; reasoning 500,000 × 6 / 1e6 = 3; total 17.5
    assert budget.total == Decimal("17.5")
    assert budget.requests_per_month is None


def test_budget_needs_requests_when_priced_per_request() -> None:
    pricing = _api(per_request="0.001", per_1m_input_tokens="1")
    tokens_only = Workload(
        input_tokens_per_month=Decimal(1_000_000), output_tokens_per_month=Decimal(0)
    )
    with pytest.raises(SpecError) as caught:
        monthly_budget(pricing, tokens_only)
    assert caught.value.field == "economics.workload.requests_per_month"
    # 1,000,000 × 1 / 1e6 = 1; 50,000 requests × 0.001 = 50; total 51
    with_requests = tokens_only.model_copy(update={"requests_per_month": Decimal(50_000)})
    assert monthly_budget(pricing, with_requests).total == Decimal(51)


def test_budget_per_second_uses_the_measured_duration() -> None:
    pricing = _api(per_second="0.0014")
    measured = TokenMeans(
        requests=2, input_tokens=Decimal(100), output_tokens=Decimal(10), seconds=Decimal("1.5")
    )
    workload = Workload(requests_per_day=Decimal(1000))
    # 30,000 requests × 1.5 s = 45,000 s × 0.0014 = 63
    assert monthly_budget(pricing, workload, measured).total == Decimal(63)
    no_duration = measured.model_copy(update={"seconds": None})
    with pytest.raises(SpecError, match="no request duration"):
        monthly_budget(pricing, workload, no_duration)


def test_budget_without_tokens_or_measurements_names_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        monthly_budget(MINI, Workload(requests_per_day=Decimal(10)))
    assert caught.value.field == "economics.workload.input_tokens_per_request"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "missing: input_tokens_per_month, output_tokens_per_month"),
        ({"requests_per_day": 5, "output_tokens_per_month": 5}, "not both"),
        ({"input_tokens_per_request": 5}, "needs requests_per_day"),
        (
            {
                "requests_per_day": 5,
                "output_tokens_per_request": 5,
                "reasoning_tokens_per_request": 6,
            },
            "cannot exceed",
        ),
        ({"requests_per_day": 5, "cached_input_share": 1.5}, "cached_input_share"),
        ({"requests_per_day": 5, "days_per_month": 40}, "days_per_month"),
        ({"requests_per_day": 0}, "requests_per_day"),
        ({"requests_per_day": 5, "tokens": 5}, "tokens"),
    ],
)
def test_workload_errors_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Workload.model_validate(data)


def test_budget_limit() -> None:
    workload = Workload(
        requests_per_day=Decimal(20_000),
        input_tokens_per_request=Decimal(500),
        output_tokens_per_request=Decimal(150),
    )
    budget = monthly_budget(MINI, workload)  # 99 USD, as above
    within = check_budget_limit(budget, Decimal(100), "usd")
    assert (within.within_budget, within.limit) == (True, Decimal(100))
    assert within.explanation[-1] == (
        "99 USD ≤ 100 USD monthly budget: within the budget, 1 USD to spare"
    )
    assert check_budget_limit(budget, Decimal(99), "USD").within_budget is True  # ≤, not <
    over = check_budget_limit(budget, Decimal("80.50"), "USD")
    assert over.within_budget is False
    assert over.explanation[-1].endswith("over the budget by 18.5 USD")  # 99 − 80.50
    with pytest.raises(CurrencyMismatchError):
        check_budget_limit(budget, Decimal(100), "EUR")


# --- break-even -------------------------------------------------------------------------------

GPU = InstancePricing(price_per_hour=Decimal("2.50"), currency="USD", utilisation=0.5)


def test_break_even_within_capacity() -> None:
    result = break_even(Decimal("0.001"), "USD", GPU, throughput_rps=10.0)
    # fixed: 2.50 × 1 × 30 days × 24 h = 2.50 × 720 = 1,800 per month
    # capacity: 10 req/s × 3600 × 720 h × 0.5 = 12,960,000 requests per month
    # at capacity: 1,800 / 12,960,000 = 0.000138888… -> 0.000138889
    # break-even: 1,800 / 0.001 = 1,800,000 requests per month (< capacity)
    assert result.fixed_monthly_cost == Decimal(1800)
    assert result.capacity_requests_per_month == Decimal(12_960_000)
    assert result.self_hosted_cost_per_request_at_capacity == Decimal("0.000138889")
    assert result.break_even_requests_per_month == Decimal(1_800_000)
    assert result.self_hosting_can_win is True
    assert (
        "fixed monthly cost = 2.50 USD/h × 1 instance × 30 days × 24 h = 1800 USD"
        in result.explanation
    )
    assert any("break-even = 1800 USD / 0.001 USD" in line for line in result.explanation)


def test_break_even_at_a_declared_volume_needs_enough_deployments() -> None:
    result = break_even(
        Decimal("0.001"), "USD", GPU, throughput_rps=10.0, monthly_requests=Decimal(20_000_000)
    )
    # 20,000,000 / 12,960,000 = 1.54 -> 2 deployments × 1,800 = 3,600
    # API: 20,000,000 × 0.001 = 20,000 -> self-hosting costs less
    assert result.deployments_needed == 2
    assert result.self_hosted_monthly_cost == Decimal(3600)
    assert result.api_monthly_cost == Decimal(20_000)
    assert result.cheaper == "self_hosted"
    small = break_even(
        Decimal("0.001"), "USD", GPU, throughput_rps=10.0, monthly_requests=Decimal(1_000_000)
    )
    # 1 deployment: 1,800 against 1,000,000 × 0.001 = 1,000 -> the API costs less
    assert (small.deployments_needed, small.cheaper) == (1, "api")


def test_break_even_beyond_capacity_never_pays() -> None:
    result = break_even(Decimal("0.0001"), "usd", GPU, throughput_rps=10.0)
    # break-even 1,800 / 0.0001 = 18,000,000 > capacity 12,960,000: more instances would be
    # needed, and 0.000138889 per request at full use stays above the API's 0.0001
    assert result.break_even_requests_per_month == Decimal(18_000_000)
    assert result.self_hosting_can_win is False
    assert "beyond the capacity" in result.explanation[-1]


def test_break_even_refuses_mixed_currencies_and_bad_throughput() -> None:
    with pytest.raises(CurrencyMismatchError):
        break_even(Decimal("0.001"), "EUR", GPU, throughput_rps=10.0)
    with pytest.raises(ValueError, match="throughput_rps"):
        break_even(Decimal("0.001"), "USD", GPU, throughput_rps=0.0)
    free = break_even(Decimal(0), "USD", GPU, throughput_rps=10.0)
    assert free.break_even_requests_per_month is None
    assert free.self_hosting_can_win is False
