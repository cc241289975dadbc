"""Cost per 1,000 requests, in ``Decimal`` and one explicit currency.

Self-hosted (instance pricing)::

    per_1000 = price_per_hour × instances / (throughput_rps × 3600 × utilisation) × 1000

at the throughput measured for the deployment those instances make up, ideally the highest
throughput that still met the SLA (``within_sla`` records whether it did).

API pricing::

    per_1000 = 1000 × (per_request + mean input tokens × per_1m_input_tokens / 1e6
                                    + mean output tokens × per_1m_output_tokens / 1e6)

with token means taken over the ``requests`` that were measured.

Results keep 6 significant digits (never fewer than 2 decimal places): enough to tell apart
self-hosted costs of a fraction of a cent, without pretending to more precision than the
measured throughput has. Amounts in different currencies are never converted or compared:
:func:`ensure_single_currency` raises :class:`CurrencyMismatchError` instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from modelmeter._exceptions import CurrencyMismatchError
from modelmeter._money import DECIMAL_CONTEXT as _CONTEXT
from modelmeter._money import format_money
from modelmeter._money import plain_decimal as _plain
from modelmeter._money import price_text as _price
from modelmeter._money import round_significant as _round_significant
from modelmeter.results import CostResult
from modelmeter.spec.pricing import ApiPricing, InstancePricing

__all__ = [
    "CurrencyMismatchError",
    "cost_per_1000_requests",
    "ensure_single_currency",
]


_SECONDS_PER_HOUR = Decimal(3600)
_THOUSAND = Decimal(1000)
_MILLION = Decimal(1_000_000)


def ensure_single_currency(currencies: Mapping[str, str]) -> str | None:
    """Return the one currency used by ``currencies`` (model name -> code), or None if none.

    Empty codes (models without pricing) are ignored. Raises :class:`CurrencyMismatchError`
    when two codes differ. Call it when a spec is loaded, so a run fails before measuring
    anything, and before comparing costs.
    """
    by_code: dict[str, list[str]] = {}
    for name, code in currencies.items():
        if code:
            by_code.setdefault(code, []).append(name)
    if len(by_code) > 1:
        raise CurrencyMismatchError(by_code)
    return next(iter(by_code), None)


def _decimal(value: float) -> Decimal:
    # repr gives the shortest decimal that round-trips, so 0.6 becomes Decimal('0.6'), not the
    # binary expansion Decimal(0.6) = 0.59999999999999997779...
    return Decimal(repr(value))


def _instance_cost(
    pricing: InstancePricing, throughput_rps: float | None, within_sla: bool | None
) -> CostResult:
    price = f"{_price(pricing.price_per_hour)} {pricing.currency}/h"
    instances = f"{pricing.instances} instance{'s' if pricing.instances != 1 else ''}"
    if throughput_rps is None or not math.isfinite(throughput_rps) or throughput_rps <= 0:
        measured = (
            "no throughput was measured"
            if throughput_rps is None
            else (f"the measured throughput was {throughput_rps} req/s")
        )
        return CostResult(
            currency=pricing.currency,
            per_1000_requests=None,
            basis="instance",
            explanation=(
                f"{price} × {instances}: cost per request needs a positive throughput, "
                f"but {measured}."
            ),
            throughput_basis_rps=throughput_rps,
            within_sla=within_sla,
        )
    rate = _decimal(throughput_rps)
    utilisation = _decimal(pricing.utilisation)
    hourly = _CONTEXT.multiply(pricing.price_per_hour, Decimal(pricing.instances))
    requests_per_hour = _CONTEXT.multiply(_CONTEXT.multiply(rate, _SECONDS_PER_HOUR), utilisation)
    exact = _CONTEXT.multiply(_CONTEXT.divide(hourly, requests_per_hour), _THOUSAND)
    per_1000 = _round_significant(exact)
    if within_sla is True:
        basis = "at the throughput measured within the SLA"
    elif within_sla is False:
        basis = (
            "at a throughput measured beyond the SLA, so this cost is lower than serving "
            "within the SLA would be"
        )
    else:
        basis = "at the measured throughput (not checked against an SLA)"
    explanation = (
        f"{price} × {instances} / ({_plain(rate)} req/s × 3600 s/h × {_plain(utilisation)} "
        f"utilisation) × 1000 = {format_money(per_1000, pricing.currency)} "
        f"per 1,000 requests, {basis}."
    )
    return CostResult(
        currency=pricing.currency,
        per_1000_requests=per_1000,
        basis="instance",
        explanation=explanation,
        throughput_basis_rps=throughput_rps,
        within_sla=within_sla,
    )


def _api_cost(
    pricing: ApiPricing, requests: int, input_tokens: int | None, output_tokens: int | None
) -> CostResult:
    currency = pricing.currency

    def result(per_1000: Decimal | None, explanation: str) -> CostResult:
        return CostResult(
            currency=currency, per_1000_requests=per_1000, basis="api", explanation=explanation
        )

    priced_tokens = [
        (kind, tokens, price)
        for kind, tokens, price in (
            ("input", input_tokens, pricing.per_1m_input_tokens),
            ("output", output_tokens, pricing.per_1m_output_tokens),
        )
        if price
    ]
    unknown = [kind for kind, tokens, _ in priced_tokens if tokens is None]
    if unknown:
        kinds = " and ".join(unknown)
        return result(
            None,
            f"{kinds.capitalize()} tokens are priced but their counts are unknown, "
            "so the cost cannot be computed.",
        )
    if priced_tokens and requests <= 0:
        return result(
            None, "Tokens are priced, but no requests were measured to average them over."
        )
    per_request = pricing.per_request
    figures = []
    if pricing.per_request or not priced_tokens:
        figures.append(f"{_price(pricing.per_request)} {currency}")
    for kind, tokens, price in priced_tokens:
        assert tokens is not None  # unknown counts returned above
        mean_tokens = _CONTEXT.divide(Decimal(tokens), Decimal(requests))
        per_request = _CONTEXT.add(
            per_request, _CONTEXT.divide(_CONTEXT.multiply(mean_tokens, price), _MILLION)
        )
        figures.append(
            f"{_plain(_round_significant(mean_tokens))} {kind} tokens × "
            f"{_price(price)} {currency}/1M"
        )
    per_1000 = _round_significant(_CONTEXT.multiply(per_request, _THOUSAND))
    averaged = ""
    if priced_tokens:
        totals = ", ".join(f"{tokens:,} {kind}" for kind, tokens, _ in priced_tokens)
        averaged = f" (mean tokens per request over {requests:,} requests; totals {totals})"
    return result(
        per_1000,
        f"1000 × ({' + '.join(figures)}) = {format_money(per_1000, currency)} "
        f"per 1,000 requests{averaged}.",
    )


def cost_per_1000_requests(
    pricing: InstancePricing | ApiPricing | None,
    *,
    throughput_rps: float | None,
    within_sla: bool | None,
    requests: int,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
) -> CostResult:
    """Cost of 1,000 requests under ``pricing``, with the formula and figures in ``explanation``.

    ``throughput_rps`` (instance pricing) is the throughput of the whole deployment of
    ``pricing.instances`` instances; ``within_sla`` says whether it was measured within the SLA.
    ``requests``, ``input_tokens`` and ``output_tokens`` (API pricing) are the number of measured
    requests and their token totals; an unknown (None) total of a priced token kind makes the
    cost unknown rather than understated. Without pricing the result has basis ``"none"``, no
    amount and an empty currency.
    """
    if pricing is None:
        return CostResult(
            currency="",
            per_1000_requests=None,
            basis="none",
            explanation="No pricing was given for this model, so its cost is unknown.",
        )
    if isinstance(pricing, InstancePricing):
        return _instance_cost(pricing, throughput_rps, within_sla)
    return _api_cost(pricing, requests, input_tokens, output_tokens)
