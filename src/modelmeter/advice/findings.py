"""From a finished report to advice a team can act on, and a 90-day plan.

Every rule reads a measurement of the run and emits advice only when the measurement supports
it, citing the figures: the share of repeated inputs a response cache would absorb, the
throughput a faster variant of equal quality gains at its P95, the slice on which the cheaper
choice loses most quality, SLA breaches, client-bound load phases, a budget overrun. Nothing is
advised from assumptions alone. The advice is ordered into weeks 1-2 (switch and quick wins),
3-6 (roll out and confirm online) and 7-12 (improve the weak spots, keep the gate).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from modelmeter.decide._facts import QUALITY_LABELS, p95_of, quality_interval, quality_of
from modelmeter.results import Advice, ModelResult, Report

__all__ = ["RunFacts", "advise"]

# A cache is worth proposing from this share of repeated inputs.
_MIN_DUPLICATE_SHARE = 0.02
# A slice gap is reported from this many points of the quality metric.
_MIN_SLICE_GAP = 0.01
# A faster variant is proposed when it serves at least this many times the throughput.
_MIN_SPEEDUP = 1.2


@dataclass(frozen=True)
class RunFacts:
    """What the advice needs beyond the report: the inputs that were sent."""

    inputs: Sequence[str] = ()


def _label(report: Report) -> str:
    return QUALITY_LABELS.get(_metric(report), _metric(report))


def _metric(report: Report) -> str:
    """The metric the ranking used, so that "best" and "tied" mean the same here."""
    return report.quality_metric


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def _chosen(report: Report) -> ModelResult | None:
    name = report.recommendation.chosen
    return next((m for m in report.models if m.name == name), None)


def _best_quality(report: Report) -> ModelResult | None:
    """The decision's quality reference; without a decision, the best quality figure."""
    decision = report.decision
    if decision is not None and decision.quality_reference is not None:
        return next(m for m in report.models if m.name == decision.quality_reference)
    metric = _metric(report)
    scored = [m for m in report.models if quality_of(m, metric) is not None]
    return max(scored, key=lambda m: quality_of(m, metric) or 0.0, default=None)


def _switch(report: Report) -> list[Advice]:
    chosen = _chosen(report)
    if chosen is None:
        return []
    metric = _metric(report)
    quality = quality_of(chosen, metric)
    interval = quality_interval(chosen, metric)
    figures = []
    if quality is not None:
        ci = f" ({_fmt(interval.low)}–{_fmt(interval.high)})" if interval else ""
        figures.append(f"{_label(report)} {_fmt(quality)}{ci}")
    p95 = p95_of(chosen)
    if p95 is not None:
        figures.append(f"P95 {p95:.1f} ms")
    if chosen.throughput_rps:
        figures.append(f"{chosen.throughput_rps:,.0f} req/s")
    cost = chosen.cost.per_1000_requests
    if cost is not None:
        figures.append(f"{cost:.3g} {chosen.cost.currency} per 1,000 requests")
    decision = report.decision
    made = decision.choice(decision.priority) if decision is not None else None
    rule = f" (its rule: {made.rule})" if made is not None else ""
    return [
        Advice(
            title=f"Adopt {chosen.name} for {report.recommendation.priority} use",
            finding=f"{chosen.name} was chosen for the '{report.recommendation.priority}' "
            f"priority{rule}: {', '.join(figures)}.",
            action=f"Route production traffic to {chosen.name} behind a flag, keeping the "
            "current model as the control.",
            expected_effect="The figures above, if production traffic resembles the evaluated "
            "data; an online A/B test on the logged outcomes confirms it.",
            verify="`modelmeter compare BASELINE NEW` in CI on every change; an online A/B test "
            "(`modelmeter ab`) on the logged outcomes.",
            horizon="weeks 1-2",
        )
    ]


def _cache(facts: RunFacts) -> list[Advice]:
    inputs = list(facts.inputs)
    if not inputs:
        return []
    counts = Counter(" ".join(text.split()).lower() for text in inputs)
    repeats = sum(count - 1 for count in counts.values() if count > 1)
    share = repeats / len(inputs)
    if share < _MIN_DUPLICATE_SHARE:
        return []
    repeated = sum(1 for count in counts.values() if count > 1)
    return [
        Advice(
            title="Put a response cache in front of the model",
            finding=f"{repeats:,} of {len(inputs):,} evaluated inputs ({share:.1%}) repeat an "
            f"earlier one (after trimming spaces and case; {repeated:,} distinct texts occur "
            "more than once).",
            action="Cache answers keyed by the normalised input, with a time-to-live that fits "
            "how often the model changes.",
            expected_effect=f"About {share:.0%} fewer model calls and the same share of "
            "serving cost, if production repeats at the evaluated rate.",
            verify="Measure the cache hit rate on production logs over a week; it should be "
            f"close to {share:.0%}.",
            horizon="weeks 1-2",
        )
    ]


def _same_quality_as(report: Report, model: ModelResult, best: ModelResult) -> bool:
    """Whether the decision put ``model`` in ``best``'s quality group (the tests cannot tell
    them apart); without a decision, whether its figure is inside ``best``'s interval."""
    if report.decision is not None:
        return model.name in report.decision.top_group and best.name in report.decision.top_group
    metric = _metric(report)
    quality, best_ci = quality_of(model, metric), quality_interval(best, metric)
    return quality is not None and best_ci is not None and quality >= best_ci.low


def _faster_variant(report: Report) -> list[Advice]:
    """A self-hosted model of the best's quality group that serves much more throughput.

    Hosted-API models have no instances to save, so they get no such advice."""
    best = _best_quality(report)
    if best is None or not best.throughput_rps or best.cost.basis != "instance":
        return []
    metric = _metric(report)
    out = []
    for model in report.models:
        if model is best or not model.throughput_rps or model.cost.basis != "instance":
            continue
        quality = quality_of(model, metric)
        if quality is None or not _same_quality_as(report, model, best):
            continue  # not tied with the best: a different trade-off, not a free gain
        speedup = model.throughput_rps / best.throughput_rps
        if speedup < _MIN_SPEEDUP:
            continue
        p95_best, p95 = p95_of(best), p95_of(model)
        latency = (
            f"; P95 {p95:.1f} ms against {p95_best:.1f} ms"
            if p95 is not None and p95_best is not None
            else ""
        )
        out.append(
            Advice(
                title=f"Serve {model.name} where {best.name} runs today",
                finding=f"{model.name} served {model.throughput_rps:,.0f} req/s against "
                f"{best.name}'s {best.throughput_rps:,.0f} ({speedup:.1f}×){latency}, with "
                f"{_label(report)} {_fmt(quality)} against {_fmt(quality_of(best, metric) or 0.0)}"
                " — a difference the measurement cannot tell from noise.",
                action=f"Deploy {model.name} (its batching, export or distillation) and size "
                "the deployment from its measured capacity.",
                expected_effect=f"About {speedup:.1f}× the requests per instance at no "
                "measurable loss of quality, so proportionally fewer instances.",
                verify="Re-run the load phase (or an SLA search) on the production instance "
                "type and compare req/s at the SLA.",
                horizon="weeks 3-6",
            )
        )
    return out


def _weak_slices(report: Report) -> list[Advice]:
    """For each model, the slice on which it loses most against the best-quality model."""
    best = _best_quality(report)
    if best is None:
        return []
    return [
        advice
        for model in report.models
        if model is not best
        for advice in _weak_slice(model, best)
    ]


def _weak_slice(chosen: ModelResult, best: ModelResult) -> list[Advice]:
    if chosen.quality is None or best.quality is None:
        return []
    worst: tuple[float, str, str, float, float] | None = None
    for key, values in chosen.quality.by_slice.items():
        for value, own in values.items():
            other = best.quality.by_slice.get(key, {}).get(value)
            if other is None:
                continue
            gap = other.f1_macro - own.f1_macro
            if worst is None or gap > worst[0]:
                worst = (gap, key, value, own.f1_macro, other.f1_macro)
    if worst is None or worst[0] < _MIN_SLICE_GAP:
        return []
    gap, key, value, mine, theirs = worst
    return [
        Advice(
            title=f"Close the gap on {key} = {value}",
            finding=f"{chosen.name} loses {gap:.3f} macro F1 against {best.name} on {key} = "
            f"{value} ({_fmt(mine)} vs {_fmt(theirs)}), its largest gap on any slice.",
            action=f"Add {key} = {value} examples to training or distillation data, or route "
            f"that slice to {best.name}.",
            expected_effect=f"Up to {gap:.3f} macro F1 back on that slice, where the gap comes "
            "from the model rather than from label noise.",
            verify=f"The next run's per-slice table: {key} = {value} with its interval.",
            horizon="weeks 7-12",
        )
    ]


def _sla_breaches(report: Report) -> list[Advice]:
    out = []
    for model in report.models:
        if model.sla.met or not model.sla.violations:
            continue
        out.append(
            Advice(
                title=f"Do not ship {model.name} as measured",
                finding=f"{model.name} broke the SLA: {'; '.join(model.sla.violations)}.",
                action="Remove it from the candidates, or change its serving (batching, "
                "replicas, hardware) and measure again.",
                expected_effect="No SLA breach reaches users.",
                verify="The next run's SLA column.",
                horizon="weeks 1-2",
            )
        )
    return out


def _client_bound(report: Report) -> list[Advice]:
    bound = [m for m in report.models if m.load is not None and m.load.client_bound]
    if not bound:
        return []
    names = ", ".join(m.name for m in bound)
    reasons = " ".join(m.load.client_bound_reason for m in bound if m.load is not None)
    return [
        Advice(
            title="Re-measure the client-bound load phases",
            finding=f"The load generator may have set the pace for {names}: {reasons}",
            action="Run the load phase with more load processes (`load.processes`), on a "
            "separate machine, or at a lower rate; `modelmeter calibrate` gives this host's "
            "ceiling.",
            expected_effect="Latency and throughput figures that measure the model, not the "
            "client.",
            verify="The report no longer marks these models client-bound.",
            horizon="weeks 1-2",
        )
    ]


def _budget(report: Report) -> list[Advice]:
    out = []
    for model in report.models:
        budget = model.budget
        if budget is None or budget.within_budget is not False or budget.limit is None:
            continue
        out.append(
            Advice(
                title=f"{model.name} does not fit the monthly budget",
                finding=f"The declared workload would cost {budget.total:.4g} "
                f"{budget.currency} a month on {model.name}, over the {budget.limit:.4g} "
                f"{budget.currency} budget.",
                action="Route the background and default traffic to a cheaper model of tied "
                "quality (see Routing), or shorten prompts and answers.",
                expected_effect="A monthly cost within the budget.",
                verify="The budget line of the next run.",
                horizon="weeks 3-6",
            )
        )
    return out


def _gate(report: Report) -> list[Advice]:
    return [
        Advice(
            title="Keep a regression gate in CI",
            finding=f"This run ({report.run_id}) is the baseline: its per-item grades and "
            "latency are stored.",
            action=f"Run `modelmeter compare {report.run_id} NEW_RUN` in CI on every model or "
            "serving change.",
            expected_effect="Significant quality regressions and SLA or budget breaches fail "
            "the build; ties do not.",
            verify="A deliberately degraded model fails the job.",
            horizon="weeks 7-12",
        )
    ]


def advise(report: Report, facts: RunFacts | None = None) -> list[Advice]:
    """Advice for this report, ordered by horizon (the 90-day plan)."""
    facts = facts or RunFacts()
    advice = [
        *_switch(report),
        *_sla_breaches(report),
        *_client_bound(report),
        *_cache(facts),
        *_faster_variant(report),
        *_budget(report),
        *_weak_slices(report),
        *_gate(report),
    ]
    order = {"weeks 1-2": 0, "weeks 3-6": 1, "weeks 7-12": 2}
    return sorted(advice, key=lambda item: order[item.horizon])
