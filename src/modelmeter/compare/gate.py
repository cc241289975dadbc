"""The regression gate: does NEW do worse than BASELINE, by more than chance and the tolerance?

A CI gate that fails on every dip of a point estimate fails on noise, and one that is ignored
because it cries wolf protects nothing. So quality is compared *paired*, on the items both runs
graded (McNemar's exact test for right/wrong, the paired bootstrap for graded scores), the
p-values are Holm-adjusted over every model pair of the gate, and a drop fails only when it is
both significant and larger than the tolerance: a tie never fails.

Latency has no paired test: two runs' requests are different requests at different moments, and
a P95 moves with the machine as well as the model. So a P95 rise fails only when it is real —
the two runs' P95 intervals do not overlap — *and* larger than the relative tolerance; a rise
beyond the tolerance that the intervals do not confirm is a warning. A run whose load phase the
target did not pace alone (host busy, client-bound, target saturated) says nothing about the
target's latency: the latency check is inconclusive and neither passes nor fails. An SLA met in
BASELINE and missed in NEW fails (inconclusive, too, when only timing limits broke and a phase
was unpaced), and so does a NEW monthly cost above its budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelmeter._exceptions import CompareError
from modelmeter._money import format_money
from modelmeter.compare.latency import (
    LATENCY_RULE,
    latency_check,
    latency_comparison,
    unpaced_runs,
)
from modelmeter.compare.model import (
    Check,
    CheckStatus,
    ComparisonResult,
    ModelComparison,
    ModelFigures,
    QualityComparison,
    QualityVerdict,
)
from modelmeter.results import Interval, ItemResults, ModelResult, PairComparison, Report
from modelmeter.spec.sla import LIMIT_LABELS
from modelmeter.stats import (
    HOLM,
    PairedProportionTest,
    PairedScoreTest,
    comparison_sentence,
    format_p_value,
    holm,
    mcnemar_exact,
    paired_bootstrap,
)

__all__ = ["LATENCY_RULE", "compare_reports"]


_SHOWN_IDS = 3


@dataclass(frozen=True)
class _Grades:
    ids: list[str]
    correct: list[bool]
    score: list[float] | None


@dataclass(frozen=True)
class _Shared:
    """Both models' grades on the items both runs share, in BASELINE's order."""

    n_shared: int
    only_in_baseline: int
    only_in_new: int
    baseline_correct: list[bool]
    new_correct: list[bool]
    baseline_score: list[float] | None
    new_score: list[float] | None

    @property
    def graded(self) -> bool:
        return self.baseline_score is not None or self.new_score is not None


@dataclass(frozen=True)
class _Pair:
    baseline: ModelResult
    new: ModelResult
    label: str


def compare_reports(
    baseline: Report,
    new: Report,
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    alpha: float = 0.05,
    tolerance: float = 0.01,
    latency_tolerance: float = 0.20,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> ComparisonResult:
    """Gate NEW against BASELINE: quality, latency, SLA and budget of each model pair.

    ``pairs`` lists (BASELINE model name, NEW model name); by default every model name found
    in both reports is compared with itself. ``baseline`` and ``new`` may be the same report
    when the pairs name two of its models (current vs candidate).

    Quality: the items both runs graded, matched by id, are compared with McNemar's exact test
    (right/wrong) or, when either run has graded scores, the paired bootstrap of the mean score
    (``n_resamples``, ``seed``); the p-values of all pairs are Holm-adjusted together. A pair
    regresses when the adjusted p ≤ ``alpha`` *and* the drop exceeds ``tolerance`` (absolute:
    0.01 is one point of accuracy). ``latency_tolerance`` is relative (0.20: P95 20% higher).

    Raises :class:`CompareError` when the reports cannot be compared as asked (a model that is
    not there, no model in common, no item in common, malformed per-item grades) and
    ``ValueError`` for settings out of range.
    """
    _check_settings(alpha, tolerance, latency_tolerance)
    chosen = _choose_pairs(baseline, new, pairs)
    shared = [_shared_items(baseline, new, pair) for pair in chosen]
    level = 1.0 - alpha
    tests: list[PairedProportionTest | PairedScoreTest | None] = []
    for items in shared:
        if items is None:
            tests.append(None)
        elif items.graded:
            tests.append(
                paired_bootstrap(
                    _scores(items.new_correct, items.new_score),
                    _scores(items.baseline_correct, items.baseline_score),
                    n_resamples=n_resamples,
                    seed=seed,
                    level=level,
                )
            )
        else:
            tests.append(mcnemar_exact(items.new_correct, items.baseline_correct, level=level))
    raw = [test.p_value for test in tests if test is not None]
    adjusted = iter(holm(raw) if raw else [])
    sla_limit = new.sla.get("p95_ms", baseline.sla.get("p95_ms"))
    models: list[ModelComparison] = []
    for pair, items, test in zip(chosen, shared, tests, strict=True):
        quality = None
        if items is not None and test is not None:
            quality = _quality(pair, items, test, next(adjusted), alpha, tolerance)
        latency = latency_comparison(pair.baseline, pair.new, latency_tolerance, sla_limit)
        checks = [
            _quality_check(pair, quality, tolerance),
            latency_check(latency),
            _sla_check(pair),
            _budget_check(pair),
        ]
        models.append(
            ModelComparison(
                label=pair.label,
                baseline=_figures(baseline, pair.baseline),
                new=_figures(new, pair.new),
                quality=quality,
                latency=latency,
                checks=checks,
                passed=all(check.status != "fail" for check in checks),
            )
        )
    statuses = [check.status for model in models for check in model.checks]
    failures = statuses.count("fail")
    return ComparisonResult(
        baseline_run=baseline.run_id,
        baseline_name=baseline.name,
        new_run=new.run_id,
        new_name=new.name,
        alpha=alpha,
        tolerance=tolerance,
        latency_tolerance=latency_tolerance,
        adjustment=HOLM,
        models=models,
        failures=failures,
        warnings=statuses.count("warn"),
        passed=failures == 0,
        notes=_notes(baseline, new, chosen, pairs is None, len(raw)),
    )


def _check_settings(alpha: float, tolerance: float, latency_tolerance: float) -> None:
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    for name, value in (("tolerance", tolerance), ("latency_tolerance", latency_tolerance)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0.0):
            raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")


def _names(report: Report) -> str:
    return ", ".join(repr(model.name) for model in report.models) or "(none)"


def _find(report: Report, name: str, role: str) -> ModelResult:
    for model in report.models:
        if model.name == name:
            return model
    raise CompareError(
        f"model {name!r} is not in {role} run {report.run_id}; its models are: {_names(report)}"
    )


def _choose_pairs(
    baseline: Report, new: Report, pairs: Sequence[tuple[str, str]] | None
) -> list[_Pair]:
    if pairs is None:
        new_names = {model.name for model in new.models}
        names = [model.name for model in baseline.models if model.name in new_names]
        if not names:
            raise CompareError(
                f"no model name is in both runs: BASELINE {baseline.run_id} has "
                f"{_names(baseline)}, NEW {new.run_id} has {_names(new)}; name the two models "
                "to compare (--baseline-model and --new-model)"
            )
        pairs = [(name, name) for name in names]
    if not pairs:
        raise CompareError("no model pair to compare was given")
    chosen: list[_Pair] = []
    seen: set[tuple[str, str]] = set()
    for baseline_name, new_name in pairs:
        if (baseline_name, new_name) in seen:
            raise CompareError(f"the pair {baseline_name!r} → {new_name!r} is given twice")
        seen.add((baseline_name, new_name))
        base_model = _find(baseline, baseline_name, "BASELINE")
        new_model = _find(new, new_name, "NEW")
        if baseline.run_id == new.run_id and baseline_name == new_name:
            raise CompareError(
                f"this compares model {baseline_name!r} of run {baseline.run_id} with itself; "
                "to gate two models of one run, name both (--baseline-model and --new-model)"
            )
        label = baseline_name if baseline_name == new_name else f"{baseline_name} → {new_name}"
        chosen.append(_Pair(baseline=base_model, new=new_model, label=label))
    return chosen


def _grades(report: Report, model: ModelResult, role: str) -> _Grades | None:
    items: ItemResults | None = model.items
    if items is None:
        return None
    where = f"{role} run {report.run_id}, model {model.name!r}: items"
    if len(items.correct) != len(items.ids):
        raise CompareError(
            f"{where}.correct has {len(items.correct)} values for {len(items.ids)} ids; "
            "each item needs exactly one grade"
        )
    if items.score is not None:
        if len(items.score) != len(items.ids):
            raise CompareError(
                f"{where}.score has {len(items.score)} values for {len(items.ids)} ids; "
                "each item needs exactly one score"
            )
        for index, value in enumerate(items.score):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise CompareError(
                    f"{where}.score[{index}] is {value!r}; scores are numbers in [0, 1]"
                )
    seen: set[str] = set()
    for index, item_id in enumerate(items.ids):
        if item_id in seen:
            raise CompareError(
                f"{where}.ids[{index}] repeats the id {item_id!r}; item ids must be unique "
                "so that the runs can be matched item by item"
            )
        seen.add(item_id)
    return _Grades(ids=list(items.ids), correct=list(items.correct), score=items.score)


def _sample(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(item) for item in ids[:_SHOWN_IDS])
    return shown + (", ..." if len(ids) > _SHOWN_IDS else "")


def _shared_items(baseline: Report, new: Report, pair: _Pair) -> _Shared | None:
    base = _grades(baseline, pair.baseline, "BASELINE")
    cand = _grades(new, pair.new, "NEW")
    if base is None and cand is None:
        return None
    if base is None or cand is None:
        role, report, model = (
            ("BASELINE", baseline, pair.baseline) if base is None else ("NEW", new, pair.new)
        )
        raise CompareError(
            f"{pair.label}: {role} run {report.run_id} has no per-item grades for model "
            f"{model.name!r} (the other run has), so their quality cannot be compared item by "
            "item; compare runs that both evaluated quality"
        )
    new_index = {item_id: index for index, item_id in enumerate(cand.ids)}
    base_rows = [i for i, item_id in enumerate(base.ids) if item_id in new_index]
    new_rows = [new_index[base.ids[i]] for i in base_rows]
    if not base_rows:
        raise CompareError(
            f"{pair.label}: the runs share no item id, so quality cannot be compared item by "
            f"item: BASELINE {baseline.run_id} graded {len(base.ids)} items "
            f"({_sample(base.ids)}), NEW {new.run_id} graded {len(cand.ids)} "
            f"({_sample(cand.ids)}); evaluate both on the same dataset"
        )
    return _Shared(
        n_shared=len(base_rows),
        only_in_baseline=len(base.ids) - len(base_rows),
        only_in_new=len(cand.ids) - len(new_rows),
        baseline_correct=[base.correct[i] for i in base_rows],
        new_correct=[cand.correct[i] for i in new_rows],
        baseline_score=[base.score[i] for i in base_rows] if base.score is not None else None,
        new_score=[cand.score[i] for i in new_rows] if cand.score is not None else None,
    )


def _scores(correct: list[bool], score: list[float] | None) -> list[float]:
    """Graded scores, or 1/0 from right/wrong where the run recorded no graded score."""
    return score if score is not None else [1.0 if right else 0.0 for right in correct]


def _quality(
    pair: _Pair,
    items: _Shared,
    test: PairedProportionTest | PairedScoreTest,
    adjusted_p: float,
    alpha: float,
    tolerance: float,
) -> QualityComparison:
    significant = adjusted_p <= alpha
    difference = test.difference
    verdict: QualityVerdict
    if significant and difference < 0:
        verdict = "regression" if -difference > tolerance else "decrease_within_tolerance"
    elif significant and difference > 0:
        verdict = "improvement"
    else:
        verdict = "no_significant_change"
    if isinstance(test, PairedProportionTest):
        new_value, base_value = test.a_accuracy, test.b_accuracy
        new_only: int | None = test.a_only
        base_only: int | None = test.b_only
    else:
        new_value, base_value = test.a_value, test.b_value
        new_only = base_only = None
    statistics = PairComparison(
        a=f"{pair.new.name} (new)",
        b=f"{pair.baseline.name} (baseline)",
        items=test.n,
        a_value=new_value,
        b_value=base_value,
        difference=difference,
        interval=Interval(
            low=test.interval_low, high=test.interval_high, level=test.level, method=test.method
        ),
        p_value=test.p_value,
        p_adjusted=adjusted_p,
        distinguishable=significant,
        method=test.method,
        adjustment=HOLM,
        a_only=new_only,
        b_only=base_only,
    )
    bootstrap = isinstance(test, PairedScoreTest)
    return QualityComparison(
        metric="mean_score" if bootstrap else "accuracy",
        method=test.method,
        n_shared=items.n_shared,
        only_in_baseline=items.only_in_baseline,
        only_in_new=items.only_in_new,
        baseline_value=base_value,
        new_value=new_value,
        difference=difference,
        interval_low=test.interval_low,
        interval_high=test.interval_high,
        level=test.level,
        interval_method=test.interval_method,
        p_value=test.p_value,
        adjusted_p_value=adjusted_p,
        significant=significant,
        new_only_right=new_only,
        baseline_only_right=base_only,
        n_resamples=test.n_resamples if isinstance(test, PairedScoreTest) else None,
        seed=test.seed if isinstance(test, PairedScoreTest) else None,
        verdict=verdict,
        sentence=comparison_sentence(statistics),
    )


def _value(metric: str, value: float) -> str:
    return f"{value:.1%}" if metric == "accuracy" else f"{value:.3f}"


def _delta(metric: str, value: float) -> str:
    return f"{value * 100:+.1f} points" if metric == "accuracy" else f"{value:+.3f}"


def _size(metric: str, value: float) -> str:
    if metric != "accuracy":
        return f"{value:g}"
    points = value * 100
    return f"{points:g} point" + ("" if points == 1 else "s")


def _quality_check(pair: _Pair, quality: QualityComparison | None, tolerance: float) -> Check:
    if quality is None:
        return Check(
            name="quality",
            status="skip",
            message="neither run graded items for this model (no quality pass), so there is "
            "no quality to compare",
        )
    q = quality
    name = "accuracy" if q.metric == "accuracy" else "mean score"
    level = f"{round(q.level * 100, 6):g}%"
    if q.metric == "accuracy":
        interval = f"{q.interval_low * 100:+.1f} to {q.interval_high * 100:+.1f} points"
    else:
        interval = f"{q.interval_low:+.3f} to {q.interval_high:+.3f}"
    figures = (
        f"{name} {_value(q.metric, q.baseline_value)} → {_value(q.metric, q.new_value)} "
        f"({_delta(q.metric, q.difference)}, {level} interval {interval}) on "
        f"{q.n_shared:,} shared items"
    )
    alpha = 1.0 - q.level
    p_text = format_p_value(q.adjusted_p_value, alpha)
    relation = "" if p_text.startswith("<") else "= "
    p_part = f"Holm-adjusted p {relation}{p_text}"
    unused = ""
    if q.only_in_baseline or q.only_in_new:
        unused = (
            f"; not used: {q.only_in_baseline} items only in BASELINE, {q.only_in_new} only in NEW"
        )
    tolerance_text = _size(q.metric, tolerance)
    status: CheckStatus = "pass"
    if q.verdict == "regression":
        status = "fail"
        verdict = (
            f"regression: {figures}; significant ({p_part} ≤ α = {alpha:g}) and larger than "
            f"the tolerance of {tolerance_text}"
        )
    elif q.verdict == "decrease_within_tolerance":
        verdict = (
            f"significant decrease within the tolerance of {tolerance_text}: {figures} ({p_part})"
        )
    elif q.verdict == "improvement":
        verdict = f"improvement: {figures} ({p_part})"
    else:
        verdict = f"no significant change: {figures} ({p_part} > α = {alpha:g})"
    return Check(name="quality", status=status, message=verdict + unused)


def _violations(model: ModelResult) -> str:
    return "; ".join(model.sla.violations) or "no violation recorded"


# Limits whose figures move with the host as well as the model (the cost per 1,000 requests of a
# self-hosted model is a price over a measured throughput).
_TIMED = tuple(label for name, label in LIMIT_LABELS.items() if name.endswith("_ms"))


def _timing_only(model: ModelResult) -> bool:
    """Whether every SLA violation of ``model`` is a latency (or self-hosted cost) limit."""
    timed = _TIMED + (("cost per 1,000 requests",) if model.cost.basis == "instance" else ())
    return bool(model.sla.violations) and all(
        violation.startswith(timed) for violation in model.sla.violations
    )


def _sla_check(pair: _Pair) -> Check:
    base, cand = pair.baseline.sla, pair.new.sla
    why = unpaced_runs(pair.baseline, pair.new)
    if base.met and not cand.met and why and _timing_only(pair.new):
        return Check(
            name="sla",
            status="skip",
            message=f"inconclusive: the SLA is missed in NEW ({_violations(pair.new)}) on timing "
            f"alone, but the target did not pace a load phase alone: {why}",
        )
    if base.met and not cand.met:
        return Check(
            name="sla",
            status="fail",
            message=f"breach: the SLA was met in BASELINE and is missed in NEW "
            f"({_violations(pair.new)})",
        )
    if not base.met and not cand.met:
        return Check(
            name="sla",
            status="warn",
            message=f"the SLA is missed in both runs, not a new breach ({_violations(pair.new)})",
        )
    if not base.met:
        return Check(name="sla", status="pass", message="the SLA is met in NEW (missed before)")
    return Check(name="sla", status="pass", message="the SLA is met in both runs")


def _budget_check(pair: _Pair) -> Check:
    budget = pair.new.budget
    if budget is None or budget.within_budget is None or budget.limit is None:
        return Check(
            name="budget",
            status="skip",
            message="NEW declares no monthly budget "
            "(economics.workload and economics.monthly_budget)",
        )
    total = format_money(budget.total, budget.currency)
    limit = format_money(budget.limit, budget.currency)
    if budget.within_budget:
        return Check(
            name="budget",
            status="pass",
            message=f"monthly cost {total} is within the budget of {limit}",
        )
    return Check(
        name="budget",
        status="fail",
        message=f"breach: NEW's monthly cost {total} is over the budget of {limit}",
    )


def _figures(report: Report, model: ModelResult) -> ModelFigures:
    metric: str | None = None
    value = low = high = None
    if model.task_score is not None:
        metric, value = "task_score", model.task_score
        if model.task_score_ci is not None:
            low, high = model.task_score_ci.low, model.task_score_ci.high
    elif model.quality is not None:
        metric, value = "f1_macro", model.quality.f1_macro
        interval = model.quality.intervals.get("f1_macro")
        if interval is not None:
            low, high = interval.low, interval.high
    budget = model.budget
    return ModelFigures(
        run_id=report.run_id,
        model=model.name,
        quality_metric=metric,
        quality=value,
        quality_low=low,
        quality_high=high,
        p95_ms=model.latency_ms.p95 if model.latency_ms is not None else None,
        error_rate=model.load.error_rate if model.load is not None else None,
        cost_per_1000_requests=model.cost.per_1000_requests,
        currency=model.cost.currency,
        sla_met=model.sla.met,
        sla_violations=list(model.sla.violations),
        monthly_cost=budget.total if budget is not None else None,
        monthly_budget=budget.limit if budget is not None else None,
        within_budget=budget.within_budget if budget is not None else None,
    )


def _notes(
    baseline: Report, new: Report, chosen: list[_Pair], by_name: bool, tests: int
) -> list[str]:
    notes = [LATENCY_RULE]
    if tests > 1:
        notes.append(
            f"{tests} quality tests: their p-values are Holm-adjusted together, which keeps "
            "the chance of any false regression at alpha."
        )
    if baseline.run_id == new.run_id:
        notes.append(f"BASELINE and NEW are the same run ({baseline.run_id}): two of its models.")
    elif baseline.spec_hash != new.spec_hash:
        notes.append(
            f"The runs were made from different specs (fingerprints {baseline.spec_hash} and "
            f"{new.spec_hash}); check that they measured the same thing."
        )
    if by_name:
        compared = {pair.baseline.name for pair in chosen}
        dropped = [m.name for m in baseline.models if m.name not in compared]
        added = [m.name for m in new.models if m.name not in compared]
        if dropped:
            notes.append(f"Only in BASELINE, not compared: {', '.join(dropped)}.")
        if added:
            notes.append(f"Only in NEW, not compared: {', '.join(added)}.")
    return notes
