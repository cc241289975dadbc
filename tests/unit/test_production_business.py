"""The business case: value of the lift, net benefit, ROI and payback, with the lift's interval."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from modelmeter.economics import CurrencyMismatchError
from modelmeter.production import PlanError, business_case
from modelmeter.results import BusinessCase
from modelmeter.spec.production import BusinessSpec


def _case(**overrides: Any) -> BusinessCase:
    arguments: dict[str, Any] = {
        "value_per_correct": Decimal("0.10"),
        "currency": "EUR",
        "monthly_requests": 1_000_000,
        "baseline_accuracy": 0.82,
        "candidate_accuracy": 0.87,
        "lift_interval": (0.02, 0.08),
        "monthly_cost_baseline": Decimal("1825"),
        "monthly_cost_candidate": Decimal("3650"),
        "one_off_cost": Decimal("10000"),
        "baseline": "small",
        "candidate": "large",
    }
    arguments.update(overrides)
    return business_case(**arguments)


def test_worked_example_every_figure() -> None:
    case = _case()
    expected = case.expected
    # lift = 0.87 − 0.82 = 0.05; extra correct = 0.05 × 1,000,000 = 50,000
    assert expected.lift == pytest.approx(0.05)
    assert expected.extra_per_month == Decimal(50000)
    # value = 50,000 × 0.10 = 5,000; extra cost = 3,650 − 1,825 = 1,825; net = 3,175
    assert expected.monthly_value == Decimal("5000.00")
    assert case.extra_monthly_cost == Decimal(1825)
    assert expected.net_monthly_benefit == Decimal("3175.00")
    # over 12 months: gain = 3,175 × 12 − 10,000 = 38,100 − 10,000 = 28,100
    # ROI = 28,100 / (10,000 + 1,825 × 12) = 28,100 / 31,900 = 0.8808777 -> 0.880878
    assert expected.net_gain_over_horizon == Decimal("28100.00")
    assert expected.roi == Decimal("0.880878")
    # payback = 10,000 / 3,175 = 3.1496063 -> 3.14961 months
    assert expected.payback_months == Decimal("3.14961")
    # at lift 0.02: value 2,000, net 175, ROI (2,100 − 10,000) / 31,900 = −0.2476489,
    # payback 10,000 / 175 = 57.142857
    low = case.at_lift_low
    assert low is not None
    assert low.monthly_value == Decimal("2000.00")
    assert low.net_monthly_benefit == Decimal("175.00")
    assert low.roi == Decimal("-0.247649")
    assert low.payback_months == Decimal("57.1429")
    # at lift 0.08: value 8,000, net 6,175, ROI (74,100 − 10,000) / 31,900 = 2.0094044,
    # payback 10,000 / 6,175 = 1.6194332
    high = case.at_lift_high
    assert high is not None
    assert high.monthly_value == Decimal("8000.00")
    assert high.net_monthly_benefit == Decimal("6175.00")
    assert high.roi == Decimal("2.00940")
    assert high.payback_months == Decimal("1.61943")
    assert case.gain_established is True
    assert case.lift_interval_method == "paired difference"
    assert (case.lift_low, case.lift_high) == (0.02, 0.08)
    assert case.explanation[:9] == [
        "lift = large 0.87 − small 0.82 = 0.05 (+5.0 points)",
        "lift interval (95%) = [0.02, 0.08]: the interval of the paired difference (both "
        "models graded on the same items)",
        "extra monthly cost = large 3,650.00 EUR − small 1,825.00 EUR = 1,825.00 EUR",
        "extra correct answers per month = 0.05 × 1,000,000 requests = 50,000",
        "monthly value = 50,000 × 0.10 EUR = 5,000.00 EUR",
        "net monthly benefit = 5,000.00 EUR − 1,825.00 EUR = 3,175.00 EUR",
        "ROI over 12 months = (3,175.00 EUR × 12 − 10,000.00 EUR) / (10,000.00 EUR + "
        "1,825.00 EUR × 12) = 28,100.00 EUR / 31,900.00 EUR = 88.1%",
        "payback = 10,000.00 EUR / 3,175.00 EUR per month = 3.15 months",
        "the interval of the lift carried through: at lift 0.02, monthly value 2,000.00 EUR, "
        "net monthly benefit 175.00 EUR, ROI over 12 months -24.8%, payback 57.14 months; at "
        "lift 0.08, monthly value 8,000.00 EUR, net monthly benefit 6,175.00 EUR, ROI over "
        "12 months 200.9%, payback 1.62 months",
    ]
    assert (
        case.explanation[-1]
        == "the lift's interval lies above 0, so the gain is established at 95%"
    )


def test_interval_from_two_accuracy_intervals_by_mover() -> None:
    case = _case(
        candidate_accuracy=0.84,
        lift_interval=None,
        baseline_interval=(0.80, 0.84),
        candidate_interval=(0.82, 0.86),
    )
    # lift = 0.84 − 0.82 = 0.02; low = 0.02 − √(0.02² + 0.02²) = 0.02 − 0.0282843 = −0.0082843
    # high = 0.02 + √(0.02² + 0.02²) = 0.0482843
    assert case.lift_low == pytest.approx(-0.00828427, abs=1e-8)
    assert case.lift_high == pytest.approx(0.04828427, abs=1e-8)
    assert case.lift_interval_method == "MOVER from the two accuracy intervals"
    assert case.gain_established is False
    assert any("assumes independent samples" in line for line in case.explanation)
    assert any("includes 0, so the gain is not established" in line for line in case.explanation)
    # at the low end the value is negative: −0.0082843 × 1,000,000 × 0.10 = −828.43,
    # net −828.43 − 1,825 = −2,653.43, so never paid back
    low = case.at_lift_low
    assert low is not None
    assert low.monthly_value == Decimal("-828.427")
    assert low.payback_months is None


def test_mover_with_asymmetric_intervals() -> None:
    case = _case(
        baseline_accuracy=0.5,
        candidate_accuracy=0.6,
        lift_interval=None,
        baseline_interval=(0.47, 0.54),
        candidate_interval=(0.56, 0.63),
    )
    # low = 0.1 − √((0.6 − 0.56)² + (0.54 − 0.5)²) = 0.1 − √(0.0016 + 0.0016) = 0.1 − 0.0565685
    # high = 0.1 + √((0.63 − 0.6)² + (0.5 − 0.47)²) = 0.1 + √(0.0009 + 0.0009) = 0.1 + 0.0424264
    assert case.lift_low == pytest.approx(0.0434315, abs=1e-7)
    assert case.lift_high == pytest.approx(0.1424264, abs=1e-7)
    assert case.gain_established is True


def test_zero_lift_is_never_paid_back() -> None:
    case = _case(candidate_accuracy=0.82, lift_interval=(-0.01, 0.01))
    figures = case.expected
    # value 0; net = 0 − 1,825 = −1,825; ROI = (−1,825 × 12 − 10,000) / 31,900 = −31,900 / 31,900
    assert figures.monthly_value == Decimal(0)
    assert figures.net_monthly_benefit == Decimal("-1825.00")
    assert figures.roi == Decimal("-1.00")
    assert figures.payback_months is None
    assert "payback: never, as the net monthly benefit is not positive" in case.explanation
    assert case.gain_established is False


def test_negative_lift_says_the_candidate_is_worse() -> None:
    case = _case(candidate_accuracy=0.79, lift_interval=(-0.05, -0.01))
    # lift = 0.79 − 0.82 = −0.03; value = −30,000 × 0.10 = −3,000; net = −3,000 − 1,825 = −4,825
    assert case.expected.monthly_value == Decimal("-3000.00")
    assert case.expected.net_monthly_benefit == Decimal("-4825.00")
    assert case.gain_established is False
    assert any("lies below 0: large is worse than small" in line for line in case.explanation)
    assert case.explanation[0] == "lift = large 0.79 − small 0.82 = -0.03 (-3.0 points)"


def test_cheaper_candidate_without_one_off_has_no_roi() -> None:
    case = _case(monthly_cost_candidate=Decimal("1000"), one_off_cost=Decimal(0))
    figures = case.expected
    # extra cost = 1,000 − 1,825 = −825; net = 5,000 + 825 = 5,825; invested = 0 − 825 × 12 < 0
    assert case.extra_monthly_cost == Decimal(-825)
    assert figures.net_monthly_benefit == Decimal("5825.00")
    assert figures.roi is None
    # gain = 5,825 × 12 − 0 = 69,900; payback = 0 / 5,825 = 0 months
    assert figures.net_gain_over_horizon == Decimal("69900.00")
    assert figures.payback_months == Decimal(0)
    assert any(
        "ROI over 12 months: not defined, as nothing is invested" in x for x in case.explanation
    )


def test_horizon_changes_roi() -> None:
    case = _case(horizon_months=24)
    # ROI = (3,175 × 24 − 10,000) / (10,000 + 1,825 × 24) = 66,200 / 53,800 = 1.2304833
    assert case.expected.roi == Decimal("1.23048")


def test_unknown_cost_leaves_benefit_unknown() -> None:
    case = _case(monthly_cost_candidate=None)
    assert case.extra_monthly_cost is None
    assert case.expected.monthly_value == Decimal("5000.00")
    assert case.expected.net_monthly_benefit is None
    assert case.expected.roi is None
    assert case.expected.payback_months is None
    assert any("monthly cost of large is unknown (no price)" in x for x in case.explanation)


def test_no_interval_means_not_known() -> None:
    case = _case(lift_interval=None)
    assert case.gain_established is None
    assert case.at_lift_low is None and case.at_lift_high is None
    assert case.lift_low is None and case.interval_level is None
    assert any("whether the gain is real is not known" in x for x in case.explanation)


def test_conversions_are_named() -> None:
    case = _case(value_per="conversion")
    assert any(x.startswith("extra conversions per month") for x in case.explanation)


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(CurrencyMismatchError) as error:
        _case(candidate_cost_currency="USD")
    assert error.value.currencies == {
        "EUR": ["value_per_correct"],
        "USD": ["monthly cost of large"],
    }
    # the same currency, however spelled, is fine
    assert _case(currency="eur", baseline_cost_currency="EUR").currency == "EUR"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"value_per_correct": 0.1}, "value_per_correct: must be a Decimal amount"),
        ({"value_per_correct": Decimal(0)}, "value_per_correct: must be above 0"),
        ({"monthly_requests": -1}, "monthly_requests: must be 0 or more"),
        ({"one_off_cost": Decimal(-5)}, "one_off_cost: must be 0 or more"),
        ({"monthly_cost_baseline": 1825.0}, "monthly_cost_baseline: must be a Decimal amount"),
        ({"baseline_accuracy": 82}, "baseline_accuracy: must be between 0 and 1"),
        ({"candidate_accuracy": float("nan")}, "candidate_accuracy: must be a number"),
        ({"lift_interval": (0.08, 0.02)}, "lift_interval: low end 0.08 is above high end 0.02"),
        ({"lift_interval": (-2.0, 0.1)}, "lift_interval[0]: must be between -1 and 1"),
        ({"lift_interval": (0.1,)}, "lift_interval: must be a (low, high) pair"),
        ({"horizon_months": 0}, "horizon_months: must be a whole number of months"),
        ({"currency": "euros"}, "currency: currency must be a 3-letter ISO 4217 code"),
        ({"interval_level": 95}, "interval_level: must be between 0 and 1"),
    ],
)
def test_bad_figures_name_the_argument(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=re.escape(message)):
        _case(**overrides)


def test_case_serialises_money_as_numbers() -> None:
    dumped = json.loads(_case().model_dump_json())
    assert dumped["expected"]["monthly_value"] == 5000.0
    assert dumped["expected"]["roi"] == 0.880878
    assert BusinessCase.model_validate(dumped).expected.payback_months == Decimal("3.14961")


def test_business_spec() -> None:
    spec = BusinessSpec.model_validate(
        {"value_per_correct": "0.10", "currency": "eur", "monthly_requests": 1000000}
    )
    assert spec.currency == "EUR"
    assert spec.value_per_correct == Decimal("0.10")
    assert (spec.one_off_cost, spec.horizon_months, spec.value_per) == (Decimal(0), 12, "correct")
    assert spec.baseline is None
    for name, field in BusinessSpec.model_fields.items():
        assert field.description, f"{name} has no description"


@pytest.mark.parametrize(
    ("fields", "location", "message"),
    [
        ({"value_per_correct": 0}, ("value_per_correct",), "greater than 0"),
        ({"currency": "euro"}, ("currency",), "3-letter ISO 4217"),
        ({"monthly_requests": 0}, ("monthly_requests",), "greater than 0"),
        ({"horizon_months": 0}, ("horizon_months",), "greater than or equal to 1"),
        ({"value_per": "click"}, ("value_per",), "'correct' or 'conversion'"),
        ({"roi": 3}, ("roi",), "Extra inputs are not permitted"),
    ],
)
def test_business_spec_errors_name_the_field(
    fields: dict[str, Any], location: tuple[str, ...], message: str
) -> None:
    base: dict[str, Any] = {"value_per_correct": "0.10", "currency": "EUR", "monthly_requests": 10}
    with pytest.raises(ValidationError) as error:
        BusinessSpec.model_validate({**base, **fields})
    first = error.value.errors()[0]
    assert first["loc"] == location
    assert message in first["msg"]


def test_every_spec_field_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "capacity.md").read_text("utf-8")
    for name in BusinessSpec.model_fields:
        assert f"| `{name}` |" in doc, f"docs/capacity.md has no row for business.{name}"
