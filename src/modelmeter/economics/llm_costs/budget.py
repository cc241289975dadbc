"""The monthly budget of a declared workload, and the check against its limit."""

from __future__ import annotations

from decimal import Decimal

from modelmeter._exceptions import SpecError
from modelmeter._money import DECIMAL_CONTEXT as _CONTEXT
from modelmeter._money import plain_decimal as _plain
from modelmeter._money import round_significant as _round_significant
from modelmeter.economics.cost import CurrencyMismatchError
from modelmeter.economics.llm_costs.bill import (
    TokenMeans,
    _bill,
    _count,
    _money,
    _Quantities,
    _total,
)
from modelmeter.results import Budget
from modelmeter.spec.economics import DEFAULT_DAYS_PER_MONTH, Workload
from modelmeter.spec.pricing import ApiPricing

__all__ = ["check_budget_limit", "monthly_budget"]


def _workload_quantities(
    pricing: ApiPricing, workload: Workload, measured: TokenMeans | None
) -> tuple[_Quantities, list[str], list[str]]:
    assumptions: list[str] = []
    lines: list[str] = []
    wants_requests = bool(pricing.per_request or pricing.per_second)
    cached_share = workload.cached_input_share
    cache_write_share = Decimal(0)
    if workload.requests_per_day is not None:
        days = workload.days_per_month
        requests = _CONTEXT.multiply(workload.requests_per_day, days)
        if days == DEFAULT_DAYS_PER_MONTH and "days_per_month" not in workload.model_fields_set:
            assumptions.append("a month is taken as 30 days")
        lines.append(
            f"requests per month = {_count(workload.requests_per_day)} per day × "
            f"{_count(days)} days = {_count(requests)}"
        )

        def per_request(declared: Decimal | None, name: str, mean: Decimal | None) -> Decimal:
            if declared is not None:
                return declared
            if mean is None or measured is None:
                raise SpecError(
                    "not given, and no requests were measured to take a mean from; "
                    "give it or measure the target first",
                    field=f"economics.workload.{name}",
                )
            assumptions.append(
                f"{name.replace('_', ' ')} = {_count(mean)}: the mean measured over "
                f"{measured.requests:,} requests"
            )
            return mean

        input_per = per_request(
            workload.input_tokens_per_request,
            "input_tokens_per_request",
            measured.input_tokens if measured else None,
        )
        output_per = per_request(
            workload.output_tokens_per_request,
            "output_tokens_per_request",
            measured.output_tokens if measured else None,
        )
        if workload.reasoning_tokens_per_request is not None:
            reasoning_per = workload.reasoning_tokens_per_request
        elif measured is not None and measured.reasoning_tokens:
            reasoning_per = measured.reasoning_tokens
            assumptions.append(
                f"reasoning tokens per request = {_count(reasoning_per)}: the measured mean"
            )
        else:
            reasoning_per = Decimal(0)
        if reasoning_per > output_per:
            raise SpecError(
                f"{_count(reasoning_per)} reasoning tokens per request cannot exceed the "
                f"{_count(output_per)} output tokens they are part of",
                field="economics.workload.reasoning_tokens_per_request",
            )
        input_measured = workload.input_tokens_per_request is None and measured is not None
        if input_measured and measured is not None and measured.input_tokens:
            if cached_share is None and measured.cached_input_tokens:
                cached_share = _CONTEXT.divide(measured.cached_input_tokens, measured.input_tokens)
                assumptions.append(
                    f"cached input share = {_count(cached_share)}: the share measured"
                )
            if measured.cache_write_tokens:
                cache_write_share = _CONTEXT.divide(
                    measured.cache_write_tokens, measured.input_tokens
                )
                assumptions.append(
                    f"cache-write share = {_count(cache_write_share)}: the share measured"
                )
        input_tokens = _CONTEXT.multiply(requests, input_per)
        output_tokens = _CONTEXT.multiply(requests, output_per)
        reasoning = _CONTEXT.multiply(requests, reasoning_per)
        lines.append(
            f"input tokens per month = {_count(requests)} × {_count(input_per)} = "
            f"{_count(input_tokens)}; output tokens per month = {_count(requests)} × "
            f"{_count(output_per)} = {_count(output_tokens)}"
        )
        requests_month: Decimal | None = requests
    else:
        assert workload.input_tokens_per_month is not None  # the validator guarantees the shape
        assert workload.output_tokens_per_month is not None
        input_tokens = workload.input_tokens_per_month
        output_tokens = workload.output_tokens_per_month
        reasoning = workload.reasoning_tokens_per_month or Decimal(0)
        requests_month = workload.requests_per_month
        if requests_month is None and wants_requests:
            raise SpecError(
                "the pricing charges per request or per second, so a workload given in tokens "
                "per month needs requests_per_month",
                field="economics.workload.requests_per_month",
            )
    if cached_share is None:
        cached_share = Decimal(0)
        if pricing.per_1m_cached_input_tokens is not None:
            assumptions.append("no input tokens are read from the prompt cache")
    cached = _CONTEXT.multiply(input_tokens, cached_share)
    cache_write = _CONTEXT.multiply(input_tokens, cache_write_share)
    if cached + cache_write > input_tokens:
        cache_write = input_tokens - cached
    if cached:
        lines.append(
            f"cached input tokens per month = {_count(input_tokens)} × {_count(cached_share)} = "
            f"{_count(cached)}"
        )
    seconds: Decimal | None = None
    if pricing.per_second:
        if measured is None or measured.seconds is None:
            raise SpecError(
                "the pricing charges per second of request duration, and no request duration "
                "was measured to budget with",
                field="economics.workload",
            )
        assert requests_month is not None  # required above when per_second is set
        seconds = _CONTEXT.multiply(requests_month, measured.seconds)
        assumptions.append(
            f"request duration = {_count(measured.seconds)} s: the mean measured over "
            f"{measured.requests:,} requests"
        )
        lines.append(
            f"request seconds per month = {_count(requests_month)} × "
            f"{_count(measured.seconds)} s = {_count(seconds)} s"
        )
    quantities = _Quantities(
        requests=requests_month,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
        seconds=seconds,
    )
    return quantities, assumptions, lines


def monthly_budget(
    pricing: ApiPricing, workload: Workload, measured_means: TokenMeans | None = None
) -> Budget:
    """The monthly cost of ``workload`` under ``pricing``, each component and assumption shown.

    ``measured_means`` (per request, e.g. ``TokenUsage.means()``) fill in what a
    requests-per-day workload leaves out, and give the request duration for per-second prices.
    Raises :class:`~modelmeter.SpecError` naming the workload field when a figure it needs is
    neither declared nor measured.
    """
    quantities, assumptions, explanation = _workload_quantities(pricing, workload, measured_means)
    lines = _bill(pricing, quantities, what="the workload")
    total = _total(lines)
    explanation.extend(line.formula for line in lines)
    explanation.append(
        f"monthly total = {' + '.join(_plain(_round_significant(line.amount)) for line in lines)}"
        f" = {_money(total, pricing.currency)}"
    )
    return Budget(
        currency=pricing.currency,
        requests_per_month=quantities.requests,
        input_tokens_per_month=quantities.input_tokens,
        output_tokens_per_month=quantities.output_tokens,
        lines=lines,
        total=_round_significant(total),
        assumptions=assumptions,
        explanation=explanation,
    )


def check_budget_limit(budget: Budget, limit: Decimal, currency: str) -> Budget:
    """``budget`` with ``limit`` set and ``within_budget`` = total ≤ limit.

    Raises :class:`CurrencyMismatchError` when the limit is in another currency than the cost.
    """
    code = currency.strip().upper()
    if code != budget.currency:
        raise CurrencyMismatchError({code: ["monthly budget"], budget.currency: ["workload cost"]})
    within = budget.total <= limit
    gap = abs(_CONTEXT.subtract(limit, budget.total))
    verdict = (
        f"within the budget, {_money(gap, code)} to spare"
        if within
        else f"over the budget by {_money(gap, code)}"
    )
    line = (
        f"{_money(budget.total, code)} {'≤' if within else '>'} {_money(limit, code)} monthly "
        f"budget: {verdict}"
    )
    return budget.model_copy(
        update={"limit": limit, "within_budget": within, "explanation": [*budget.explanation, line]}
    )
