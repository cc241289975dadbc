"""The decision parts of a report as plain strings: paired comparisons, capacity, business case.

Built once here and drawn by both the HTML and the Markdown rendering, like ``_tables`` and
``_llm_tables``, so the two cannot disagree on a figure. A report without these parts (most
classification runs) gets an empty view and the renderings leave the sections out.

Everything shown is already in the report: the comparisons and tie groups come from the paired
tests of the run, the capacity plan and the business case carry their own figures and formulas.
Nothing is recomputed here, only formatted; where the business case has figures at both ends of
the lift's interval, each figure is shown with them, so the uncertainty of the lift is read
off every amount it drives.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from modelmeter.report import _format as fmt
from modelmeter.report._tables import Column, Row, Table
from modelmeter.results import (
    BusinessCase,
    BusinessFigures,
    CapacityPlan,
    Interval,
    PairComparison,
    Report,
)

__all__ = [
    "BusinessView",
    "CapacityView",
    "ComparisonView",
    "DecisionView",
    "LinkedFile",
    "business_view",
    "capacity_view",
    "comparison_view",
    "decision_view",
    "linked_file",
]

# Pairs are called distinguishable at Holm-adjusted p ≤ 0.05 (PairComparison.distinguishable).
_ALPHA = 0.05

# The method names the report stores (modelmeter.stats.MCNEMAR_EXACT, PAIRED_BOOTSTRAP), written
# out: importing modelmeter.stats loads scipy, which renderers of old reports do not need.
MCNEMAR_EXACT = "mcnemar-exact"
PAIRED_BOOTSTRAP = "paired-bootstrap"
_METHOD_NAMES = {MCNEMAR_EXACT: "McNemar exact", PAIRED_BOOTSTRAP: "paired bootstrap"}

_METHOD_NOTES = {
    MCNEMAR_EXACT: "McNemar exact tests right/wrong answers on the items where exactly one of "
    "the two models was right",
    PAIRED_BOOTSTRAP: "paired bootstrap resamples the same items for both models to test the "
    "difference in mean score",
}

# Definition keys a report may carry for the tests; the first one present is linked.
_RAW_P_DEFINITIONS = ("paired_test", "mcnemar", "paired_bootstrap")
_HOLM_DEFINITIONS = ("holm",)

_SOURCE_WORDS = {
    "sla_search": "the highest arrival rate that met the SLA (SLA search)",
    "throughput_within_sla": "the load phase's throughput, whose figures met the SLA",
    "throughput": "the throughput measured without an SLA check, so the plan may be optimistic",
}

# A file is linked only when it is a plain file name beside the report: never a path, never a
# URL (the same rule as the router configurations).
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class LinkedFile:
    name: str
    href: str | None
    """The link, relative to the report; None when the name is not a plain file name."""


@dataclass(frozen=True, slots=True)
class ComparisonView:
    """Are the differences real: tie groups, the table of pairs and their sentences."""

    groups: tuple[str, ...]
    """One line per tie group, best first: ``base, optimised — not distinguishable at 95%``."""
    table: Table | None
    """A row per pair: difference with interval, method, items, raw and adjusted p, verdict."""
    sentences: tuple[str, ...]
    methods: str
    """What the tests and the Holm adjustment are, in one line."""
    definitions: tuple[tuple[str, str], ...] = ()
    """(label, key into Report.definitions) for the tests, when the report defines them."""


@dataclass(frozen=True, slots=True)
class CapacityView:
    """The capacity plan: its figures, its formulas and the manifests written with it."""

    model: str
    facts: tuple[tuple[str, str], ...]
    explanation: tuple[str, ...]
    manifest: LinkedFile | None


@dataclass(frozen=True, slots=True)
class BusinessView:
    """The business case: what switching is worth, with the lift's interval carried through."""

    title: str
    """``baseline → candidate``."""
    facts: tuple[tuple[str, str], ...]
    verdict: str
    established: bool | None
    """True: the gain is established; False: it is not; None: no interval to tell."""
    ranges_note: str
    """What the figures in brackets are; empty when there are none."""
    explanation: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DecisionView:
    """What the renderings draw of the decision parts; absent parts are None."""

    comparisons: ComparisonView | None = None
    capacity: CapacityView | None = None
    business: BusinessView | None = None


def linked_file(name: str) -> LinkedFile:
    return LinkedFile(name=name, href=name if _FILE_NAME.fullmatch(name) else None)


# --------------------------------------------------------------------------------------------
# Paired comparisons


def _signed(value: float, decimals: int = 3) -> str:
    if not math.isfinite(value):
        return fmt.MISSING
    return f"{value:+,.{decimals}f}"


def _level(interval: Interval) -> str:
    return f"{fmt.significant(interval.level * 100, 3)}%"


def _difference(pair: PairComparison) -> str:
    """``+0.072 (+0.041 to +0.103)``: signed, since the ends may fall either side of 0."""
    ci = pair.interval
    text = f"{_signed(pair.difference)} ({_signed(ci.low)} to {_signed(ci.high)}"
    if not math.isclose(ci.level, 0.95):
        text += f", {_level(ci)}"
    return text + ")"


def _verdict(pair: PairComparison) -> str:
    if not pair.distinguishable:
        return "not distinguishable"
    higher = pair.a if pair.difference >= 0 else pair.b
    return f"different: {higher} higher"


def _group_line(names: list[str]) -> str:
    listed = ", ".join(names)
    if len(names) < 2:
        return listed
    return f"{listed} — not distinguishable at 95%"


def _first_definition(report: Report, keys: tuple[str, ...]) -> str | None:
    return next((key for key in keys if key in report.definitions), None)


def comparison_view(report: Report) -> ComparisonView | None:
    """The tie groups and every pair, or None when the run compared no models."""
    if not report.comparisons and not report.tie_groups:
        return None
    raw_key = _first_definition(report, _RAW_P_DEFINITIONS)
    holm_key = _first_definition(report, _HOLM_DEFINITIONS)
    table: Table | None = None
    if report.comparisons:
        columns = (
            Column("a vs b"),
            Column("difference a − b (95% CI)", numeric=True),
            Column("method"),
            Column("items", numeric=True),
            Column("p", numeric=True, definition=raw_key),
            Column("Holm-adjusted p", numeric=True, definition=holm_key),
            Column("verdict at 95%"),
        )
        from modelmeter.stats import format_p_value  # scipy: imported only when drawn

        rows = tuple(
            Row(
                (
                    f"{pair.a} vs {pair.b}",
                    _difference(pair),
                    _METHOD_NAMES.get(pair.method, pair.method),
                    fmt.integer(pair.items),
                    format_p_value(pair.p_value, _ALPHA),
                    format_p_value(pair.p_adjusted, _ALPHA),
                    _verdict(pair),
                )
            )
            for pair in report.comparisons
        )
        table = Table(columns, rows)
    used = list(dict.fromkeys(pair.method for pair in report.comparisons))
    notes = [_METHOD_NOTES[m] for m in used if m in _METHOD_NOTES]
    notes.append(
        "Holm adjusts the p-values of all pairs together, so that the chance of calling any "
        "equal pair different stays at 5%; a pair is distinguishable when its adjusted p ≤ 0.05"
    )
    methods = "; ".join(notes) + "."
    if report.tie_groups:
        methods += (
            " Models in one group are not distinguishable, and the ranking counts them as "
            "equal on quality."
        )
    definitions = tuple(
        (label, key)
        for label, key in (("paired test", raw_key), ("Holm", holm_key))
        if key is not None
    )
    return ComparisonView(
        groups=tuple(_group_line(group) for group in report.tie_groups if group),
        table=table,
        sentences=tuple(pair.sentence for pair in report.comparisons),
        methods=methods,
        definitions=definitions,
    )


# --------------------------------------------------------------------------------------------
# Capacity plan


def _replicas(count: int) -> str:
    return f"{fmt.integer(count)} replica{'s' if count != 1 else ''}"


def _money(value: Decimal | None, currency: str | None) -> str:
    return fmt.money(value, currency) if value is not None else fmt.MISSING


def capacity_view(report: Report) -> CapacityView | None:
    """The capacity plan of the chosen model, or None when the report has none."""
    plan: CapacityPlan | None = report.capacity
    if plan is None:
        return None
    model = report.capacity_model or fmt.MISSING
    replicas = _replicas(plan.replicas)
    if plan.replicas != plan.replicas_for_peak:
        replicas += (
            f" (the peak needs {fmt.integer(plan.replicas_for_peak)}; held at the minimum of "
            f"{fmt.integer(plan.min_replicas)})"
        )
    facts = [
        ("Model", model),
        (
            "Per-replica capacity",
            f"{fmt.rps(plan.per_replica_rps)} req/s: "
            + _SOURCE_WORDS.get(plan.source, plan.source),
        ),
        (
            "Peak planned for",
            f"{fmt.rps(plan.peak_rps)} req/s with {fmt.percent(plan.headroom)} headroom"
            + (
                " (a reference peak: declare capacity.peak_rps to plan for yours)"
                if report.capacity_reference
                else ""
            ),
        ),
        ("Replicas at peak", replicas),
        ("Utilisation at peak", fmt.percent(plan.utilisation_at_peak)),
        (
            "Autoscaler (HPA)",
            f"{fmt.integer(plan.min_replicas)} to {_replicas(plan.max_replicas)}, target "
            f"{fmt.rps(plan.hpa_target_rps)} req/s per replica "
            f"({fmt.percent(plan.target_utilisation)} of its capacity)",
        ),
    ]
    if plan.average_rps is not None and plan.replicas_at_average is not None:
        facts.append(
            (
                "At average load",
                f"{fmt.rps(plan.average_rps)} req/s: {_replicas(plan.replicas_at_average)} at "
                f"{fmt.percent(plan.utilisation_at_average)} utilisation",
            )
        )
    if plan.price_per_hour is not None and plan.currency is not None:
        facts.append(
            (
                "Price per replica",
                f"{fmt.money(plan.price_per_hour, plan.currency)}/h × "
                f"{fmt.significant(float(plan.hours_per_month))} h per month",
            )
        )
        facts.append(
            ("Monthly cost at peak provisioning", _money(plan.monthly_cost, plan.currency))
        )
        if plan.monthly_cost_at_average is not None:
            facts.append(
                (
                    "Monthly cost autoscaled at average load",
                    fmt.money(plan.monthly_cost_at_average, plan.currency),
                )
            )
    else:
        facts.append(("Monthly cost", "not computed: no price per hour"))
    return CapacityView(
        model=model,
        facts=tuple(facts),
        explanation=tuple(plan.explanation),
        manifest=linked_file(report.manifest_file) if report.manifest_file else None,
    )


# --------------------------------------------------------------------------------------------
# Business case


def _points(lift: float) -> str:
    """A lift in percentage points, signed: ``+7.2``."""
    return f"{lift * 100:+.1f}"


def _ratio(value: Decimal) -> str:
    return f"{float(value):.1%}"


def _ranged(case: BusinessCase, show: Callable[[BusinessFigures], str]) -> str:
    """``expected (at low to at high)``: a figure at the measured lift, then at both ends of the
    lift's interval when the case has one."""
    text = show(case.expected)
    if case.at_lift_low is None or case.at_lift_high is None:
        return text
    return f"{text} ({show(case.at_lift_low)} to {show(case.at_lift_high)})"


def _roi(figures: BusinessFigures) -> str:
    if figures.roi is not None:
        return _ratio(figures.roi)
    # Net benefit known but nothing invested: ROI has no denominator.
    return "not defined" if figures.net_monthly_benefit is not None else fmt.MISSING


def _payback(figures: BusinessFigures) -> str:
    if figures.payback_months is not None:
        return f"{figures.payback_months:.2f} months"
    return "never" if figures.net_monthly_benefit is not None else fmt.MISSING


def _lift(case: BusinessCase) -> str:
    text = f"{_points(case.expected.lift)} points"
    if case.lift_low is None or case.lift_high is None:
        return text + " (no interval)"
    level = f"{fmt.significant((case.interval_level or 0.95) * 100, 3)}%"
    method = f", {case.lift_interval_method}" if case.lift_interval_method else ""
    return f"{text} ({_points(case.lift_low)} to {_points(case.lift_high)} points; {level}{method})"


def _business_verdict(case: BusinessCase) -> str:
    if case.gain_established is None:
        return "whether the gain is real is not known: the lift has no interval"
    if case.gain_established:
        return "the gain is established: the lift's interval lies above 0"
    if case.lift_high is not None and case.lift_high < 0:
        return (
            f"the gain is not established: the lift's interval lies below 0, so "
            f"{case.candidate} is worse than {case.baseline}"
        )
    return "the gain is not established: the lift's interval includes 0"


def business_view(report: Report) -> BusinessView | None:
    """The business case, or None when the report has none."""
    case: BusinessCase | None = report.business_case
    if case is None:
        return None
    currency = case.currency
    unit = "correct answers" if case.value_per == "correct" else "conversions"
    rate = "Accuracy" if case.value_per == "correct" else "Conversion rate"
    horizon = f"{case.horizon_months} month{'s' if case.horizon_months != 1 else ''}"
    facts = [
        (
            rate,
            f"{case.baseline} {fmt.score(case.baseline_accuracy)} → {case.candidate} "
            f"{fmt.score(case.candidate_accuracy)}",
        ),
        ("Lift", _lift(case)),
        (
            f"Extra {unit} per month",
            _ranged(case, lambda f: fmt.significant(float(f.extra_per_month)))
            + f" of {fmt.significant(float(case.monthly_requests))} requests",
        ),
        (
            "Value per month",
            _ranged(case, lambda f: fmt.money(f.monthly_value, currency))
            + f" at {fmt.money(case.value_per_correct, currency)} each",
        ),
    ]
    if case.extra_monthly_cost is not None:
        extra = fmt.money(case.extra_monthly_cost, currency)
        if case.monthly_cost_candidate is not None and case.monthly_cost_baseline is not None:
            extra += (
                f" ({case.candidate} {fmt.money(case.monthly_cost_candidate, currency)} − "
                f"{case.baseline} {fmt.money(case.monthly_cost_baseline, currency)})"
            )
        facts.append(("Extra cost per month", extra))
    else:
        facts.append(("Extra cost per month", "unknown: a model has no price"))
    facts.append(("One-off cost", fmt.money(case.one_off_cost, currency)))
    if case.expected.net_monthly_benefit is not None:
        facts += [
            (
                "Net benefit per month",
                _ranged(case, lambda f: _money(f.net_monthly_benefit, currency)),
            ),
            (
                f"Net gain over {horizon}",
                _ranged(case, lambda f: _money(f.net_gain_over_horizon, currency)),
            ),
            (f"ROI over {horizon}", _ranged(case, _roi)),
            ("Payback", _ranged(case, _payback)),
        ]
    ranges_note = ""
    if case.at_lift_low is not None and case.at_lift_high is not None:
        ranges_note = (
            "Figures in brackets are at the low and the high end of the lift's interval: what "
            "the switch brings if the true lift lies at either end."
        )
    return BusinessView(
        title=f"{case.baseline} → {case.candidate}",
        facts=tuple(facts),
        verdict=_business_verdict(case),
        established=case.gain_established,
        ranges_note=ranges_note,
        explanation=tuple(case.explanation),
    )


def decision_view(report: Report) -> DecisionView:
    return DecisionView(
        comparisons=comparison_view(report),
        capacity=capacity_view(report),
        business=business_view(report),
    )
