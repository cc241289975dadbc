"""The capacity plan and business case made from a run's report and spec."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from modelmeter.results import Interval, PairComparison
from modelmeter.spec import parse_spec
from modelmeter.study.production import Decided, production_plans
from tests.unit._decide_models import model_result
from tests.unit.test_advice import _report


def _spec(tmp_path: Path, **extra: object) -> object:
    data = {
        "name": "s",
        "dataset": {"path": "d.jsonl"},
        "targets": [
            {
                "name": name,
                "kind": "http",
                "url": "http://127.0.0.1:9/x",
                "pricing": {"kind": "instance", "price_per_hour": "0.5", "currency": "EUR"},
            }
            for name in ("a", "b")
        ],
        **extra,
    }
    return parse_spec(data, path=tmp_path / "spec.yaml")


def test_replicas_and_monthly_cost_from_the_measured_throughput(tmp_path: Path) -> None:
    spec = _spec(tmp_path, capacity={"peak_rps": 250, "headroom": 0.2})
    report = _report([model_result("a", 0.9, 10.0, "1"), model_result("b", 0.9, 5.0, "1")], "b")
    plans = production_plans(Decided.from_report(report), spec)  # type: ignore[arg-type]
    assert plans.capacity is not None and plans.capacity_model == "b"
    # ceil(250 × 1.2 / 100 req/s) = 3 replicas × 0.5 EUR/h × 730 h = 1,095 EUR a month.
    assert plans.capacity.replicas == 3
    assert plans.capacity.monthly_cost == Decimal("1095")
    # b's throughput was measured with its figures meeting the SLA, and the plan says so.
    assert plans.capacity.source == "throughput_within_sla"
    beyond = [model_result("a", 0.9, 10.0, "1"), model_result("b", 0.9, 5.0, "1", within_sla=False)]
    unchecked = production_plans(Decided.from_report(_report(beyond, "b")), spec)  # type: ignore[arg-type]
    assert unchecked.capacity is not None and unchecked.capacity.source == "throughput"
    # Same cost per 1,000 requests and accuracy: no lift and no extra cost.
    assert any("Switching from a to b" in note for note in plans.notes)


def test_without_sections_a_reference_plan_and_the_break_even_value(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    a, b = model_result("a", 0.80, 10.0, "1.00"), model_result("b", 0.90, 5.0, "3.00")
    a = a.model_copy(update={"quality": a.quality.model_copy(update={"accuracy": 0.80})})  # type: ignore[union-attr]
    b = b.model_copy(update={"quality": b.quality.model_copy(update={"accuracy": 0.90})})  # type: ignore[union-attr]
    plans = production_plans(Decided.from_report(_report([a, b], "b")), spec)  # type: ignore[arg-type]
    # ceil(1,000 × 1.3 / 100 req/s) = 13 replicas for the reference peak, flagged as such.
    assert plans.capacity is not None and plans.capacity_reference
    assert plans.capacity.replicas == 13
    # (3.00 − 1.00) / 1000 = 0.002 per request extra, for +0.10 accuracy: 0.02 per correct.
    assert any("worth more than 0.02 EUR" in note for note in plans.notes)


def test_the_business_case_uses_the_paired_interval_of_the_lift(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        business={"value_per_correct": "0.10", "currency": "EUR", "monthly_requests": 100000},
    )
    a, b = model_result("a", 0.80, 10.0, "1"), model_result("b", 0.85, 5.0, "1")
    a = a.model_copy(update={"quality": a.quality.model_copy(update={"accuracy": 0.80})})  # type: ignore[union-attr]
    b = b.model_copy(update={"quality": b.quality.model_copy(update={"accuracy": 0.85})})  # type: ignore[union-attr]
    report = _report([a, b], "b")
    pair = PairComparison(
        a="a",
        b="b",
        difference=-0.05,
        interval=Interval(low=-0.08, high=-0.02, method="newcombe"),
        p_value=0.001,
        p_adjusted=0.001,
        distinguishable=True,
        method="mcnemar-exact",
        items=1000,
        sentence="-",
    )
    report = report.model_copy(update={"comparisons": [pair]})
    plans = production_plans(Decided.from_report(report), spec)  # type: ignore[arg-type]
    case = plans.business
    assert case is not None and case.baseline == "a" and case.candidate == "b"
    # b − a = 0.05 with the pair's interval turned round: (0.02, 0.08).
    assert abs(case.candidate_accuracy - case.baseline_accuracy - 0.05) < 1e-12
    assert case.lift_interval_method is not None and "paired" in case.lift_interval_method
    assert case.gain_established is True
    assert case.lift_low is not None and abs(case.lift_low - 0.02) < 1e-12
    assert case.lift_high is not None and abs(case.lift_high - 0.08) < 1e-12
