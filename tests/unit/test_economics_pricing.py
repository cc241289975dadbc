"""Pricing models as they appear in a YAML spec."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

import modelmeter.economics as economics
from modelmeter.spec.pricing import ApiPricing, InstancePricing, Pricing

PRICING: TypeAdapter[InstancePricing | ApiPricing] = TypeAdapter(Pricing)


def test_kind_selects_the_model() -> None:
    instance = PRICING.validate_python(
        {"kind": "instance", "price_per_hour": 1.2, "currency": " eur "}
    )
    assert isinstance(instance, InstancePricing)
    assert instance.price_per_hour == Decimal("1.2")  # from the YAML float, not its binary value
    assert instance.currency == "EUR"
    assert instance.instances == 1
    assert instance.utilisation == 1.0

    api = PRICING.validate_python({"kind": "api", "currency": "usd", "per_1m_input_tokens": "3"})
    assert isinstance(api, ApiPricing)
    assert api.per_1m_input_tokens == Decimal(3)
    assert api.per_request == Decimal(0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "instance", "price_per_hour": 0, "currency": "EUR"}, "price_per_hour"),
        ({"kind": "instance", "price_per_hour": "nan", "currency": "EUR"}, "price_per_hour"),
        ({"kind": "instance", "price_per_hour": 1, "currency": "EURO"}, "currency"),
        ({"kind": "instance", "price_per_hour": 1, "currency": "E1R"}, "currency"),
        ({"kind": "instance", "price_per_hour": 1, "currency": "EUR", "instances": 0}, "instances"),
        (
            {"kind": "instance", "price_per_hour": 1, "currency": "EUR", "utilisation": 0},
            "utilisation",
        ),
        (
            {"kind": "instance", "price_per_hour": 1, "currency": "EUR", "utilisation": 1.5},
            "utilisation",
        ),
        ({"kind": "instance", "price_per_hour": 1, "currency": "EUR", "gpu": "a100"}, "gpu"),
        ({"kind": "api", "currency": "USD", "per_request": -1}, "per_request"),
        ({"kind": "api", "per_request": 1}, "currency"),
        ({"kind": "lease", "currency": "USD"}, "kind"),
    ],
)
def test_invalid_pricing_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PRICING.validate_python(data)
    errors = caught.value.errors()
    # A bad discriminator has no location; its message names the field instead.
    places = [".".join(map(str, error["loc"])) or error["msg"] for error in errors]
    assert any(field in place for place in places), places


def test_every_field_is_described() -> None:
    for model in (InstancePricing, ApiPricing):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps __all__ in: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def test_facade_exports_are_sorted_and_importable() -> None:
    assert economics.__all__ == sorted(economics.__all__, key=_isort_style)
    for name in economics.__all__:
        assert hasattr(economics, name)
