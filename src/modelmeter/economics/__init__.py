"""Economics: how targets are priced and what requests cost, in one explicit currency.

Prices come from a target's ``pricing`` or from a price catalogue (LiteLLM or OpenRouter
layout); costs per 1,000 requests, per 1M tokens, per correct answer and per month are computed
in ``Decimal`` with their formulas, and never converted between currencies.
"""

from modelmeter.economics.catalogue import (
    BUILTIN_CATALOGUE_FILE,
    Catalogue,
    CatalogueEntry,
    CatalogueError,
    builtin_catalogue,
    load_catalogue,
    load_litellm_catalogue,
    load_openrouter_catalogue,
)
from modelmeter.economics.cost import (
    CurrencyMismatchError,
    cost_per_1000_requests,
    ensure_single_currency,
)
from modelmeter.economics.llm_costs import (
    TokenMeans,
    TokenUsage,
    blended_3_to_1,
    break_even,
    check_budget_limit,
    llm_cost_breakdown,
    monthly_budget,
    request_cost,
)
from modelmeter.economics.pricing import resolve_pricing, resolve_target_pricing

__all__ = [
    "BUILTIN_CATALOGUE_FILE",
    "Catalogue",
    "CatalogueEntry",
    "CatalogueError",
    "CurrencyMismatchError",
    "TokenMeans",
    "TokenUsage",
    "blended_3_to_1",
    "break_even",
    "builtin_catalogue",
    "check_budget_limit",
    "cost_per_1000_requests",
    "ensure_single_currency",
    "llm_cost_breakdown",
    "load_catalogue",
    "load_litellm_catalogue",
    "load_openrouter_catalogue",
    "monthly_budget",
    "request_cost",
    "resolve_pricing",
    "resolve_target_pricing",
]
