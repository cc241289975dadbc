"""How many replicas a model needs at peak, and what running them costs per month.

A benchmark measures one replica; production needs a number of replicas and a monthly bill.
The step between them is short arithmetic, but every figure in it is a choice someone will ask
about, so the plan keeps the formula of each with the figures filled in (``explanation``)::

    replicas        = max(min_replicas, ceil(peak_rps × (1 + headroom) / per_replica_rps))
    utilisation     = peak_rps / (replicas × per_replica_rps)
    monthly cost    = replicas × price_per_hour × hours_per_month
    HPA target      = per_replica_rps × target_utilisation              (req/s per replica)
    average replicas = min(max_replicas, max(min_replicas, ceil(average_rps / HPA target)))

``per_replica_rps`` is what one replica can carry: best the highest arrival rate that still met
the SLA in an SLA search (``source="sla_search"``), else the throughput measured without an SLA
check (``source="throughput"``), which is optimistic because latency was not held to a limit.

The replica count at peak is also the autoscaler's ceiling (``max_replicas``) unless one is
declared; the HPA scales between ``min_replicas`` and it, aiming at ``target_utilisation`` of
each replica's capacity. The average-load cost is what that autoscaling costs when load stays
near its average; HPA lag and daily peaks add to it.

Money is ``Decimal`` in one explicit currency, rounded as in :mod:`modelmeter.economics.cost`.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal

from modelmeter._exceptions import PlanError
from modelmeter._money import DECIMAL_CONTEXT as _CONTEXT
from modelmeter._money import Money, currency_code, format_money
from modelmeter._money import plain_decimal as _plain
from modelmeter._money import price_text as _price
from modelmeter._money import round_significant as _round_significant
from modelmeter.results import CapacityPlan, CapacitySource
from modelmeter.spec.production import DEFAULT_HOURS_PER_MONTH

__all__ = [
    "PlanError",
    "plan_capacity",
]


# A count or rate in memory is Decimal (exact arithmetic); in JSON a plain number, as Money is.
Quantity = Money

_SOURCE_WORDS: dict[str, str] = {
    "sla_search": "the highest arrival rate that met the SLA in the SLA search",
    "throughput_within_sla": (
        "the throughput of the load phase, whose latency and errors met the SLA (one load "
        "level, not the highest rate that would)"
    ),
    "throughput": (
        "the throughput measured without an SLA check, so latency at this rate was not held to "
        "a limit and the plan may be optimistic"
    ),
}


def _decimal(value: float | int | Decimal) -> Decimal:
    if isinstance(value, Decimal):
        return value
    # repr gives the shortest decimal that round-trips: 0.3 -> Decimal('0.3'), not 0.2999...
    return Decimal(repr(value))


def _number(value: Decimal) -> str:
    """A figure for formulas: 6 significant digits, no trailing zeros: 2.1666666 -> '2.16667'."""
    return _plain(_round_significant(value))


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _finite_positive(value: float | Decimal, argument: str, meaning: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PlanError(f"must be a number ({meaning}), got {value!r}", argument=argument)
    if not math.isfinite(value) or value <= 0:
        raise PlanError(f"must be a positive number ({meaning}), got {value!r}", argument=argument)
    return _decimal(value)


def _replicas_word(count: int) -> str:
    return f"{count} replica{'s' if count != 1 else ''}"


def plan_capacity(
    per_replica_rps: float,
    *,
    source: CapacitySource,
    peak_rps: float,
    headroom: float = 0.3,
    min_replicas: int = 2,
    max_replicas: int | None = None,
    price_per_hour: Decimal | None,
    currency: str | None,
    hours_per_month: Decimal | int | float = DEFAULT_HOURS_PER_MONTH,
    target_utilisation: float = 0.7,
    average_rps: float | None = None,
) -> CapacityPlan:
    """The replicas ``peak_rps`` needs with ``headroom``, their autoscaling range and cost.

    ``per_replica_rps`` is one replica's capacity and ``source`` where it comes from (see the
    module docstring). Without ``price_per_hour`` the plan has no amounts and says so; with it,
    ``currency`` (ISO 4217) is required. Raises :class:`PlanError` naming the argument when a
    figure is out of range, e.g. a zero capacity (no rate met the SLA) or a ``max_replicas``
    below what the peak needs.
    """
    if source not in _SOURCE_WORDS:
        raise PlanError(f"must be 'sla_search' or 'throughput', got {source!r}", argument="source")
    capacity = _finite_positive(
        per_replica_rps,
        "per_replica_rps",
        "requests per second one replica carries; zero means no rate met the SLA, so there is "
        "nothing to plan with",
    )
    peak = _finite_positive(peak_rps, "peak_rps", "the peak request rate, in requests per second")
    if not math.isfinite(headroom) or headroom < 0:
        raise PlanError(
            f"must be 0 or more (a share of the peak: 0.3 = 30%), got {headroom!r}",
            argument="headroom",
        )
    spare = _decimal(headroom)
    if not 0 < target_utilisation <= 1:
        raise PlanError(
            f"must be above 0 and at most 1, got {target_utilisation!r}",
            argument="target_utilisation",
        )
    target = _decimal(target_utilisation)
    if isinstance(min_replicas, bool) or not isinstance(min_replicas, int) or min_replicas < 1:
        raise PlanError(
            f"must be a whole number of at least 1, got {min_replicas!r}", argument="min_replicas"
        )
    hours = _finite_positive(hours_per_month, "hours_per_month", "hours billed per month")
    average: Decimal | None = None
    if average_rps is not None:
        average = _finite_positive(average_rps, "average_rps", "the average request rate")
        if average > peak:
            raise PlanError(
                f"{average_rps:g} req/s cannot exceed peak_rps ({peak_rps:g} req/s)",
                argument="average_rps",
            )
    code: str | None = None
    if price_per_hour is not None:
        if (
            not isinstance(price_per_hour, Decimal)
            or not price_per_hour.is_finite()
            or price_per_hour <= 0
        ):
            raise PlanError(
                f"must be a positive Decimal amount, got {price_per_hour!r}",
                argument="price_per_hour",
            )
        if not currency:
            raise PlanError(
                "a price per hour needs its ISO 4217 currency code (e.g. EUR, USD)",
                argument="currency",
            )
        try:
            code = str(currency_code(currency))
        except ValueError as exc:
            raise PlanError(str(exc), argument="currency") from None

    explanation = [
        f"per-replica capacity = {_number(capacity)} req/s: {_SOURCE_WORDS[source]}",
    ]
    demand = _CONTEXT.multiply(peak, _CONTEXT.add(Decimal(1), spare))
    exact_replicas = _CONTEXT.divide(demand, capacity)
    replicas_for_peak = _ceil(exact_replicas)
    explanation.append(
        f"replicas for peak = ceil({_number(peak)} req/s × (1 + {_number(spare)} headroom) / "
        f"{_number(capacity)} req/s) = ceil({_number(exact_replicas)}) = {replicas_for_peak}"
    )
    replicas = max(replicas_for_peak, min_replicas)
    if replicas != replicas_for_peak:
        explanation.append(
            f"replicas = max({replicas_for_peak}, min_replicas {min_replicas}) = {replicas}: "
            "the peak needs fewer than the minimum kept running"
        )
    if max_replicas is None:
        ceiling = replicas
    else:
        if isinstance(max_replicas, bool) or not isinstance(max_replicas, int):
            raise PlanError(
                f"must be a whole number, got {max_replicas!r}", argument="max_replicas"
            )
        if max_replicas < replicas:
            raise PlanError(
                f"{max_replicas} is fewer than the {replicas} replicas the peak needs "
                f"({_number(peak)} req/s with {_number(spare)} headroom at "
                f"{_number(capacity)} req/s each); raise it or leave it out",
                argument="max_replicas",
            )
        ceiling = max_replicas
    utilisation = _CONTEXT.divide(peak, _CONTEXT.multiply(Decimal(replicas), capacity))
    explanation.append(
        f"utilisation at peak = {_number(peak)} / ({replicas} × {_number(capacity)}) = "
        f"{float(utilisation):.1%}"
    )
    hpa_target = _CONTEXT.multiply(capacity, target)
    hpa_at_peak = _ceil(_CONTEXT.divide(peak, hpa_target))
    held = min(max(hpa_at_peak, min_replicas), ceiling)
    line = (
        f"HPA target = {_number(capacity)} req/s × {_number(target)} target utilisation = "
        f"{_number(hpa_target)} req/s per replica, between {min_replicas} and {ceiling} "
        f"replicas; at peak it asks for ceil({_number(peak)} / {_number(hpa_target)}) = "
        f"{hpa_at_peak}"
    )
    if hpa_at_peak > ceiling:
        peak_use = _CONTEXT.divide(peak, _CONTEXT.multiply(Decimal(ceiling), capacity))
        line += (
            f" and is held at max_replicas {ceiling}, where each replica runs at "
            f"{float(peak_use):.1%} of its capacity"
        )
    elif held != hpa_at_peak:
        line += f" and is held at min_replicas {held}"
    explanation.append(line)

    replicas_at_average: int | None = None
    utilisation_at_average: Decimal | None = None
    if average is not None:
        wanted = _ceil(_CONTEXT.divide(average, hpa_target))
        replicas_at_average = min(max(wanted, min_replicas), ceiling)
        utilisation_at_average = _CONTEXT.divide(
            average, _CONTEXT.multiply(Decimal(replicas_at_average), capacity)
        )
        explanation.append(
            f"replicas at average load = min({ceiling}, max(min_replicas {min_replicas}, "
            f"ceil({_number(average)} req/s / {_number(hpa_target)} req/s))) = "
            f"min({ceiling}, max({min_replicas}, {wanted})) = {replicas_at_average}, at "
            f"{float(utilisation_at_average):.1%} utilisation"
        )

    monthly_cost: Decimal | None = None
    monthly_cost_at_average: Decimal | None = None
    if price_per_hour is None or code is None:
        explanation.append("no price per hour was given, so the monthly cost is not computed")
    else:
        rate = f"{_price(price_per_hour)} {code}/h"
        monthly_cost = _round_significant(
            _CONTEXT.multiply(_CONTEXT.multiply(Decimal(replicas), price_per_hour), hours)
        )
        explanation.append(
            f"monthly cost at peak provisioning = {_replicas_word(replicas)} × {rate} × "
            f"{_number(hours)} h = {format_money(monthly_cost, code)}"
        )
        if replicas_at_average is not None:
            monthly_cost_at_average = _round_significant(
                _CONTEXT.multiply(
                    _CONTEXT.multiply(Decimal(replicas_at_average), price_per_hour), hours
                )
            )
            explanation.append(
                f"monthly cost autoscaled at average load = "
                f"{_replicas_word(replicas_at_average)} × {rate} × {_number(hours)} h = "
                f"{format_money(monthly_cost_at_average, code)} (load that stays near its "
                "average; HPA lag and daily peaks add to it)"
            )

    return CapacityPlan(
        per_replica_rps=float(capacity),
        source=source,
        peak_rps=float(peak),
        headroom=float(spare),
        replicas_for_peak=replicas_for_peak,
        replicas=replicas,
        min_replicas=min_replicas,
        max_replicas=ceiling,
        utilisation_at_peak=float(utilisation),
        target_utilisation=float(target),
        hpa_target_rps=float(hpa_target),
        hpa_replicas_at_peak=hpa_at_peak,
        average_rps=None if average is None else float(average),
        replicas_at_average=replicas_at_average,
        utilisation_at_average=(
            None if utilisation_at_average is None else float(utilisation_at_average)
        ),
        currency=code,
        price_per_hour=price_per_hour if code is not None else None,
        hours_per_month=hours,
        monthly_cost=monthly_cost,
        monthly_cost_at_average=monthly_cost_at_average,
        explanation=explanation,
    )
