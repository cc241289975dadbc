"""Checking a model's measurements against SLA limits.

The judgment itself (which figure breaks which limit, and how that reads) is the one in
:mod:`modelmeter.spec.sla`, shared with the load levels of sweeps and SLA searches; this module
reads a model's figures for it.
"""

from __future__ import annotations

from modelmeter.decide._facts import (
    QUALITY_LABELS,
    error_rate_of,
    p95_of,
    p99_of,
    quality_of,
)
from modelmeter.results import ModelResult, SlaCheck
from modelmeter.spec.objectives import QualityMetric, Sla
from modelmeter.spec.sla import LimitName, SlaViolation, limit_violations

__all__ = [
    "SlaViolation",
    "check_sla",
    "check_sla_values",
    "sla_value_violations",
    "sla_violations",
]


def sla_value_violations(
    sla: Sla,
    *,
    p95_ms: float | None = None,
    p99_ms: float | None = None,
    error_rate: float | None = None,
    quality: float | None = None,
    quality_metric: QualityMetric = "f1_macro",
    ttft_p95_ms: float | None = None,
    itl_p95_ms: float | None = None,
    cost_per_1000: float | None = None,
) -> list[SlaViolation]:
    """The limits of ``sla`` that the given measurements break, in a fixed order.

    A missing (None) or non-finite measurement breaks any limit set on it.
    """
    limits: dict[LimitName, float | None] = {
        "p95_ms": sla.p95_ms,
        "p99_ms": sla.p99_ms,
        "ttft_p95_ms": sla.ttft_p95_ms,
        "itl_p95_ms": sla.itl_p95_ms,
        "max_error_rate": sla.max_error_rate,
        "min_quality": sla.min_quality,
        "max_cost_per_1000": sla.max_cost_per_1000,
    }
    figures: dict[LimitName, float | None] = {
        "p95_ms": p95_ms,
        "p99_ms": p99_ms,
        "ttft_p95_ms": ttft_p95_ms,
        "itl_p95_ms": itl_p95_ms,
        "max_error_rate": error_rate,
        "min_quality": quality,
        "max_cost_per_1000": cost_per_1000,
    }
    return limit_violations(limits, figures, labels={"min_quality": QUALITY_LABELS[quality_metric]})


def check_sla_values(
    sla: Sla,
    *,
    p95_ms: float | None = None,
    p99_ms: float | None = None,
    error_rate: float | None = None,
    quality: float | None = None,
    quality_metric: QualityMetric = "f1_macro",
) -> SlaCheck:
    """Check measurements against ``sla``; violations read like 'P95 142.3 ms > 100 ms'.

    ``quality`` is the value of ``quality_metric`` (checked against ``sla.min_quality``).
    """
    found = sla_value_violations(
        sla,
        p95_ms=p95_ms,
        p99_ms=p99_ms,
        error_rate=error_rate,
        quality=quality,
        quality_metric=quality_metric,
    )
    return SlaCheck(met=not found, violations=[violation.describe() for violation in found])


def sla_violations(
    model: ModelResult, sla: Sla, quality_metric: QualityMetric = "f1_macro"
) -> list[SlaViolation]:
    """:func:`sla_value_violations` for a model's results.

    Latency is the response-time summary; the error rate is the load phase's, or without a load
    phase the share of failed requests in the quality pass.
    """
    return sla_value_violations(
        sla,
        p95_ms=p95_of(model),
        p99_ms=p99_of(model),
        error_rate=error_rate_of(model),
        quality=quality_of(model, quality_metric),
        quality_metric=quality_metric,
        ttft_p95_ms=_llm_p95(model, "ttft_ms"),
        itl_p95_ms=_llm_p95(model, "itl_ms"),
        cost_per_1000=_cost(model),
    )


def _cost(model: ModelResult) -> float | None:
    amount = model.cost.per_1000_requests
    return None if amount is None else float(amount)


def _llm_p95(model: ModelResult, metric: str) -> float | None:
    llm = model.load.llm if model.load is not None else None
    summary = getattr(llm, metric, None) if llm is not None else None
    return None if summary is None else float(summary.p95)


def check_sla(model: ModelResult, sla: Sla, quality_metric: QualityMetric = "f1_macro") -> SlaCheck:
    """Check a model's results against ``sla``; violations read like 'P95 142.3 ms > 100 ms'.

    Only the figures are read (quality, latency, load), so a provisional ``ModelResult`` built
    before its cost and SLA check are known will do. See :func:`sla_violations`.
    """
    found = sla_violations(model, sla, quality_metric)
    return SlaCheck(met=not found, violations=[violation.describe() for violation in found])
