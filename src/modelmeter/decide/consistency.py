"""Does every section of a report agree with its decision and with every other section?

:func:`inconsistencies` reads a finished :class:`~modelmeter.results.Report` and returns one
sentence per disagreement (an empty list when there is none). It checks what a reviewer would
catch reading the report end to end:

- the recommendation, the priorities table, the ranking, the capacity plan, the business case,
  the advice and the default route all name the model the decision chose;
- a sentence that calls two models level on quality ("cannot be told apart", "not clearly
  distinguishable", "no measurable loss", "inside …'s interval") names no pair the paired
  tests call significant;
- a cost per 1,000 requests given for a model anywhere is that model's one cost;
- a section cited (a horizon of the 90-day plan, Routing, the capacity plan, the business case)
  exists;
- a note that says a throughput was measured without an SLA check names no model whose cost
  says it was within the SLA.

The tests run it over every bundled example and the demo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from modelmeter.results import Report

__all__ = ["inconsistencies"]

_LEVEL = re.compile(
    r"cannot be told apart from|not clearly distinguishable from|not distinguishable from|"
    r"no measurable loss|inside (?P<owner>[^\s']+)'s interval"
)
_STOP = re.compile(r"\bahead of\b|\bbelow\b|\bscores higher\b|;|\. ")
_COST = re.compile(
    r"(?P<amount>-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?) (?P<currency>[A-Z]{3}) per 1,000 requests"
)
_HORIZON = re.compile(r"weeks (\d+-\d+)")


def _names_in(text: str, names: list[str], *, last: bool = False) -> list[str]:
    """Model names in ``text`` (whole words only), ordered by where each first appears, or
    with ``last`` by where each last appears."""
    found = []
    for name in names:
        starts = [m.start() for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)]
        if starts:
            found.append((starts[-1] if last else starts[0], name))
    return [name for _, name in sorted(found)]


def _texts(report: Report) -> Iterator[tuple[str, str]]:
    """(where, text) of every sentence-bearing part of the report."""
    yield "recommendation", report.recommendation.text
    for advice in report.advice:
        where = f"advice '{advice.title}'"
        for part in (advice.title, advice.finding, advice.action, advice.expected_effect):
            yield where, part
    for route in report.routing:
        yield f"route {route.route}", route.reason
    for note in report.notes:
        yield "notes", note


def _chosen_everywhere(report: Report) -> list[str]:
    found = []
    decision = report.decision
    if decision is None:
        return ["the report has no decision record"]
    chosen = decision.chosen
    if report.recommendation.chosen != chosen:
        found.append(
            f"the recommendation chooses {report.recommendation.chosen}, the decision {chosen}"
        )
    for choice in decision.choices:
        if report.recommendation.by_priority.get(choice.priority) != choice.chosen:
            found.append(f"the priorities table disagrees with the decision on {choice.priority}")
    first = next((r.name for r in report.ranking if r.eligible), None)
    if first != chosen:
        found.append(f"the ranking puts {first} first, the decision chooses {chosen}")
    if report.capacity is not None and report.capacity_model not in (None, chosen):
        found.append(f"the capacity plan is for {report.capacity_model}, not the chosen {chosen}")
    case = report.business_case
    if case is not None and case.candidate != chosen:
        found.append(f"the business case weighs {case.candidate}, not the chosen {chosen}")
    default = next((r for r in report.routing if r.route == "default"), None)
    if (
        default is not None
        and chosen is not None
        and default.model != chosen
        and chosen not in default.reason
    ):
        found.append(
            f"the default route sends traffic to {default.model}, the recommendation "
            f"chooses {chosen}, and the route's reason does not say why"
        )
    return found


def _level_pairs(report: Report) -> list[str]:
    significant = {frozenset((c.a, c.b)): c for c in report.comparisons if c.distinguishable}
    names = [m.name for m in report.models]
    found = []
    for where, text in _texts(report):
        for match in _LEVEL.finditer(text):
            before = _names_in(text[: match.start()], names, last=True)
            subject = match.group("owner") or (before[-1] if before else None)
            rest = text[match.end() :]
            stop = _STOP.search(rest)
            objects = _names_in(rest[: stop.start()] if stop else rest, names)
            if match.group("owner"):
                # "X ... inside Y's interval": X is the last name before the phrase.
                objects = before[-1:]
            for other in objects:
                pair = significant.get(frozenset((subject or "", other)))
                if pair is not None:
                    found.append(
                        f"{where} calls {subject} and {other} level on quality, but the paired "
                        f"test separates them (Holm p = {pair.p_adjusted:.3g})"
                    )
    return found


def _amount(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _same_amount(shown: Decimal, actual: Decimal) -> bool:
    """Whether ``shown`` is ``actual`` rounded to the digits it shows (3 at the least)."""
    if actual == 0:
        return shown == 0
    return abs(shown - actual) <= abs(actual) * Decimal("0.005")


def _one_cost_per_model(report: Report) -> list[str]:
    names = [m.name for m in report.models]
    costs = {m.name: m.cost.per_1000_requests for m in report.models}
    found = []
    for where, text in _texts(report):
        for clause in re.split(r"(?<=[.;])\s|\(|\)", text):
            for match in _COST.finditer(clause):
                named = _names_in(clause[: match.start()], names)
                if len(named) != 1:
                    continue  # a clause about several models does not say whose cost it is
                name = named[0]
                shown, actual = _amount(match.group("amount")), costs.get(name)
                if shown is None or actual is None:
                    continue
                if not _same_amount(shown, actual):
                    found.append(
                        f"{where} gives {name} a cost of {match.group(0)}, but its cost is "
                        f"{actual} {match.group('currency')} per 1,000 requests"
                    )
    return found


def _cited_sections(report: Report) -> list[str]:
    horizons = {advice.horizon.removeprefix("weeks ") for advice in report.advice}
    found = []
    for where, text in _texts(report):
        if where == "notes":
            continue
        for horizon in _HORIZON.findall(text):
            if horizon not in horizons:
                found.append(f"{where} cites weeks {horizon}, which the plan does not have")
        if "see Routing" in text and not report.routing:
            found.append(f"{where} cites the Routing section, which the report does not have")
        if "capacity plan" in text.lower() and report.capacity is None:
            found.append(f"{where} cites a capacity plan, which the report does not have")
        if "business case" in text.lower() and report.business_case is None:
            found.append(f"{where} cites a business case, which the report does not have")
    return found


def _sla_checked(report: Report) -> list[str]:
    found = []
    for note in report.notes:
        if "without an SLA check" not in note:
            continue
        for model in report.models:
            if model.name in note and model.cost.within_sla is True:
                found.append(
                    f"a note says {model.name}'s capacity was measured without an SLA check, "
                    "but its cost says the throughput was within the SLA"
                )
    return found


def inconsistencies(report: Report) -> list[str]:
    """Every disagreement between the sections of ``report``, one sentence each."""
    return [
        *_chosen_everywhere(report),
        *_level_pairs(report),
        *_one_cost_per_model(report),
        *_cited_sections(report),
        *_sla_checked(report),
    ]
