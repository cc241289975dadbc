"""What LLM requests cost: per request, per 1,000, per 1M tokens, per correct answer, per month.

Users choosing between hosted and self-hosted models need the figure *and* how it was reached,
so every result here carries its formula lines with the figures filled in. All arithmetic is
``Decimal`` in one explicit currency; amounts in different currencies are refused
(:class:`~modelmeter.economics.cost.CurrencyMismatchError`), never converted.

Token counts follow the OpenAI usage convention: cached-read and cache-write tokens are a *part*
of the input tokens, reasoning tokens a *part* of the output tokens. So one request costs::

    per_request
    + (input − cached − cache_write) × input price / 1M     (input billed at the full rate)
    + cached × cached price / 1M + cache_write × cache-write price / 1M
    + (output − reasoning) × output price / 1M + reasoning × reasoning price / 1M
    + seconds × per_second

where a part without a price of its own is billed at the rate of its whole (cached tokens as
input, reasoning tokens as output — how most APIs bill reasoning).

The figures (see docs/costs.md for worked examples):

- per request = total cost of the evaluated requests / requests; per 1,000 requests = × 1000;
- per 1M tokens = total cost / (input + output tokens) × 1,000,000;
- per correct answer = total cost / correct answers (None when none was correct);
- blended 3:1 = (3 × input price + 1 × output price) / 4 per 1M tokens: a *list* price in the
  form public leaderboards quote, for comparison only — it is not what this workload paid;
- monthly budget for a declared :class:`Workload`, checked against a limit;
- break-even between an API and self-hosting: the monthly volume above which paying for
  instances by the hour costs less than paying the API per request.

Stored figures keep 6 significant digits (never fewer than 2 decimal places), as in
:mod:`modelmeter.economics.cost`.

The package has one module per figure: ``bill`` (per request, per 1,000, per 1M tokens, per
correct answer), ``budget`` (the month of a declared workload), ``break_even`` (API vs
self-hosting).
"""

from modelmeter.economics.llm_costs.bill import (
    Quantity,
    TokenMeans,
    TokenUsage,
    blended_3_to_1,
    llm_cost_breakdown,
    request_cost,
)
from modelmeter.economics.llm_costs.break_even import break_even
from modelmeter.economics.llm_costs.budget import check_budget_limit, monthly_budget

__all__ = [
    "Quantity",
    "TokenMeans",
    "TokenUsage",
    "blended_3_to_1",
    "break_even",
    "check_budget_limit",
    "llm_cost_breakdown",
    "monthly_budget",
    "request_cost",
]
