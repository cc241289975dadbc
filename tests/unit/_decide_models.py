"""Model results with chosen figures, for the decision tests."""

from __future__ import annotations

from decimal import Decimal

from modelmeter.results import (
    CostResult,
    Interval,
    LatencySummary,
    LoadResult,
    ModelResult,
    PairComparison,
    QualityResult,
    SlaCheck,
)


def model_result(
    name: str,
    f1: float | None,
    p95: float | None,
    cost: str | None,
    *,
    interval: tuple[float, float] | None = None,
    currency: str = "EUR",
    error_rate: float = 0.0,
    within_sla: bool | None = True,
) -> ModelResult:
    quality = None
    if f1 is not None:
        low, high = interval if interval is not None else (f1 - 0.03, f1 + 0.03)
        quality = QualityResult(
            n=500,
            accuracy=f1,
            precision_macro=f1,
            recall_macro=f1,
            f1_macro=f1,
            precision_weighted=f1,
            recall_weighted=f1,
            f1_weighted=f1,
            intervals={"f1_macro": Interval(low=low, high=high, method="bootstrap-percentile")},
        )
    latency = None
    if p95 is not None:
        latency = LatencySummary(
            count=100, mean=p95 / 2, p50=p95 / 2, p90=p95 * 0.9, p95=p95, p99=p95, max=p95
        )
    load = LoadResult(
        mode="constant", duration_s=10, requests=100, completed=100, error_rate=error_rate
    )
    return ModelResult(
        name=name,
        target_kind="python",
        quality=quality,
        latency_ms=latency,
        throughput_rps=100.0,
        load=load,
        cost=CostResult(
            currency=currency if cost is not None else "",
            per_1000_requests=None if cost is None else Decimal(cost),
            basis="instance" if cost is not None else "none",
            explanation="-",
            within_sla=within_sla,
        ),
        sla=SlaCheck(met=True),
    )


def paired_test(a: str, b: str, p: float, *, difference: float = 0.0) -> PairComparison:
    """The run's McNemar test of ``a`` against ``b`` with this (Holm-adjusted) p-value;
    significant when p ≤ 0.05."""
    return PairComparison(
        a=a,
        b=b,
        difference=difference,
        interval=Interval(low=difference - 0.01, high=difference + 0.01, method="newcombe"),
        p_value=p,
        p_adjusted=p,
        distinguishable=p <= 0.05,
        method="mcnemar-exact",
        items=1000,
    )
