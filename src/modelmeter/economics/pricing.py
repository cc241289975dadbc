"""How a target is priced: by the instance-hour (self-hosted) or per request and token (API).

These models sit directly in the YAML spec under a target's ``pricing`` key; ``kind`` selects
the shape::

    pricing: {kind: instance, price_per_hour: 1.20, currency: EUR, utilisation: 0.6}
    pricing: {kind: api, currency: USD, per_1m_input_tokens: 0.15, per_1m_output_tokens: 0.60}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ApiPricing", "InstancePricing", "Pricing"]


def _currency_code(value: object) -> object:
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(
            f"currency must be a 3-letter ISO 4217 code such as EUR or USD, got {value!r}"
        )
    return code


class _Pricing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(
        description="ISO 4217 currency code of every price here (e.g. EUR, USD); upper-cased."
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _normalise_currency(cls, value: object) -> object:
        return _currency_code(value)


class InstancePricing(_Pricing):
    """Self-hosted: pay per instance-hour; cost per request follows from measured throughput."""

    kind: Literal["instance"] = Field(
        default="instance", description="Priced by the instance-hour."
    )
    price_per_hour: Decimal = Field(
        gt=0, description="Price of one instance for one hour, in `currency`."
    )
    instances: int = Field(
        default=1,
        ge=1,
        description="Instances that together delivered the measured throughput.",
    )
    utilisation: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description=(
            "Share of the measured capacity you expect to use in production (0 < u <= 1); "
            "idle capacity is paid for too, so cost per request is divided by it."
        ),
    )


class ApiPricing(_Pricing):
    """A hosted API: pay per request and per token."""

    kind: Literal["api"] = Field(default="api", description="Priced per request and per token.")
    per_request: Decimal = Field(
        default=Decimal(0), ge=0, description="Fixed price of one request, in `currency`."
    )
    per_1m_input_tokens: Decimal = Field(
        default=Decimal(0), ge=0, description="Price of one million input (prompt) tokens."
    )
    per_1m_output_tokens: Decimal = Field(
        default=Decimal(0), ge=0, description="Price of one million output (completion) tokens."
    )


Pricing = Annotated[InstancePricing | ApiPricing, Field(discriminator="kind")]
