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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelmeter._exceptions import SpecError
from modelmeter._money import DECIMAL_CONTEXT as _CONTEXT
from modelmeter._money import Money
from modelmeter._money import plain_decimal as _plain
from modelmeter._money import price_text as _price
from modelmeter._money import round_significant as _round_significant
from modelmeter.economics.cost import CurrencyMismatchError
from modelmeter.results import BreakEven, Budget, CostLine, LlmCostBreakdown
from modelmeter.spec.economics import DEFAULT_DAYS_PER_MONTH, Workload
from modelmeter.spec.pricing import ApiPricing, InstancePricing

__all__ = [
    "TokenMeans",
    "TokenUsage",
    "blended_3_to_1",
    "break_even",
    "check_budget_limit",
    "llm_cost_breakdown",
    "monthly_budget",
    "request_cost",
]


_MILLION = Decimal(1_000_000)
_THOUSAND = Decimal(1000)
_HOURS_PER_DAY = Decimal(24)
_SECONDS_PER_HOUR = Decimal(3600)

# A count in memory is Decimal (means are fractional); in JSON a plain number, as Money is.
Quantity = Money


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _money(amount: Decimal, currency: str) -> str:
    return f"{_plain(_round_significant(amount))} {currency}"


def _count(value: Decimal) -> str:
    """A token or request count for formulas: thousands separated, fractions kept short."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    whole, _, fraction = _plain(_round_significant(value)).partition(".")
    return f"{int(whole):,}.{fraction}"


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


@dataclass(frozen=True)
class _Quantities:
    requests: Decimal | None
    input_tokens: Decimal
    output_tokens: Decimal
    cached_input_tokens: Decimal = Decimal(0)
    cache_write_tokens: Decimal = Decimal(0)
    reasoning_tokens: Decimal = Decimal(0)
    seconds: Decimal | None = None


def _bill(pricing: ApiPricing, quantities: _Quantities, *, what: str) -> list[CostLine]:
    """The cost lines of ``quantities`` under ``pricing``; ``what`` names them in errors."""
    currency = pricing.currency
    lines: list[CostLine] = []

    def tokens(item: str, count: Decimal, rate: Decimal) -> None:
        amount = _CONTEXT.divide(_CONTEXT.multiply(count, rate), _MILLION)
        lines.append(
            CostLine(
                item=item,
                quantity=count,
                rate=rate,
                rate_per="1M tokens",
                amount=amount,
                formula=(
                    f"{item}: {_count(count)} × {_price(rate)} {currency}/1M = "
                    f"{_money(amount, currency)}"
                ),
            )
        )

    q = quantities
    full_rate_input = q.input_tokens
    separate_input: list[tuple[str, Decimal, Decimal]] = []
    if pricing.per_1m_cached_input_tokens is not None and q.cached_input_tokens:
        full_rate_input -= q.cached_input_tokens
        separate_input.append(
            ("cached input tokens", q.cached_input_tokens, pricing.per_1m_cached_input_tokens)
        )
    if pricing.per_1m_cache_write_tokens is not None and q.cache_write_tokens:
        full_rate_input -= q.cache_write_tokens
        separate_input.append(
            ("cache-write tokens", q.cache_write_tokens, pricing.per_1m_cache_write_tokens)
        )
    tokens(
        "input tokens (full rate)" if separate_input else "input tokens",
        full_rate_input,
        pricing.per_1m_input_tokens,
    )
    for item, count, rate in separate_input:
        tokens(item, count, rate)
    if pricing.per_1m_reasoning_tokens is not None and q.reasoning_tokens:
        tokens(
            "output tokens (besides reasoning)",
            q.output_tokens - q.reasoning_tokens,
            pricing.per_1m_output_tokens,
        )
        tokens("reasoning tokens", q.reasoning_tokens, pricing.per_1m_reasoning_tokens)
    else:
        tokens("output tokens", q.output_tokens, pricing.per_1m_output_tokens)

    if pricing.per_request:
        if q.requests is None:
            raise SpecError(
                f"the pricing charges {_price(pricing.per_request)} {currency} per request but "
                f"the number of requests of {what} is unknown"
            )
        amount = _CONTEXT.multiply(q.requests, pricing.per_request)
        lines.append(
            CostLine(
                item="requests",
                quantity=q.requests,
                rate=pricing.per_request,
                rate_per="request",
                amount=amount,
                formula=(
                    f"requests: {_count(q.requests)} × {_price(pricing.per_request)} {currency} "
                    f"= {_money(amount, currency)}"
                ),
            )
        )
    if pricing.per_second:
        if q.seconds is None:
            raise SpecError(
                f"the pricing charges {_price(pricing.per_second)} {currency} per second of "
                f"request duration but the duration of {what} is unknown"
            )
        amount = _CONTEXT.multiply(q.seconds, pricing.per_second)
        lines.append(
            CostLine(
                item="request seconds",
                quantity=q.seconds,
                rate=pricing.per_second,
                rate_per="second",
                amount=amount,
                formula=(
                    f"request seconds: {_count(q.seconds)} s × {_price(pricing.per_second)} "
                    f"{currency}/s = {_money(amount, currency)}"
                ),
            )
        )
    return lines


def _total(lines: list[CostLine]) -> Decimal:
    total = Decimal(0)
    for line in lines:
        total = _CONTEXT.add(total, line.amount)
    return total


def _check_parts(
    input_tokens: Decimal,
    output_tokens: Decimal,
    cached_input_tokens: Decimal,
    cache_write_tokens: Decimal,
    reasoning_tokens: Decimal,
) -> None:
    named = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached_input_tokens,
        "cache_write_tokens": cache_write_tokens,
        "reasoning_tokens": reasoning_tokens,
    }
    negative = [name for name, value in named.items() if value < 0]
    if negative:
        raise ValueError(f"token counts must not be negative: {', '.join(negative)}")
    if cached_input_tokens + cache_write_tokens > input_tokens:
        raise ValueError(
            f"cached_input_tokens ({_count(cached_input_tokens)}) + cache_write_tokens "
            f"({_count(cache_write_tokens)}) are part of input_tokens and cannot exceed it "
            f"({_count(input_tokens)})"
        )
    if reasoning_tokens > output_tokens:
        raise ValueError(
            f"reasoning_tokens ({_count(reasoning_tokens)}) are part of output_tokens and "
            f"cannot exceed it ({_count(output_tokens)})"
        )


def request_cost(
    pricing: ApiPricing,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    seconds: float | None = None,
) -> Decimal:
    """Exact cost of one request under ``pricing``, in ``pricing.currency``.

    ``cached_input_tokens`` and ``cache_write_tokens`` are a part of ``input_tokens``: the input
    billed at the full rate is ``input − cached − cache_write`` when those have prices of their
    own (else they are billed as input). ``reasoning_tokens`` are a part of ``output_tokens``,
    billed at ``per_1m_reasoning_tokens`` when set, else as output. ``seconds`` (the request's
    duration) is needed only when the pricing charges per second. Raises ``ValueError`` when a
    part exceeds its whole, :class:`~modelmeter.SpecError` when a priced quantity is unknown.
    """
    values = [
        Decimal(v)
        for v in (
            input_tokens,
            output_tokens,
            cached_input_tokens,
            cache_write_tokens,
            reasoning_tokens,
        )
    ]
    _check_parts(*values)
    if seconds is not None and (not math.isfinite(seconds) or seconds < 0):
        raise ValueError(f"seconds must be a finite duration >= 0, got {seconds}")
    quantities = _Quantities(
        requests=Decimal(1),
        input_tokens=values[0],
        output_tokens=values[1],
        cached_input_tokens=values[2],
        cache_write_tokens=values[3],
        reasoning_tokens=values[4],
        seconds=None if seconds is None else _decimal(seconds),
    )
    return _total(_bill(pricing, quantities, what="the request"))


def blended_3_to_1(pricing: ApiPricing) -> Decimal:
    """(3 × input + 1 × output) / 4 per 1M tokens: the list price leaderboards quote."""
    weighted = _CONTEXT.add(
        _CONTEXT.multiply(Decimal(3), pricing.per_1m_input_tokens), pricing.per_1m_output_tokens
    )
    return _CONTEXT.divide(weighted, Decimal(4))


def _blended_line(pricing: ApiPricing, blended: Decimal) -> str:
    currency = pricing.currency
    return (
        f"blended 3:1 = (3 × {_price(pricing.per_1m_input_tokens)} + 1 × "
        f"{_price(pricing.per_1m_output_tokens)}) / 4 = {_money(blended, currency)} per 1M "
        "tokens (list prices weighted 3 input : 1 output, as public leaderboards quote them; "
        "for comparison only, not what these requests cost)"
    )


class TokenUsage(_Model):
    """Totals over the evaluated requests, as the load engine or the quality pass counted them."""

    requests: int = Field(ge=0, description="Requests answered (and billed).")
    input_tokens: int = Field(ge=0, description="Input tokens of all those requests.")
    output_tokens: int = Field(ge=0, description="Output tokens, reasoning included.")
    cached_input_tokens: int = Field(
        default=0, ge=0, description="Input tokens read from the prompt cache (part of input)."
    )
    cache_write_tokens: int = Field(
        default=0, ge=0, description="Input tokens written to the prompt cache (part of input)."
    )
    reasoning_tokens: int = Field(
        default=0, ge=0, description="Reasoning tokens (part of the output tokens)."
    )
    seconds: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="Summed duration of the requests, for per-second pricing.",
    )

    @model_validator(mode="after")
    def _parts_within_wholes(self) -> TokenUsage:
        _check_parts(
            Decimal(self.input_tokens),
            Decimal(self.output_tokens),
            Decimal(self.cached_input_tokens),
            Decimal(self.cache_write_tokens),
            Decimal(self.reasoning_tokens),
        )
        return self

    def means(self) -> TokenMeans | None:
        """Per-request means, or None when no request was counted."""
        if self.requests == 0:
            return None
        n = Decimal(self.requests)

        def mean(total: int | float) -> Decimal:
            value = Decimal(total) if isinstance(total, int) else _decimal(total)
            return _CONTEXT.divide(value, n)

        return TokenMeans(
            requests=self.requests,
            input_tokens=mean(self.input_tokens),
            output_tokens=mean(self.output_tokens),
            cached_input_tokens=mean(self.cached_input_tokens),
            cache_write_tokens=mean(self.cache_write_tokens),
            reasoning_tokens=mean(self.reasoning_tokens),
            seconds=None if self.seconds is None else mean(self.seconds),
        )


class TokenMeans(_Model):
    """Measured means per request, used where a workload leaves per-request tokens out."""

    requests: int = Field(ge=1, description="How many requests the means are over.")
    input_tokens: Quantity = Field(ge=0, description="Mean input tokens per request.")
    output_tokens: Quantity = Field(ge=0, description="Mean output tokens per request.")
    cached_input_tokens: Quantity = Field(
        default=Decimal(0), ge=0, description="Mean cached input tokens per request."
    )
    cache_write_tokens: Quantity = Field(
        default=Decimal(0), ge=0, description="Mean cache-write tokens per request."
    )
    reasoning_tokens: Quantity = Field(
        default=Decimal(0), ge=0, description="Mean reasoning tokens per request."
    )
    seconds: Quantity | None = Field(
        default=None, ge=0, description="Mean request duration in seconds."
    )


def llm_cost_breakdown(
    pricing: ApiPricing, usage: TokenUsage, *, correct_answers: int | None = None
) -> LlmCostBreakdown:
    """Cost of the evaluated requests per request, per 1,000, per 1M tokens and per correct answer.

    ``usage`` holds the totals over the requests (see :class:`TokenUsage` for which counts are
    parts of which); ``correct_answers`` is how many of them were graded correct (None when the
    task has no notion of correct).
    """
    if correct_answers is not None and not 0 <= correct_answers <= usage.requests:
        raise ValueError(
            f"correct_answers must be between 0 and the {usage.requests} requests, "
            f"got {correct_answers}"
        )
    currency = pricing.currency
    quantities = _Quantities(
        requests=Decimal(usage.requests),
        input_tokens=Decimal(usage.input_tokens),
        output_tokens=Decimal(usage.output_tokens),
        cached_input_tokens=Decimal(usage.cached_input_tokens),
        cache_write_tokens=Decimal(usage.cache_write_tokens),
        reasoning_tokens=Decimal(usage.reasoning_tokens),
        seconds=None if usage.seconds is None else _decimal(usage.seconds),
    )
    lines = _bill(pricing, quantities, what="the evaluated requests")
    total = _total(lines)
    explanation = [line.formula for line in lines]
    explanation.append(
        f"total = {' + '.join(_plain(_round_significant(line.amount)) for line in lines)} = "
        f"{_money(total, currency)} over {usage.requests:,} requests"
    )
    per_request = per_1000 = per_1m = per_correct = None
    if usage.requests:
        per_request = _CONTEXT.divide(total, Decimal(usage.requests))
        per_1000 = _CONTEXT.multiply(per_request, _THOUSAND)
        explanation.append(
            f"per request = {_money(total, currency)} / {usage.requests:,} = "
            f"{_money(per_request, currency)}; per 1,000 requests = "
            f"{_money(per_1000, currency)}"
        )
    else:
        explanation.append("no requests were counted, so there is no cost per request")
    total_tokens = usage.input_tokens + usage.output_tokens
    if total_tokens:
        per_1m = _CONTEXT.multiply(_CONTEXT.divide(total, Decimal(total_tokens)), _MILLION)
        explanation.append(
            f"per 1M tokens = {_money(total, currency)} / {total_tokens:,} tokens (input + "
            f"output) × 1,000,000 = {_money(per_1m, currency)}"
        )
    if correct_answers is None:
        explanation.append("per correct answer: not graded, so not computed")
    elif correct_answers == 0:
        explanation.append("per correct answer: no answer was correct, so it is undefined")
    else:
        per_correct = _CONTEXT.divide(total, Decimal(correct_answers))
        explanation.append(
            f"per correct answer = {_money(total, currency)} / {correct_answers:,} correct = "
            f"{_money(per_correct, currency)}"
        )
    blended = blended_3_to_1(pricing)
    explanation.append(_blended_line(pricing, blended))

    def rounded(value: Decimal | None) -> Decimal | None:
        return None if value is None else _round_significant(value)

    return LlmCostBreakdown(
        currency=currency,
        requests=usage.requests,
        total_tokens=total_tokens,
        lines=lines,
        total=_round_significant(total),
        per_request=rounded(per_request),
        per_1000_requests=rounded(per_1000),
        per_1m_tokens=rounded(per_1m),
        correct_answers=correct_answers,
        per_correct_answer=rounded(per_correct),
        blended_3_to_1_per_1m=_round_significant(blended),
        explanation=explanation,
    )


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


def break_even(
    api_cost_per_request: Decimal,
    api_currency: str,
    self_hosted: InstancePricing,
    *,
    throughput_rps: float,
    monthly_requests: Decimal | None = None,
    days_per_month: Decimal = DEFAULT_DAYS_PER_MONTH,
) -> BreakEven:
    """Monthly request volume above which self-hosting costs less than the API.

    ``self_hosted`` gives the price per instance-hour, the instances and the planned
    utilisation; ``throughput_rps`` is what those instances together served within the SLA.
    Instances are paid for around the clock (``days_per_month`` × 24 h), so their monthly cost
    is fixed; the API's grows with volume. Break-even = fixed monthly cost / API cost per
    request — but only volumes up to the instances' capacity can be served by them: beyond it
    more deployments are needed, so self-hosting can win only if its cost per request at full
    (planned) use is below the API's. With ``monthly_requests`` both monthly costs at that
    volume are compared too. Raises :class:`CurrencyMismatchError` when the two prices are in
    different currencies, ``ValueError`` for a throughput that is not positive.
    """
    code = api_currency.strip().upper()
    if code != self_hosted.currency:
        raise CurrencyMismatchError({code: ["API"], self_hosted.currency: ["self-hosted"]})
    if not math.isfinite(throughput_rps) or throughput_rps <= 0:
        raise ValueError(f"throughput_rps must be a positive number, got {throughput_rps}")
    if api_cost_per_request < 0:
        raise ValueError(f"api_cost_per_request must not be negative, got {api_cost_per_request}")
    rate = _decimal(throughput_rps)
    utilisation = _decimal(self_hosted.utilisation)
    hours = _CONTEXT.multiply(days_per_month, _HOURS_PER_DAY)
    fixed = _CONTEXT.multiply(
        _CONTEXT.multiply(self_hosted.price_per_hour, Decimal(self_hosted.instances)), hours
    )
    capacity = _CONTEXT.multiply(
        _CONTEXT.multiply(_CONTEXT.multiply(rate, _SECONDS_PER_HOUR), hours), utilisation
    )
    at_capacity = _CONTEXT.divide(fixed, capacity)
    instances = f"{self_hosted.instances} instance{'s' if self_hosted.instances != 1 else ''}"
    explanation = [
        f"fixed monthly cost = {_price(self_hosted.price_per_hour)} {code}/h × {instances} × "
        f"{_count(days_per_month)} days × 24 h = {_money(fixed, code)}",
        f"capacity = {_plain(rate)} req/s × 3600 s/h × {_count(hours)} h × {_plain(utilisation)} "
        f"utilisation = {_count(capacity)} requests per month",
        f"self-hosted cost per request at capacity = {_money(fixed, code)} / "
        f"{_count(capacity)} = {_money(at_capacity, code)}",
    ]
    break_even_volume: Decimal | None = None
    if api_cost_per_request == 0:
        can_win = False
        explanation.append("the API costs nothing per request, so self-hosting never costs less")
    else:
        break_even_volume = _CONTEXT.divide(fixed, api_cost_per_request)
        can_win = at_capacity < api_cost_per_request
        explanation.append(
            f"break-even = {_money(fixed, code)} / {_money(api_cost_per_request, code)} per "
            f"API request = {_count(break_even_volume)} requests per month"
        )
        if can_win:
            explanation.append(
                f"above {_count(break_even_volume)} requests per month "
                f"self-hosting costs less, up to the capacity of {_count(capacity)}; beyond "
                f"that each further {_count(capacity)} requests need another deployment of "
                f"{instances} ({_money(fixed, code)} per month)"
            )
        else:
            explanation.append(
                f"the break-even volume is beyond the capacity of {_count(capacity)} requests "
                f"per month: serving it needs more instances, and at "
                f"{_money(at_capacity, code)} per request even at full use self-hosting "
                f"never costs less than the API's {_money(api_cost_per_request, code)}"
            )
    result = BreakEven(
        currency=code,
        api_cost_per_request=api_cost_per_request,
        hours_per_month=hours,
        fixed_monthly_cost=_round_significant(fixed),
        capacity_requests_per_month=capacity,
        self_hosted_cost_per_request_at_capacity=_round_significant(at_capacity),
        break_even_requests_per_month=(
            None if break_even_volume is None else _round_significant(break_even_volume)
        ),
        self_hosting_can_win=can_win,
        explanation=explanation,
    )
    if monthly_requests is None:
        return result
    if monthly_requests < 0:
        raise ValueError(f"monthly_requests must not be negative, got {monthly_requests}")
    deployments = max(1, math.ceil(_CONTEXT.divide(monthly_requests, capacity)))
    self_cost = _CONTEXT.multiply(Decimal(deployments), fixed)
    api_cost = _CONTEXT.multiply(monthly_requests, api_cost_per_request)
    cheaper: Literal["api", "self_hosted", "same"] = (
        "same" if self_cost == api_cost else "self_hosted" if self_cost < api_cost else "api"
    )
    explanation.append(
        f"at {_count(monthly_requests)} requests per month: self-hosted {deployments} × "
        f"{_money(fixed, code)} = {_money(self_cost, code)} "
        f"({deployments} deployment{'s' if deployments != 1 else ''} of {instances}, "
        f"{_count(capacity)} requests each); API {_count(monthly_requests)} × "
        f"{_money(api_cost_per_request, code)} = {_money(api_cost, code)}: "
        + {"api": "the API costs less", "self_hosted": "self-hosting costs less", "same": "equal"}[
            cheaper
        ]
    )
    return result.model_copy(
        update={
            "monthly_requests": monthly_requests,
            "deployments_needed": deployments,
            "self_hosted_monthly_cost": _round_significant(self_cost),
            "api_monthly_cost": _round_significant(api_cost),
            "cheaper": cheaper,
            "explanation": explanation,
        }
    )
