"""Cost per 1,000 requests: exact Decimal values for hand-computed cases."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from modelmeter._money import format_money
from modelmeter.economics import (
    CurrencyMismatchError,
    cost_per_1000_requests,
    ensure_single_currency,
)
from modelmeter.spec.pricing import ApiPricing, InstancePricing


def _instance(**kwargs: object) -> InstancePricing:
    fields: dict[str, object] = {"price_per_hour": "1.20", "currency": "EUR"}
    fields.update(kwargs)
    return InstancePricing.model_validate(fields)


def test_instance_cost_hand_computed() -> None:
    # 3.60 EUR/h / (100 req/s × 3600 s/h × 1.0) × 1000 = 3.6 × 1000 / 360000 = 0.01
    result = cost_per_1000_requests(
        _instance(price_per_hour="3.60"), throughput_rps=100.0, within_sla=True, requests=500
    )
    assert result.per_1000_requests == Decimal("0.01")
    assert result.basis == "instance"
    assert result.currency == "EUR"
    assert result.throughput_basis_rps == 100.0
    assert result.within_sla is True
    assert "3.60 EUR/h × 1 instance / (100 req/s × 3600 s/h × 1 utilisation) × 1000" in (
        result.explanation
    )
    assert "0.01 EUR per 1,000 requests" in result.explanation
    assert "within the SLA" in result.explanation


def test_instance_cost_uses_instances_and_utilisation() -> None:
    # 2 × 0.90 EUR/h / (40 req/s × 3600 × 0.5) × 1000 = 1.8 × 1000 / 72000 = 0.025
    result = cost_per_1000_requests(
        _instance(price_per_hour="0.90", instances=2, utilisation=0.5),
        throughput_rps=40.0,
        within_sla=True,
        requests=100,
    )
    assert result.per_1000_requests == Decimal("0.025")
    assert "× 2 instances" in result.explanation
    assert "0.5 utilisation" in result.explanation


def test_instance_cost_keeps_six_significant_digits() -> None:
    # 1.2 × 1000 / (450 × 3600 × 0.6) = 1200 / 972000 = 0.001234567901...
    result = cost_per_1000_requests(
        _instance(utilisation=0.6), throughput_rps=450.0, within_sla=None, requests=10
    )
    assert result.per_1000_requests == Decimal("0.00123457")
    assert str(result.per_1000_requests) == "0.00123457"
    assert "0.00123 EUR per 1,000 requests" in result.explanation  # display: 3 significant
    assert "not checked against an SLA" in result.explanation


def test_large_costs_keep_cents() -> None:
    # 1000 EUR/h at 0.01 req/s: 1000 × 1000 / 36 = 27777.777... -> 27777.78
    result = cost_per_1000_requests(
        _instance(price_per_hour="1000"), throughput_rps=0.01, within_sla=True, requests=1
    )
    assert result.per_1000_requests == Decimal("27777.78")


def test_throughput_beyond_the_sla_is_flagged_as_optimistic() -> None:
    result = cost_per_1000_requests(
        _instance(), throughput_rps=100.0, within_sla=False, requests=10
    )
    assert result.within_sla is False
    assert "beyond the SLA" in result.explanation


@pytest.mark.parametrize("throughput", [None, 0.0, -3.0, float("nan"), float("inf")])
def test_instance_cost_without_a_usable_throughput_is_unknown(throughput: float | None) -> None:
    result = cost_per_1000_requests(
        _instance(), throughput_rps=throughput, within_sla=None, requests=10
    )
    assert result.per_1000_requests is None
    assert result.basis == "instance"
    assert "positive throughput" in result.explanation


def test_api_cost_hand_computed() -> None:
    # per request 0.0001 + 200 in × 0.15/1M + 50 out × 0.60/1M = 0.0001 + 0.00003 + 0.00003
    # = 0.00016 per request -> 0.16 per 1,000
    pricing = ApiPricing(
        currency="usd",
        per_request=Decimal("0.0001"),
        per_1m_input_tokens=Decimal("0.15"),
        per_1m_output_tokens=Decimal("0.60"),
    )
    result = cost_per_1000_requests(
        pricing,
        throughput_rps=12.0,
        within_sla=True,
        requests=100,
        input_tokens=20_000,
        output_tokens=5_000,
    )
    assert result.per_1000_requests == Decimal("0.16")
    assert result.currency == "USD"
    assert result.basis == "api"
    assert result.within_sla is None  # throughput plays no part in API cost
    assert "200 input tokens × 0.15 USD/1M" in result.explanation
    assert "50 output tokens × 0.60 USD/1M" in result.explanation
    assert "over 100 requests" in result.explanation


def test_api_cost_with_fractional_token_means() -> None:
    # 7 input tokens over 3 requests at 3 USD/1M: 1000 × 7/3 × 3/1e6 = 0.007
    pricing = ApiPricing(currency="USD", per_1m_input_tokens=Decimal(3))
    result = cost_per_1000_requests(
        pricing, throughput_rps=None, within_sla=None, requests=3, input_tokens=7
    )
    assert result.per_1000_requests == Decimal("0.007")


def test_api_per_request_only_needs_no_tokens() -> None:
    pricing = ApiPricing(currency="EUR", per_request=Decimal("0.002"))
    result = cost_per_1000_requests(pricing, throughput_rps=None, within_sla=None, requests=0)
    assert result.per_1000_requests == Decimal("2")


def test_api_unknown_token_counts_make_the_cost_unknown() -> None:
    pricing = ApiPricing(
        currency="USD", per_1m_input_tokens=Decimal("1"), per_1m_output_tokens=Decimal("2")
    )
    result = cost_per_1000_requests(
        pricing, throughput_rps=None, within_sla=None, requests=10, input_tokens=100
    )
    assert result.per_1000_requests is None
    assert "Output tokens are priced but their counts are unknown" in result.explanation


def test_api_unpriced_unknown_tokens_do_not_matter() -> None:
    pricing = ApiPricing(currency="USD", per_1m_input_tokens=Decimal("1"))
    result = cost_per_1000_requests(
        pricing, throughput_rps=None, within_sla=None, requests=10, input_tokens=1_000
    )
    # 1000 × 100 × 1 / 1e6 = 0.1
    assert result.per_1000_requests == Decimal("0.1")


def test_api_tokens_need_requests_to_average_over() -> None:
    pricing = ApiPricing(currency="USD", per_1m_input_tokens=Decimal("1"))
    result = cost_per_1000_requests(
        pricing, throughput_rps=None, within_sla=None, requests=0, input_tokens=0
    )
    assert result.per_1000_requests is None
    assert "no requests" in result.explanation


def test_no_pricing() -> None:
    result = cost_per_1000_requests(None, throughput_rps=10.0, within_sla=True, requests=10)
    assert result.basis == "none"
    assert result.per_1000_requests is None
    assert result.currency == ""
    assert "No pricing" in result.explanation


def test_the_callers_decimal_context_does_not_change_the_figures() -> None:
    with localcontext() as context:
        context.prec = 3
        result = cost_per_1000_requests(
            _instance(utilisation=0.6), throughput_rps=450.0, within_sla=None, requests=10
        )
    assert result.per_1000_requests == Decimal("0.00123457")


def test_money_serialises_to_a_json_number() -> None:
    result = cost_per_1000_requests(
        _instance(price_per_hour="3.60"), throughput_rps=100.0, within_sla=True, requests=5
    )
    assert '"per_1000_requests":0.01' in result.model_dump_json()


def test_ensure_single_currency() -> None:
    assert ensure_single_currency({"a": "EUR", "b": "EUR", "c": ""}) == "EUR"
    assert ensure_single_currency({"a": ""}) is None
    assert ensure_single_currency({}) is None
    with pytest.raises(CurrencyMismatchError, match=r"EUR: a, c; USD: b") as caught:
        ensure_single_currency({"a": "EUR", "b": "USD", "c": "EUR"})
    assert caught.value.currencies == {"EUR": ["a", "c"], "USD": ["b"]}
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0.08", "0.08 EUR"),
        ("0.1", "0.10 EUR"),
        ("0.00123457", "0.00123 EUR"),
        ("12.3456", "12.35 EUR"),
        ("1234.5", "1,234.50 EUR"),
        ("0", "0.00 EUR"),
    ],
)
def test_format_money(amount: str, text: str) -> None:
    assert format_money(Decimal(amount), "EUR") == text
