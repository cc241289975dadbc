"""SLA checks and their human-readable violations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modelmeter.decide import check_sla, check_sla_values, sla_value_violations
from modelmeter.results import (
    CostResult,
    LatencySummary,
    LoadResult,
    ModelResult,
    QualityResult,
    SlaCheck,
)
from modelmeter.spec.objectives import Sla

SLA = Sla(p95_ms=100, p99_ms=200, max_error_rate=0.01, min_quality=0.8)


def test_all_limits_met() -> None:
    check = check_sla_values(SLA, p95_ms=99.9, p99_ms=200, error_rate=0.01, quality=0.8)
    assert check == SlaCheck(met=True, violations=[])


def test_violations_read_like_sentences() -> None:
    check = check_sla_values(SLA, p95_ms=142.3, p99_ms=250, error_rate=0.025, quality=0.75)
    assert not check.met
    assert check.violations == [
        "P95 142.3 ms > 100 ms",
        "P99 250 ms > 200 ms",
        "error rate 2.5% > 1%",
        "macro F1 0.75 < 0.80",
    ]


def test_quality_metric_is_named() -> None:
    check = check_sla_values(Sla(min_quality=0.9), quality=0.85, quality_metric="accuracy")
    assert check.violations == ["accuracy 0.85 < 0.90"]


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_a_missing_measurement_breaks_its_limit(missing: float | None) -> None:
    check = check_sla_values(Sla(p95_ms=100), p95_ms=missing)
    assert check.violations == ["P95 not measured (limit 100 ms)"]


def test_no_limits_means_met_whatever_the_figures() -> None:
    assert check_sla_values(Sla(), p95_ms=1e9, error_rate=1.0, quality=0.0).met


def test_violations_say_by_how_much() -> None:
    found = sla_value_violations(SLA, p95_ms=142.3, p99_ms=150, error_rate=0.025, quality=0.77)
    assert [v.describe_excess() for v in found] == [
        "42.3 ms over",
        "1.5 percentage points over",
        "0.03 below",
    ]
    assert found[0].excess == pytest.approx(42.3)


def _model(load: LoadResult | None, n_failed: int = 0) -> ModelResult:
    quality = QualityResult(
        n=100,
        n_failed=n_failed,
        accuracy=0.9,
        precision_macro=0.9,
        recall_macro=0.9,
        f1_macro=0.82,
        precision_weighted=0.9,
        recall_weighted=0.9,
        f1_weighted=0.9,
    )
    latency = LatencySummary(count=10, mean=50, p50=40, p90=80, p95=90, p99=150, max=300)
    cost = CostResult(
        currency="EUR", per_1000_requests=Decimal("0.1"), basis="instance", explanation="-"
    )
    return ModelResult(
        name="m",
        target_kind="python",
        quality=quality,
        latency_ms=latency,
        throughput_rps=100.0,
        load=load,
        cost=cost,
        sla=SlaCheck(met=True),
    )


def test_model_check_reads_the_model_figures() -> None:
    load = LoadResult(mode="constant", duration_s=10, requests=1000, completed=980, error_rate=0.02)
    check = check_sla(_model(load), SLA)
    assert check.violations == ["error rate 2% > 1%"]
    check = check_sla(_model(load), Sla(min_quality=0.85), quality_metric="accuracy")
    assert check.met  # accuracy 0.90
    check = check_sla(_model(load), Sla(min_quality=0.85))
    assert check.violations == ["macro F1 0.82 < 0.85"]


def test_without_a_load_phase_the_error_rate_is_the_failed_share() -> None:
    assert check_sla(_model(None, n_failed=5), SLA).violations == ["error rate 5% > 1%"]
    assert check_sla(_model(None, n_failed=1), SLA).met
