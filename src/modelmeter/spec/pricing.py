"""How a target is priced: by the instance-hour (self-hosted) or per request and token (API).

These models sit directly in the YAML spec under a target's ``pricing`` key; ``kind`` selects
the shape::

    pricing: {kind: instance, price_per_hour: 1.20, currency: EUR, utilisation: 0.6}
    pricing: {kind: api, currency: USD, per_1m_input_tokens: 0.15, per_1m_output_tokens: 0.60}
    pricing: {kind: catalogue, model: gpt-4o-mini, per_1m_output_tokens: 0.50}

A ``catalogue`` price names an entry of a price catalogue (LiteLLM or OpenRouter layout, see
:mod:`modelmeter.economics.catalogue`) instead of copying its figures by hand, so the source and
date of every price can be reported. It is turned into an :class:`ApiPricing` by
:func:`modelmeter.economics.resolve_pricing` when the spec is loaded, before anything is
measured; any price it sets itself wins over the catalogue's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from modelmeter._money import currency_code

__all__ = [
    "ApiPricing",
    "CataloguePricing",
    "InstancePricing",
    "Pricing",
]


class _Pricing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(
        description="ISO 4217 currency code of every price here (e.g. EUR, USD); upper-cased."
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _normalise_currency(cls, value: object) -> object:
        return currency_code(value)


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
    """A hosted API: pay per request, per token and, for a few providers, per second.

    Token counts follow the OpenAI usage convention: cached and cache-write tokens are a part of
    the input tokens, reasoning tokens a part of the output tokens. A part without a price of its
    own is billed at the rate of the whole it belongs to: cached tokens as input, reasoning
    tokens as output (how most APIs bill reasoning).
    """

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
    per_1m_cached_input_tokens: Decimal | None = Field(
        default=None,
        ge=0,
        description=(
            "Price of one million input tokens read from the provider's prompt cache; "
            "null: cached tokens are billed as input tokens."
        ),
    )
    per_1m_cache_write_tokens: Decimal | None = Field(
        default=None,
        ge=0,
        description=(
            "Price of one million input tokens written to the provider's prompt cache; "
            "null: they are billed as input tokens."
        ),
    )
    per_1m_reasoning_tokens: Decimal | None = Field(
        default=None,
        ge=0,
        description=(
            "Price of one million reasoning (thinking) tokens; null: they are billed as "
            "output tokens, as most APIs do."
        ),
    )
    per_second: Decimal = Field(
        default=Decimal(0),
        ge=0,
        description="Price of one second of request duration (a few hosts bill by the second).",
    )


OVERRIDABLE_PRICES = (
    "per_request",
    "per_1m_input_tokens",
    "per_1m_output_tokens",
    "per_1m_cached_input_tokens",
    "per_1m_cache_write_tokens",
    "per_1m_reasoning_tokens",
    "per_second",
)


class CataloguePricing(_Pricing):
    """Prices taken from a catalogue entry, any of them overridden by a price given here."""

    kind: Literal["catalogue"] = Field(
        default="catalogue",
        description="Priced from the price catalogue named in `economics.catalogue`.",
    )
    model: str = Field(
        min_length=1,
        description=(
            "The model's key in the catalogue, e.g. gpt-4o-mini (LiteLLM) or "
            "openrouter/qwen/qwen-2.5-coder-32b-instruct (OpenRouter)."
        ),
    )
    currency: str = Field(
        default="USD",
        description=(
            "ISO 4217 currency code of the catalogue's prices and of any override here; "
            "LiteLLM and OpenRouter list USD. Never converted: it must match the catalogue."
        ),
    )
    per_request: Decimal | None = Field(
        default=None, ge=0, description="Overrides the catalogue's price of one request."
    )
    per_1m_input_tokens: Decimal | None = Field(
        default=None, ge=0, description="Overrides the catalogue's price of 1M input tokens."
    )
    per_1m_output_tokens: Decimal | None = Field(
        default=None, ge=0, description="Overrides the catalogue's price of 1M output tokens."
    )
    per_1m_cached_input_tokens: Decimal | None = Field(
        default=None, ge=0, description="Overrides the catalogue's price of 1M cached input tokens."
    )
    per_1m_cache_write_tokens: Decimal | None = Field(
        default=None, ge=0, description="Overrides the catalogue's price of 1M cache-write tokens."
    )
    per_1m_reasoning_tokens: Decimal | None = Field(
        default=None, ge=0, description="Overrides the catalogue's price of 1M reasoning tokens."
    )
    per_second: Decimal | None = Field(
        default=None, ge=0, description="Overrides the catalogue's price of one second."
    )


Pricing = Annotated[InstancePricing | ApiPricing | CataloguePricing, Field(discriminator="kind")]
