"""compare_reports: the gate's verdicts on reports with known per-item grades."""

from __future__ import annotations

import random

import pytest
from scipy.stats import binomtest

from modelmeter.compare import CompareError, ComparisonResult, compare_reports
from modelmeter.stats import paired_bootstrap
from tests.unit.test_compare_builders import (
    budget,
    item_ids,
    model,
    paired_grades,
    regression_pair,
    report,
)

BASE_RUN = "20260105-120000-aaaaaa"
NEW_RUN = "20260106-120000-bbbbbb"


def _check(result: ComparisonResult, name: str, pair: int = 0) -> tuple[str, str]:
    for check in result.models[pair].checks:
        if check.name == name:
            return check.status, check.message
    raise AssertionError(f"no {name} check")


def test_significant_drop_beyond_tolerance_is_a_regression() -> None:
    baseline, new = regression_pair()
    result = compare_reports(baseline, new)
    quality = result.models[0].quality
    assert quality is not None
    assert quality.method == "mcnemar-exact" and quality.metric == "accuracy"
    assert quality.n_shared == 200 and quality.only_in_baseline == quality.only_in_new == 0
    assert quality.baseline_value == pytest.approx(0.90)
    assert quality.new_value == pytest.approx(0.80)
    assert quality.difference == pytest.approx(-0.10)
    assert (quality.baseline_only_right, quality.new_only_right) == (25, 5)
    expected = binomtest(5, 30, 0.5).pvalue
    assert quality.p_value == pytest.approx(expected, rel=1e-12)
    assert quality.adjusted_p_value == pytest.approx(expected, rel=1e-12)  # one test: no change
    assert quality.interval_low < -0.10 < quality.interval_high < 0
    assert quality.verdict == "regression" and quality.significant
    status, message = _check(result, "quality")
    assert status == "fail"
    assert "90.0% → 80.0%" in message and "-10.0 points" in message
    assert "tolerance of 1 point" in message
    assert "clf (new) and clf (baseline)" not in quality.sentence
    assert quality.sentence.startswith("clf (baseline) scores higher than clf (new) at 95%")
    assert not result.passed and result.failures == 1
    assert result.failed_checks()[0][0] == "clf"


def test_tiny_difference_is_a_tie_and_passes() -> None:
    base, new = paired_grades(both=170, baseline_only=10, new_only=9, neither=11)
    result = compare_reports(
        report(BASE_RUN, [model("clf", base)]), report(NEW_RUN, [model("clf", new)])
    )
    quality = result.models[0].quality
    assert quality is not None
    assert quality.difference == pytest.approx(-0.005)
    assert quality.p_value == pytest.approx(binomtest(9, 19, 0.5).pvalue)
    assert quality.verdict == "no_significant_change" and not quality.significant
    assert _check(result, "quality")[0] == "pass"
    assert "no significant change" in _check(result, "quality")[1]
    assert result.passed and result.failures == 0


def test_significant_drop_within_tolerance_passes_and_tolerance_is_the_line() -> None:
    # 4,000 items, 30 lost and 5 gained: significant (p ≈ 2e-5) but only 0.625 points.
    base, new = paired_grades(both=3500, baseline_only=30, new_only=5, neither=465)
    baseline = report(BASE_RUN, [model("clf", base)])
    candidate = report(NEW_RUN, [model("clf", new)])
    within = compare_reports(baseline, candidate)
    quality = within.models[0].quality
    assert quality is not None
    assert quality.p_value == pytest.approx(binomtest(5, 35, 0.5).pvalue)
    assert quality.significant and quality.difference == pytest.approx(-0.00625)
    assert quality.verdict == "decrease_within_tolerance"
    assert within.passed
    stricter = compare_reports(baseline, candidate, tolerance=0.006)
    assert stricter.models[0].quality is not None
    assert stricter.models[0].quality.verdict == "regression" and not stricter.passed


def test_large_but_not_significant_drop_passes() -> None:
    # 20 items, 3 lost, none gained: 15 points down, p = 0.25.
    base, new = paired_grades(both=15, baseline_only=3, new_only=0, neither=2)
    result = compare_reports(
        report(BASE_RUN, [model("clf", base)]), report(NEW_RUN, [model("clf", new)])
    )
    quality = result.models[0].quality
    assert quality is not None
    assert quality.p_value == pytest.approx(0.25)
    assert quality.verdict == "no_significant_change" and result.passed


def test_improvement_passes() -> None:
    base, new = paired_grades(both=155, baseline_only=5, new_only=25, neither=15)
    result = compare_reports(
        report(BASE_RUN, [model("clf", base)]), report(NEW_RUN, [model("clf", new)])
    )
    assert result.models[0].quality is not None
    assert result.models[0].quality.verdict == "improvement"
    assert _check(result, "quality")[0] == "pass"
    assert result.passed


def test_holm_adjusts_over_the_models_of_the_gate() -> None:
    # Alone, each model's drop is significant at 5%; together, Holm keeps neither.
    a_base, a_new = paired_grades(both=170, baseline_only=10, new_only=2, neither=18, seed=1)
    b_base, b_new = paired_grades(both=170, baseline_only=8, new_only=1, neither=21, seed=2)
    p_a, p_b = binomtest(2, 12, 0.5).pvalue, binomtest(1, 9, 0.5).pvalue
    assert p_a <= 0.05 and p_b <= 0.05
    baseline = report(BASE_RUN, [model("a", a_base), model("b", b_base)])
    candidate = report(NEW_RUN, [model("a", a_new), model("b", b_new)])
    alone = compare_reports(baseline, candidate, pairs=[("a", "a")])
    assert alone.models[0].quality is not None
    assert alone.models[0].quality.verdict == "regression"
    both = compare_reports(baseline, candidate)
    assert p_a < p_b
    # Holm by hand: the smaller p times 2, the larger times 1, kept monotone.
    expected = [min(1.0, 2 * p_a), max(min(1.0, 2 * p_a), p_b)]
    qualities = [m.quality for m in both.models]
    assert all(q is not None for q in qualities)
    assert [q.p_value for q in qualities if q] == pytest.approx([p_a, p_b])
    assert [q.adjusted_p_value for q in qualities if q] == pytest.approx(expected)
    assert all(p > 0.05 for p in expected)
    assert all(q.verdict == "no_significant_change" for q in qualities if q)
    assert both.passed
    assert any("Holm-adjusted together" in note for note in both.notes)


def test_items_are_matched_by_id_not_position() -> None:
    base, new = paired_grades(both=155, baseline_only=25, new_only=5, neither=15)
    ids = item_ids(200)
    order = list(range(200))
    random.Random(11).shuffle(order)
    candidate = model("clf", [new[i] for i in order], ids=[ids[i] for i in order])
    result = compare_reports(
        report(BASE_RUN, [model("clf", base, ids=ids)]), report(NEW_RUN, [candidate])
    )
    quality = result.models[0].quality
    assert quality is not None
    assert (quality.baseline_only_right, quality.new_only_right) == (25, 5)


def test_items_in_one_run_only_are_counted_not_used() -> None:
    base, new = paired_grades(both=155, baseline_only=25, new_only=5, neither=15)
    # NEW lacks the first 10 items of BASELINE and has 4 of its own.
    new_ids = item_ids(200)[10:] + item_ids(4, start=900)
    new_grades = new[10:] + [True] * 4
    result = compare_reports(
        report(BASE_RUN, [model("clf", base)]),
        report(NEW_RUN, [model("clf", new_grades, ids=new_ids)]),
    )
    quality = result.models[0].quality
    assert quality is not None
    assert (quality.n_shared, quality.only_in_baseline, quality.only_in_new) == (190, 10, 4)
    shared_base, shared_new = base[10:], new[10:]
    lost = sum(b and not n for b, n in zip(shared_base, shared_new, strict=True))
    gained = sum(n and not b for b, n in zip(shared_base, shared_new, strict=True))
    assert (quality.baseline_only_right, quality.new_only_right) == (lost, gained)
    assert quality.p_value == pytest.approx(binomtest(gained, lost + gained, 0.5).pvalue)
    assert "10 items only in BASELINE, 4 only in NEW" in _check(result, "quality")[1]


def test_no_shared_item_is_an_input_error_naming_both_sides() -> None:
    base, new = paired_grades(both=10, baseline_only=0, new_only=0, neither=0)
    with pytest.raises(CompareError) as caught:
        compare_reports(
            report(BASE_RUN, [model("clf", base)]),
            report(NEW_RUN, [model("clf", new, ids=item_ids(10, start=500))]),
        )
    message = str(caught.value)
    assert "share no item id" in message
    assert "'q0000', 'q0001', 'q0002', ..." in message and "'q0500'" in message


def test_graded_scores_use_the_paired_bootstrap() -> None:
    rng = random.Random(5)
    base_scores = [rng.uniform(0.5, 1.0) for _ in range(150)]
    new_scores = [max(0.0, s - rng.uniform(0.0, 0.25)) for s in base_scores]
    ids = item_ids(150)
    order = list(range(150))
    rng.shuffle(order)
    baseline = report(
        BASE_RUN, [model("llm", [s > 0.7 for s in base_scores], ids=ids, score=base_scores)]
    )
    candidate = report(
        NEW_RUN,
        [
            model(
                "llm",
                [new_scores[i] > 0.7 for i in order],
                ids=[ids[i] for i in order],
                score=[new_scores[i] for i in order],
            )
        ],
    )
    result = compare_reports(baseline, candidate, n_resamples=2000, seed=3)
    quality = result.models[0].quality
    assert quality is not None
    assert quality.method == "paired-bootstrap" and quality.metric == "mean_score"
    direct = paired_bootstrap(new_scores, base_scores, n_resamples=2000, seed=3, level=0.95)
    assert quality.p_value == direct.p_value
    assert quality.difference == pytest.approx(direct.difference)
    assert (quality.interval_low, quality.interval_high) == pytest.approx(
        (direct.interval_low, direct.interval_high)
    )
    assert (quality.n_resamples, quality.seed) == (2000, 3)
    assert quality.verdict == "regression" and not result.passed


def test_one_graded_side_compares_scores_with_right_wrong() -> None:
    base, new = paired_grades(both=155, baseline_only=25, new_only=5, neither=15)
    graded = model("llm", new, score=[1.0 if right else 0.0 for right in new])
    result = compare_reports(
        report(BASE_RUN, [model("llm", base)]), report(NEW_RUN, [graded]), n_resamples=500
    )
    quality = result.models[0].quality
    assert quality is not None
    assert quality.method == "paired-bootstrap"
    assert quality.baseline_value == pytest.approx(0.90)
    assert quality.new_value == pytest.approx(0.80)


def test_quality_skipped_when_neither_run_graded_items() -> None:
    result = compare_reports(report(BASE_RUN, [model("m")]), report(NEW_RUN, [model("m")]))
    assert result.models[0].quality is None
    assert _check(result, "quality")[0] == "skip"
    assert result.passed


def test_grades_in_one_run_only_is_an_input_error() -> None:
    base, _ = paired_grades(both=10, baseline_only=0, new_only=0, neither=0)
    with pytest.raises(CompareError, match=r"NEW run 20260106-120000-bbbbbb has no per-item"):
        compare_reports(report(BASE_RUN, [model("m", base)]), report(NEW_RUN, [model("m")]))


def test_malformed_item_grades_name_the_place() -> None:
    base, new = paired_grades(both=10, baseline_only=0, new_only=0, neither=0)
    duplicated = model("m", new, ids=[*item_ids(9), "q0003"])
    with pytest.raises(CompareError, match=r"model 'm': items\.ids\[9\] repeats the id 'q0003'"):
        compare_reports(report(BASE_RUN, [model("m", base)]), report(NEW_RUN, [duplicated]))
    short = model("m", new)
    assert short.items is not None
    short.items.correct = short.items.correct[:8]
    with pytest.raises(CompareError, match=r"items\.correct has 8 values for 10 ids"):
        compare_reports(report(BASE_RUN, [model("m", base)]), report(NEW_RUN, [short]))
    scored = model("m", new, score=[0.5] * 9 + [1.5])
    with pytest.raises(CompareError, match=r"items\.score\[9\] is 1\.5; scores are numbers in"):
        compare_reports(report(BASE_RUN, [model("m", base)]), report(NEW_RUN, [scored]))


def test_model_names_that_are_not_there_list_what_is() -> None:
    baseline = report(BASE_RUN, [model("current"), model("other")])
    candidate = report(NEW_RUN, [model("candidate")])
    with pytest.raises(CompareError) as caught:
        compare_reports(baseline, candidate)
    assert "no model name is in both runs" in str(caught.value)
    assert "'current', 'other'" in str(caught.value) and "'candidate'" in str(caught.value)
    with pytest.raises(CompareError, match=r"model 'nope' is not in NEW run .*: 'candidate'"):
        compare_reports(baseline, candidate, pairs=[("current", "nope")])
    with pytest.raises(CompareError, match=r"given twice"):
        compare_reports(baseline, candidate, pairs=[("current", "candidate")] * 2)


def test_two_models_of_one_run() -> None:
    base, new = paired_grades(both=155, baseline_only=25, new_only=5, neither=15)
    run = report(BASE_RUN, [model("current", base), model("candidate", new)])
    result = compare_reports(run, run, pairs=[("current", "candidate")])
    assert result.models[0].label == "current → candidate"
    assert result.models[0].quality is not None
    assert result.models[0].quality.verdict == "regression"
    assert any("same run" in note for note in result.notes)
    with pytest.raises(CompareError, match=r"with itself"):
        compare_reports(run, run)


def test_latency_rule() -> None:
    def latency_of(
        base_p95: float,
        new_p95: float,
        sla: dict[str, float] | None = None,
        *,
        spread: float = 0.05,
        verdict: str = "ok",
    ) -> ComparisonResult:
        return compare_reports(
            report(BASE_RUN, [model("m", p95=base_p95, p95_spread=spread)], sla=sla),
            report(NEW_RUN, [model("m", p95=new_p95, p95_spread=spread, verdict=verdict)], sla=sla),
        )

    within = latency_of(100.0, 115.0, {"p95_ms": 102.0})
    assert _check(within, "latency")[0] == "pass"  # +15%: the SLA check judges the limit
    # +30%, intervals 95-105 and 123.5-136.5 apart: a real rise beyond 20% fails.
    real = latency_of(100.0, 130.0)
    status, message = _check(real, "latency")
    assert status == "fail" and "above BASELINE's P95 interval" in message
    assert "P95 100.0 [95.0–105.0] ms → 130.0 [123.5–136.5] ms (+30.0%)" in message
    assert not real.passed
    broken = latency_of(100.0, 130.0, {"p95_ms": 120.0})
    assert "and above the SLA's P95 limit of 120.0 ms" in _check(broken, "latency")[1]
    latency = broken.models[0].latency
    assert latency is not None and latency.real and latency.breaks_sla
    assert latency.relative_change == pytest.approx(0.30)
    # The same +30% with intervals of ±20% (80-120 and 104-156): not established, a warning.
    noisy = latency_of(100.0, 130.0, {"p95_ms": 120.0}, spread=0.2)
    status, message = _check(noisy, "latency")
    assert status == "warn" and "not established" in message and noisy.passed
    # A load phase the target did not pace alone says nothing about the target.
    busy = latency_of(100.0, 130.0, verdict="host busy")
    status, message = _check(busy, "latency")
    assert status == "skip" and message.startswith("inconclusive: ") and busy.passed
    assert "NEW (Host busy: figures.)" in message
    looser = compare_reports(
        report(BASE_RUN, [model("m", p95=100.0)]),
        report(NEW_RUN, [model("m", p95=130.0)], sla={"p95_ms": 120.0}),
        latency_tolerance=0.5,
    )
    assert _check(looser, "latency")[0] == "pass"
    missing = compare_reports(
        report(BASE_RUN, [model("m", p95=None)]), report(NEW_RUN, [model("m")])
    )
    assert _check(missing, "latency")[0] == "skip" and missing.models[0].latency is None


def test_sla_met_then_missed_fails() -> None:
    missed = model("m", sla_met=False, violations=["P95 250 ms > limit 200 ms"])
    result = compare_reports(report(BASE_RUN, [model("m")]), report(NEW_RUN, [missed]))
    status, message = _check(result, "sla")
    assert status == "fail" and "P95 250 ms > limit 200 ms" in message
    assert not result.passed
    both = compare_reports(report(BASE_RUN, [missed]), report(NEW_RUN, [missed]))
    assert _check(both, "sla")[0] == "warn" and both.passed
    recovered = compare_reports(report(BASE_RUN, [missed]), report(NEW_RUN, [model("m")]))
    assert _check(recovered, "sla")[0] == "pass"


def test_a_latency_breach_on_a_busy_host_is_inconclusive_not_a_failure() -> None:
    slow = model("m", sla_met=False, violations=["P95 250 ms > 200 ms"], verdict="host busy")
    result = compare_reports(report(BASE_RUN, [model("m")]), report(NEW_RUN, [slow]))
    status, message = _check(result, "sla")
    assert status == "skip" and message.startswith("inconclusive: the SLA is missed in NEW")
    assert "NEW (Host busy: figures.)" in message and result.passed
    # A quality breach is the model's, whatever the host did.
    worse = model("m", sla_met=False, violations=["quality 0.7 < 0.8"], verdict="host busy")
    failed = compare_reports(report(BASE_RUN, [model("m")]), report(NEW_RUN, [worse]))
    assert _check(failed, "sla")[0] == "fail" and not failed.passed


def test_budget_breach_in_new_fails() -> None:
    over = model("m", monthly=budget("1250.00", "1000"))
    result = compare_reports(report(BASE_RUN, [model("m")]), report(NEW_RUN, [over]))
    status, message = _check(result, "budget")
    assert status == "fail"
    assert "1,250.00 EUR" in message and "1,000.00 EUR" in message
    assert not result.passed
    within = model("m", monthly=budget("900", "1000"))
    ok = compare_reports(report(BASE_RUN, [over]), report(NEW_RUN, [within]))
    assert _check(ok, "budget")[0] == "pass" and ok.passed
    no_limit = model("m", monthly=budget("900", None))
    skipped = compare_reports(report(BASE_RUN, [model("m")]), report(NEW_RUN, [no_limit]))
    assert _check(skipped, "budget")[0] == "skip"


def test_result_is_json_and_notes_models_left_out() -> None:
    baseline, new = regression_pair()
    baseline.models.append(model("retired"))
    new.models.append(model("fresh"))
    result = compare_reports(baseline, new)
    assert [m.label for m in result.models] == ["clf"]
    assert "Only in BASELINE, not compared: retired." in result.notes
    assert "Only in NEW, not compared: fresh." in result.notes
    assert ComparisonResult.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alpha": 0.0}, "alpha must be"),
        ({"alpha": 1.0}, "alpha must be"),
        ({"tolerance": -0.01}, "tolerance must be"),
        ({"latency_tolerance": float("nan")}, "latency_tolerance must be"),
    ],
)
def test_settings_out_of_range(settings: dict[str, float], message: str) -> None:
    baseline, new = regression_pair()
    with pytest.raises(ValueError, match=message):
        compare_reports(baseline, new, **settings)
