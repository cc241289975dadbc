"""Capacity plans: replicas, utilisation, HPA range and monthly cost, every figure by hand."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from modelmeter.production import PlanError, plan_capacity
from modelmeter.results import CapacityPlan
from modelmeter.spec.production import CapacitySpec


def _plan(**overrides: object) -> CapacityPlan:
    arguments: dict[str, object] = {
        "source": "sla_search",
        "peak_rps": 200.0,
        "price_per_hour": Decimal("2.50"),
        "currency": "EUR",
    }
    arguments.update(overrides)
    per_replica = arguments.pop("per_replica_rps", 120.0)
    return plan_capacity(per_replica, **arguments)  # type: ignore[arg-type]


def test_worked_example_every_figure() -> None:
    plan = _plan(average_rps=60.0)
    # replicas = ceil(200 × 1.3 / 120) = ceil(260 / 120) = ceil(2.1667) = 3 (above min 2)
    assert plan.replicas_for_peak == 3
    assert plan.replicas == 3
    assert plan.max_replicas == 3  # no max declared: the replicas the peak needs
    # utilisation at peak = 200 / (3 × 120) = 200 / 360 = 0.5556
    assert plan.utilisation_at_peak == pytest.approx(200 / 360)
    # HPA target = 120 × 0.7 = 84 req/s per replica; at peak ceil(200 / 84) = ceil(2.38) = 3
    assert plan.hpa_target_rps == 84.0
    assert plan.hpa_replicas_at_peak == 3
    # at average: ceil(60 / 84) = 1, raised to min 2; utilisation 60 / (2 × 120) = 0.25
    assert plan.replicas_at_average == 2
    assert plan.utilisation_at_average == 0.25
    # monthly cost = 3 × 2.50 × 730 = 5475.00; at average 2 × 2.50 × 730 = 3650.00
    assert plan.monthly_cost == Decimal("5475.00")
    assert plan.monthly_cost_at_average == Decimal("3650.00")
    assert plan.currency == "EUR"
    assert plan.explanation == [
        "per-replica capacity = 120 req/s: the highest arrival rate that met the SLA in the "
        "SLA search",
        "replicas for peak = ceil(200 req/s × (1 + 0.3 headroom) / 120 req/s) = ceil(2.16667) = 3",
        "utilisation at peak = 200 / (3 × 120) = 55.6%",
        "HPA target = 120 req/s × 0.7 target utilisation = 84 req/s per replica, between 2 "
        "and 3 replicas; at peak it asks for ceil(200 / 84) = 3",
        "replicas at average load = min(3, max(min_replicas 2, ceil(60 req/s / 84 req/s))) = "
        "min(3, max(2, 1)) = 2, at 25.0% utilisation",
        "monthly cost at peak provisioning = 3 replicas × 2.50 EUR/h × 730 h = 5,475.00 EUR",
        "monthly cost autoscaled at average load = 2 replicas × 2.50 EUR/h × 730 h = "
        "3,650.00 EUR (load that stays near its average; HPA lag and daily peaks add to it)",
    ]


def test_peak_below_one_replica_keeps_min_replicas() -> None:
    plan = _plan(per_replica_rps=500.0, peak_rps=100.0)
    # ceil(100 × 1.3 / 500) = ceil(0.26) = 1, raised to min_replicas 2
    assert plan.replicas_for_peak == 1
    assert plan.replicas == 2
    # utilisation = 100 / (2 × 500) = 0.1
    assert plan.utilisation_at_peak == pytest.approx(0.1)
    # 2 × 2.50 × 730 = 3650.00
    assert plan.monthly_cost == Decimal("3650.00")
    assert any("max(1, min_replicas 2) = 2" in line for line in plan.explanation)


def test_headroom_zero_sizes_for_the_peak_exactly() -> None:
    plan = _plan(per_replica_rps=100.0, peak_rps=300.0, headroom=0.0, min_replicas=1)
    # ceil(300 × 1 / 100) = 3, and at peak each replica runs at 300 / 300 = 100%
    assert plan.replicas == 3
    assert plan.utilisation_at_peak == 1.0


def test_no_binary_float_error_in_the_replica_count() -> None:
    # In floats 100 × 1.1 / 110 = 1.0000000000000002, whose ceiling is 2; exactly it is 1.
    assert math.ceil(100 * (1 + 0.1) / 110) == 2
    plan = _plan(per_replica_rps=110.0, peak_rps=100.0, headroom=0.1, min_replicas=1)
    assert plan.replicas == 1


def test_hpa_held_at_max_replicas_says_so() -> None:
    plan = _plan(headroom=0.1)
    # replicas = ceil(200 × 1.1 / 120) = ceil(1.833) = 2; HPA at peak ceil(200 / 84) = 3 > 2,
    # so it stops at 2 where each replica runs at 200 / 240 = 83.3%
    assert plan.replicas == 2
    assert plan.max_replicas == 2
    assert plan.hpa_replicas_at_peak == 3
    assert any("is held at max_replicas 2" in line and "83.3%" in line for line in plan.explanation)


def test_declared_max_replicas_is_the_hpa_ceiling() -> None:
    plan = _plan(max_replicas=6, average_rps=200.0)
    assert plan.max_replicas == 6
    # at average = peak: ceil(200 / 84) = 3 replicas, within [2, 6]; 3 × 2.50 × 730 = 5475.00
    assert plan.replicas_at_average == 3
    assert plan.monthly_cost_at_average == Decimal("5475.00")


def test_max_replicas_below_the_peak_need_is_refused() -> None:
    with pytest.raises(PlanError, match=r"max_replicas: 2 is fewer than the 3 replicas") as error:
        _plan(max_replicas=2)
    assert error.value.argument == "max_replicas"


def test_no_price_gives_no_amounts_and_says_so() -> None:
    plan = _plan(price_per_hour=None, currency=None, average_rps=50.0)
    assert plan.monthly_cost is None
    assert plan.monthly_cost_at_average is None
    assert plan.currency is None
    assert plan.price_per_hour is None
    assert plan.replicas == 3  # sizing does not need a price
    assert (
        plan.explanation[-1] == "no price per hour was given, so the monthly cost is not computed"
    )


def test_price_needs_a_valid_currency() -> None:
    with pytest.raises(PlanError, match="currency: a price per hour needs its ISO 4217"):
        _plan(currency=None)
    with pytest.raises(PlanError, match="currency: currency must be a 3-letter ISO 4217 code"):
        _plan(currency="euro")
    assert _plan(currency="usd").currency == "USD"


def test_float_price_is_refused() -> None:
    with pytest.raises(PlanError, match="price_per_hour: must be a positive Decimal"):
        _plan(price_per_hour=2.5)


def test_throughput_source_is_named_as_optimistic() -> None:
    plan = _plan(source="throughput")
    assert plan.source == "throughput"
    assert "without an SLA check" in plan.explanation[0]
    assert "optimistic" in plan.explanation[0]
    with pytest.raises(PlanError, match="source: must be 'sla_search' or 'throughput'"):
        _plan(source="guess")


@pytest.mark.parametrize("capacity", [0.0, -5.0, math.nan, math.inf])
def test_no_capacity_is_refused(capacity: float) -> None:
    with pytest.raises(PlanError, match="per_replica_rps: must be a positive number") as error:
        _plan(per_replica_rps=capacity)
    assert "no rate met the SLA" in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"peak_rps": 0.0}, "peak_rps: must be a positive number"),
        ({"headroom": -0.1}, "headroom: must be 0 or more"),
        ({"target_utilisation": 0.0}, "target_utilisation: must be above 0"),
        ({"target_utilisation": 1.5}, "target_utilisation: must be above 0"),
        ({"min_replicas": 0}, "min_replicas: must be a whole number of at least 1"),
        ({"average_rps": 250.0}, r"average_rps: 250 req/s cannot exceed peak_rps \(200"),
        ({"hours_per_month": 0}, "hours_per_month: must be a positive number"),
    ],
)
def test_out_of_range_figures_name_the_argument(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        _plan(**overrides)


def test_hours_per_month_of_a_31_day_month() -> None:
    # 3 × 2.50 × 744 = 5580.00
    assert _plan(hours_per_month=Decimal(744)).monthly_cost == Decimal("5580.00")


def test_plan_serialises_money_as_numbers() -> None:
    dumped = json.loads(_plan().model_dump_json())
    assert dumped["monthly_cost"] == 5475.0
    assert dumped["price_per_hour"] == 2.5
    assert dumped["hours_per_month"] == 730.0
    assert CapacityPlan.model_validate(dumped).replicas == 3


def test_capacity_spec_defaults_and_round_trip() -> None:
    spec = CapacitySpec.model_validate({"peak_rps": 200})
    assert spec.headroom == 0.3
    assert spec.min_replicas == 2
    assert spec.max_replicas is None
    assert spec.target_utilisation == 0.7
    assert spec.hours_per_month == Decimal(730)
    assert spec.container_port == 8000
    assert (spec.cpu, spec.memory) == ("1", "1Gi")
    for name, field in CapacitySpec.model_fields.items():
        assert field.description, f"{name} has no description"


@pytest.mark.parametrize(
    ("fields", "location", "message"),
    [
        ({"peak_rps": 0}, ("peak_rps",), "greater than 0"),
        ({"peak_rps": 10, "cpu": "1 core"}, ("cpu",), "positive Kubernetes quantity"),
        ({"peak_rps": 10, "memory": "-1Gi"}, ("memory",), "positive Kubernetes quantity"),
        ({"peak_rps": 10, "average_rps": 20}, (), "average_rps (20) cannot exceed peak_rps"),
        ({"peak_rps": 10, "min_replicas": 3, "max_replicas": 2}, (), "max_replicas (2)"),
        ({"peak_rps": 10, "image": "my image"}, ("image",), "without spaces"),
        ({"peak_rps": 10, "replicas": 3}, ("replicas",), "Extra inputs are not permitted"),
        ({"peak_rps": 10, "container_port": 70000}, ("container_port",), "less than or equal"),
    ],
)
def test_capacity_spec_errors_name_the_field(
    fields: dict[str, object], location: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        CapacitySpec.model_validate(fields)
    first = error.value.errors()[0]
    assert first["loc"] == location
    assert message in first["msg"]


def test_every_spec_field_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "capacity.md").read_text("utf-8")
    for name in CapacitySpec.model_fields:
        assert f"| `{name}` |" in doc, f"docs/capacity.md has no row for capacity.{name}"
