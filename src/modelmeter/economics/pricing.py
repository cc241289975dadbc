"""How a target is priced: by the instance-hour (self-hosted) or per request and token (API).

These models sit directly in the YAML spec under a target's ``pricing`` key; ``kind`` selects
the shape::

    pricing: {kind: instance, price_per_hour: 1.20, currency: EUR, utilisation: 0.6}
    pricing: {kind: api, currency: USD, per_1m_input_tokens: 0.15, per_1m_output_tokens: 0.60}
    pricing: {kind: catalogue, model: gpt-4o-mini, per_1m_output_tokens: 0.50}

A ``catalogue`` price names an entry of a price catalogue (LiteLLM or OpenRouter layout, see
:mod:`modelmeter.economics.catalogue`) instead of copying its figures by hand, so the source and
date of every price can be reported. It is turned into an :class:`ApiPricing` by
:func:`resolve_pricing` when the spec is loaded, before anything is measured; any price it sets
itself wins over the catalogue's.
"""

from __future__ import annotations

from decimal import Decimal

from modelmeter.economics.catalogue import Catalogue, CatalogueEntry, CatalogueError
from modelmeter.spec.pricing import (
    OVERRIDABLE_PRICES,
    ApiPricing,
    CataloguePricing,
    InstancePricing,
)

__all__ = [
    "resolve_pricing",
    "resolve_target_pricing",
]


def _from_entry(entry: CatalogueEntry) -> dict[str, Decimal | None]:
    return {
        "per_request": entry.per_request or Decimal(0),
        "per_1m_input_tokens": entry.input_per_1m,
        "per_1m_output_tokens": entry.output_per_1m,
        "per_1m_cached_input_tokens": entry.cached_input_per_1m,
        "per_1m_cache_write_tokens": entry.cache_write_per_1m,
        "per_1m_reasoning_tokens": entry.reasoning_per_1m,
        "per_second": entry.per_second or Decimal(0),
    }


def resolve_pricing(pricing: CataloguePricing, catalogue: Catalogue) -> ApiPricing:
    """The API prices of ``pricing.model`` in ``catalogue``, with ``pricing``'s overrides applied.

    A price set in ``pricing`` wins over the catalogue's. Raises :class:`CatalogueError` naming
    the model and its closest keys when the catalogue does not list it, and when the catalogue's
    currency differs from ``pricing.currency`` (amounts are never converted).
    """
    entry = catalogue.entry(pricing.model)
    if entry.currency != pricing.currency:
        raise CatalogueError(
            f"the catalogue prices {pricing.model!r} in {entry.currency} but the pricing says "
            f"{pricing.currency}; prices are never converted between currencies",
            path=catalogue.path,
            key=pricing.model,
        )
    fields = _from_entry(entry)
    for name in OVERRIDABLE_PRICES:
        override = getattr(pricing, name)
        if override is not None:
            fields[name] = override
    unpriced = [
        name for name in ("per_1m_input_tokens", "per_1m_output_tokens") if fields[name] is None
    ]
    if unpriced:
        # Billing unpriced tokens at zero would understate the cost without a word.
        raise CatalogueError(
            f"the catalogue gives no {' or '.join(unpriced)} price for {pricing.model!r}; "
            "set it in the target's pricing",
            path=catalogue.path,
            key=pricing.model,
        )
    return ApiPricing.model_validate({"kind": "api", "currency": pricing.currency, **fields})


def resolve_target_pricing(
    pricing: InstancePricing | ApiPricing | CataloguePricing | None, catalogue: Catalogue | None
) -> InstancePricing | ApiPricing | None:
    """Any pricing made concrete: a catalogue price resolved, the others returned as they are.

    Raises :class:`CatalogueError` when ``pricing`` is a catalogue price but no catalogue is
    given (the spec names none), or when :func:`resolve_pricing` does.
    """
    if not isinstance(pricing, CataloguePricing):
        return pricing
    if catalogue is None:
        raise CatalogueError(
            f"pricing of kind 'catalogue' names model {pricing.model!r} but no price catalogue "
            "is set; set economics.catalogue to a LiteLLM or OpenRouter file, or to 'builtin'",
            key=pricing.model,
        )
    return resolve_pricing(pricing, catalogue)
