"""The business case for switching models: what the quality lift is worth against what it costs.

A better model is worth switching to when the extra correct answers (or conversions) it brings
are worth more than the extra it costs to run. The arithmetic, with ``lift`` = candidate
accuracy − baseline accuracy::

    monthly value        = lift × monthly_requests × value_per_correct
    extra monthly cost   = candidate's monthly cost − baseline's monthly cost
    net monthly benefit  = monthly value − extra monthly cost
    net gain over H      = net monthly benefit × H − one_off_cost
    ROI over H months    = net gain over H / (one_off_cost + extra monthly cost × H)
    payback months       = one_off_cost / net monthly benefit      (never, when benefit ≤ 0)

A lift is an estimate, so each figure is also computed at both ends of the lift's interval
(the interval of the lift carried through); when that interval includes 0, the gain is not
established and the report says so. The lift's interval is, best, the interval of the paired
difference (both models graded on the same items); else it is combined from the two accuracy
intervals by the MOVER method (Zou & Donner 2008), which assumes independent samples and is
wider than a paired interval.

ROI is undefined when nothing is invested over the horizon (no one-off cost and a candidate no
dearer than the baseline): the net gain says what switching brings then. Money is ``Decimal``
in one explicit currency; amounts in different currencies are refused, never converted.
"""

from __future__ import annotations

import math
from decimal import Decimal

from modelmeter._money import DECIMAL_CONTEXT as _CONTEXT
from modelmeter._money import currency_code, format_money
from modelmeter._money import round_significant as _round_significant
from modelmeter.economics.cost import ensure_single_currency
from modelmeter.production.capacity import PlanError, _decimal, _number
from modelmeter.results import BusinessCase, BusinessFigures, ValuePer

__all__ = [
    "business_case",
]


_UNIT = {"correct": "correct answers", "conversion": "conversions"}


def _share(value: float, argument: str, low: float = 0.0) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(f"must be a number, got {value!r}", argument=argument)
    if not low <= value <= 1:
        raise PlanError(f"must be between {low:g} and 1, got {value!r}", argument=argument)
    return _decimal(value)


def _interval(
    interval: tuple[float, float] | None, argument: str, low: float = 0.0
) -> tuple[Decimal, Decimal] | None:
    if interval is None:
        return None
    if not isinstance(interval, tuple | list) or len(interval) != 2:
        raise PlanError(f"must be a (low, high) pair, got {interval!r}", argument=argument)
    start = _share(interval[0], f"{argument}[0]", low)
    end = _share(interval[1], f"{argument}[1]", low)
    if start > end:
        raise PlanError(
            f"low end {interval[0]!r} is above high end {interval[1]!r}", argument=argument
        )
    return start, end


def _amount(
    value: Decimal | int | None, argument: str, *, optional: bool = False
) -> Decimal | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise PlanError(
            f"must be a Decimal amount (exact money, never a float), got {value!r}",
            argument=argument,
        )
    found = Decimal(value)
    if not found.is_finite() or found < 0:
        raise PlanError(f"must be 0 or more, got {value!r}", argument=argument)
    return found


def _count(value: Decimal) -> str:
    """A count for formulas, thousands separated: 50000 -> '50,000', 1234.5678 -> '1,234.57'."""
    rounded = _round_significant(value)
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}"
    return f"{rounded:,f}".rstrip("0").rstrip(".")


def _months(value: Decimal) -> str:
    return f"{value:.2f} months"


def _points(value: Decimal) -> str:
    return f"{float(value) * 100:+.1f} points"


def _ratio(value: Decimal) -> str:
    return f"{float(value):.1%}"


def _money(value: Decimal, currency: str) -> str:
    return format_money(_round_significant(value), currency)


def _figures(
    lift: Decimal,
    *,
    requests: Decimal,
    value_per_correct: Decimal,
    extra_cost: Decimal | None,
    one_off: Decimal,
    horizon: int,
    currency: str,
    unit: str,
    lines: list[str] | None,
) -> BusinessFigures:
    """The figures at one lift; ``lines`` collects their formulas when given."""

    def say(line: str) -> None:
        if lines is not None:
            lines.append(line)

    months = Decimal(horizon)
    extra = _CONTEXT.multiply(lift, requests)
    value = _CONTEXT.multiply(extra, value_per_correct)
    say(f"extra {unit} per month = {_number(lift)} × {_count(requests)} requests = {_count(extra)}")
    say(
        f"monthly value = {_count(extra)} × {format_money(value_per_correct, currency)} = "
        f"{_money(value, currency)}"
    )
    net: Decimal | None = None
    gain: Decimal | None = None
    roi: Decimal | None = None
    payback: Decimal | None = None
    if extra_cost is not None:
        net = _CONTEXT.subtract(value, extra_cost)
        say(
            f"net monthly benefit = {_money(value, currency)} − {_money(extra_cost, currency)} = "
            f"{_money(net, currency)}"
        )
        gain = _CONTEXT.subtract(_CONTEXT.multiply(net, months), one_off)
        invested = _CONTEXT.add(one_off, _CONTEXT.multiply(extra_cost, months))
        formula = (
            f"({_money(net, currency)} × {horizon} − {_money(one_off, currency)}) / "
            f"({_money(one_off, currency)} + {_money(extra_cost, currency)} × {horizon})"
        )
        if invested > 0:
            roi = _CONTEXT.divide(gain, invested)
            say(
                f"ROI over {horizon} months = {formula} = {_money(gain, currency)} / "
                f"{_money(invested, currency)} = {_ratio(roi)}"
            )
        else:
            say(
                f"ROI over {horizon} months: not defined, as nothing is invested "
                f"({_money(one_off, currency)} + {_money(extra_cost, currency)} × {horizon} = "
                f"{_money(invested, currency)}); the net gain over {horizon} months is "
                f"{_money(gain, currency)}"
            )
        if net > 0:
            payback = _CONTEXT.divide(one_off, net)
            say(
                f"payback = {_money(one_off, currency)} / {_money(net, currency)} per month = "
                f"{_months(payback)}"
            )
        else:
            say("payback: never, as the net monthly benefit is not positive")
    return BusinessFigures(
        lift=float(lift),
        extra_per_month=_round_significant(extra),
        monthly_value=_round_significant(value),
        net_monthly_benefit=None if net is None else _round_significant(net),
        net_gain_over_horizon=None if gain is None else _round_significant(gain),
        roi=None if roi is None else _round_significant(roi),
        payback_months=None if payback is None else _round_significant(payback),
    )


def _summary(figures: BusinessFigures, currency: str, horizon: int) -> str:
    parts = [f"monthly value {format_money(figures.monthly_value, currency)}"]
    if figures.net_monthly_benefit is not None:
        parts.append(f"net monthly benefit {format_money(figures.net_monthly_benefit, currency)}")
        parts.append(
            f"ROI over {horizon} months "
            + ("not defined" if figures.roi is None else _ratio(figures.roi))
        )
        parts.append(
            "payback never"
            if figures.payback_months is None
            else f"payback {_months(figures.payback_months)}"
        )
    return ", ".join(parts)


def business_case(
    *,
    value_per_correct: Decimal,
    currency: str,
    monthly_requests: Decimal | int,
    baseline_accuracy: float,
    candidate_accuracy: float,
    monthly_cost_baseline: Decimal | None,
    monthly_cost_candidate: Decimal | None,
    baseline_interval: tuple[float, float] | None = None,
    candidate_interval: tuple[float, float] | None = None,
    lift_interval: tuple[float, float] | None = None,
    interval_level: float = 0.95,
    baseline_cost_currency: str | None = None,
    candidate_cost_currency: str | None = None,
    one_off_cost: Decimal = Decimal(0),
    horizon_months: int = 12,
    value_per: ValuePer = "correct",
    baseline: str = "baseline",
    candidate: str = "candidate",
) -> BusinessCase:
    """Weigh switching from ``baseline`` to ``candidate``: value of the lift against its cost.

    Accuracies (or conversion rates) are shares in [0, 1]. ``lift_interval`` is the interval of
    the paired difference candidate − baseline when both were graded on the same items; without
    it, ``baseline_interval`` and ``candidate_interval`` are combined by MOVER. Monthly costs
    are in ``currency`` unless ``baseline_cost_currency`` / ``candidate_cost_currency`` say
    otherwise, which raises :class:`~modelmeter.economics.cost.CurrencyMismatchError`; a None
    cost (no price) leaves benefit, ROI and payback unknown. Raises :class:`PlanError` naming
    the argument when a figure is out of range.
    """
    try:
        code = str(currency_code(currency))
    except ValueError as exc:
        raise PlanError(str(exc), argument="currency") from None
    currencies = {"value_per_correct": code}
    for cost, cost_code, who in (
        (monthly_cost_baseline, baseline_cost_currency, baseline),
        (monthly_cost_candidate, candidate_cost_currency, candidate),
    ):
        if cost is not None and cost_code is not None:
            try:
                currencies[f"monthly cost of {who}"] = str(currency_code(cost_code))
            except ValueError as exc:
                raise PlanError(str(exc), argument=f"monthly cost currency of {who}") from None
    ensure_single_currency(currencies)

    value = _amount(value_per_correct, "value_per_correct")
    assert value is not None
    if value == 0:
        raise PlanError("must be above 0", argument="value_per_correct")
    requests = _amount(monthly_requests, "monthly_requests")
    assert requests is not None
    one_off = _amount(one_off_cost, "one_off_cost")
    assert one_off is not None
    cost_baseline = _amount(monthly_cost_baseline, "monthly_cost_baseline", optional=True)
    cost_candidate = _amount(monthly_cost_candidate, "monthly_cost_candidate", optional=True)
    if (
        isinstance(horizon_months, bool)
        or not isinstance(horizon_months, int)
        or horizon_months < 1
    ):
        raise PlanError(
            f"must be a whole number of months, at least 1, got {horizon_months!r}",
            argument="horizon_months",
        )
    if value_per not in _UNIT:
        raise PlanError(
            f"must be 'correct' or 'conversion', got {value_per!r}", argument="value_per"
        )
    if not 0 < interval_level < 1:
        raise PlanError(
            f"must be between 0 and 1, got {interval_level!r}", argument="interval_level"
        )
    unit = _UNIT[value_per]
    p_base = _share(baseline_accuracy, "baseline_accuracy")
    p_cand = _share(candidate_accuracy, "candidate_accuracy")
    base_ci = _interval(baseline_interval, "baseline_interval")
    cand_ci = _interval(candidate_interval, "candidate_interval")
    paired = _interval(lift_interval, "lift_interval", low=-1.0)

    lift = _CONTEXT.subtract(p_cand, p_base)
    explanation = [
        f"lift = {candidate} {_number(p_cand)} − {baseline} {_number(p_base)} = "
        f"{_number(lift)} ({_points(lift)})"
    ]
    level = f"{interval_level:.0%}"
    bounds: tuple[Decimal, Decimal] | None = None
    method: str | None = None
    if paired is not None:
        bounds = paired
        method = "paired difference"
        explanation.append(
            f"lift interval ({level}) = [{_number(paired[0])}, {_number(paired[1])}]: the "
            "interval of the paired difference (both models graded on the same items)"
        )
    elif base_ci is not None and cand_ci is not None:
        # MOVER (Zou & Donner 2008): each end of the difference moves by the root of the
        # summed squared distances from each estimate to the interval end that pushes it there.
        low = lift - _CONTEXT.sqrt(
            _CONTEXT.add((p_cand - cand_ci[0]) ** 2, (base_ci[1] - p_base) ** 2)
        )
        high = lift + _CONTEXT.sqrt(
            _CONTEXT.add((cand_ci[1] - p_cand) ** 2, (p_base - base_ci[0]) ** 2)
        )
        bounds = (max(low, Decimal(-1)), min(high, Decimal(1)))
        method = "MOVER from the two accuracy intervals"
        explanation.append(
            f"lift interval ({level}): low = {_number(lift)} − √(({_number(p_cand)} − "
            f"{_number(cand_ci[0])})² + ({_number(base_ci[1])} − {_number(p_base)})²) = "
            f"{_number(bounds[0])}, high = {_number(lift)} + √(({_number(cand_ci[1])} − "
            f"{_number(p_cand)})² + ({_number(p_base)} − {_number(base_ci[0])})²) = "
            f"{_number(bounds[1])}: MOVER from the two accuracy intervals, which assumes "
            "independent samples; a paired interval is narrower when both models answered the "
            "same items"
        )
    else:
        explanation.append(
            "no interval was given for the lift (or for both accuracies), so whether the gain "
            "is real is not known"
        )

    extra_cost: Decimal | None = None
    if cost_baseline is not None and cost_candidate is not None:
        extra_cost = _CONTEXT.subtract(cost_candidate, cost_baseline)
        explanation.append(
            f"extra monthly cost = {candidate} {_money(cost_candidate, code)} − {baseline} "
            f"{_money(cost_baseline, code)} = {_money(extra_cost, code)}"
        )
    else:
        unknown = [
            who
            for who, cost in ((baseline, cost_baseline), (candidate, cost_candidate))
            if cost is None
        ]
        explanation.append(
            f"the monthly cost of {' and '.join(unknown)} is unknown (no price), so net benefit, "
            "ROI and payback are not computed"
        )

    def figures(at: Decimal, lines: list[str] | None) -> BusinessFigures:
        return _figures(
            at,
            requests=requests,
            value_per_correct=value,
            extra_cost=extra_cost,
            one_off=one_off,
            horizon=horizon_months,
            currency=code,
            unit=unit,
            lines=lines,
        )

    expected = figures(lift, explanation)
    at_low: BusinessFigures | None = None
    at_high: BusinessFigures | None = None
    established: bool | None = None
    if bounds is not None:
        at_low = figures(bounds[0], None)
        at_high = figures(bounds[1], None)
        explanation.append(
            f"the interval of the lift carried through: at lift {_number(bounds[0])}, "
            f"{_summary(at_low, code, horizon_months)}; at lift {_number(bounds[1])}, "
            f"{_summary(at_high, code, horizon_months)}"
        )
        established = bounds[0] > 0
        if bounds[1] < 0:
            explanation.append(
                f"the lift's interval lies below 0: {candidate} is worse than {baseline}, so "
                "there is no gain to pay for"
            )
        elif not established:
            explanation.append(
                f"the lift's interval includes 0, so the gain is not established: {candidate} "
                f"may be no better than {baseline}, and the figures at the low end are what "
                "switching risks"
            )
        else:
            explanation.append(
                f"the lift's interval lies above 0, so the gain is established at {level}"
            )

    return BusinessCase(
        baseline=baseline,
        candidate=candidate,
        currency=code,
        value_per=value_per,
        value_per_correct=value,
        monthly_requests=requests,
        baseline_accuracy=float(p_base),
        candidate_accuracy=float(p_cand),
        lift_low=None if bounds is None else float(bounds[0]),
        lift_high=None if bounds is None else float(bounds[1]),
        interval_level=None if bounds is None else interval_level,
        lift_interval_method=method,
        gain_established=established,
        monthly_cost_baseline=cost_baseline,
        monthly_cost_candidate=cost_candidate,
        extra_monthly_cost=extra_cost,
        one_off_cost=one_off,
        horizon_months=horizon_months,
        expected=expected,
        at_lift_low=at_low,
        at_lift_high=at_high,
        explanation=explanation,
    )
