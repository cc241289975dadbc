"""What the evaluated requests cost: the bill line by line, per request, per 1,000, per 1M tokens
and per correct answer, and the blended 3:1 list price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelmeter._exceptions import SpecError
from modelmeter._money import DECIMAL_CONTEXT as _CONTEXT
from modelmeter._money import Money
from modelmeter._money import plain_decimal as _plain
from modelmeter._money import price_text as _price
from modelmeter._money import round_significant as _round_significant
from modelmeter.results import CostLine, LlmCostBreakdown
from modelmeter.spec.pricing import ApiPricing

__all__ = [
    "Quantity",
    "TokenMeans",
    "TokenUsage",
    "blended_3_to_1",
    "llm_cost_breakdown",
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
            f"{_money(per_request, currency)}; per 1,000 evaluated requests = "
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
