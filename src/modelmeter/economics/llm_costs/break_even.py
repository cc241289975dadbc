"""API or self-hosting: the monthly volume from which paying for instances costs less."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

from modelmeter._money import DECIMAL_CONTEXT as _CONTEXT
from modelmeter._money import plain_decimal as _plain
from modelmeter._money import price_text as _price
from modelmeter._money import round_significant as _round_significant
from modelmeter.economics.cost import CurrencyMismatchError
from modelmeter.economics.llm_costs.bill import (
    _HOURS_PER_DAY,
    _SECONDS_PER_HOUR,
    _count,
    _decimal,
    _money,
)
from modelmeter.results import BreakEven
from modelmeter.spec.economics import DEFAULT_DAYS_PER_MONTH
from modelmeter.spec.pricing import InstancePricing

__all__ = ["break_even"]


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
