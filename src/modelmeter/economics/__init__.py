"""Economics: how targets are priced and what 1,000 requests cost, in one explicit currency."""

from modelmeter.economics.cost import (
    SIGNIFICANT_DIGITS,
    CurrencyMismatchError,
    cost_per_1000_requests,
    ensure_single_currency,
    format_money,
)
from modelmeter.economics.pricing import ApiPricing, InstancePricing, Pricing

__all__ = [
    "SIGNIFICANT_DIGITS",
    "ApiPricing",
    "CurrencyMismatchError",
    "InstancePricing",
    "Pricing",
    "cost_per_1000_requests",
    "ensure_single_currency",
    "format_money",
]
