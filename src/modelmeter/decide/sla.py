"""Checking a model's measurements against SLA limits.

A limit is broken when the measured value is worse than it (equal is fine). A limit whose
measurement is missing is reported as broken too: a model cannot be shown to meet an SLA without
the evidence, and a missing measurement must never be an advantage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modelmeter.decide._facts import (
    QUALITY_LABELS,
    error_rate_of,
    finite_or_none,
    fmt_ms,
    fmt_percent,
    fmt_quality,
    p95_of,
    p99_of,
    quality_of,
)
from modelmeter.results import ModelResult, SlaCheck
from modelmeter.spec.objectives import QualityMetric, Sla

__all__ = [
    "SlaViolation",
    "check_sla",
    "check_sla_values",
    "sla_value_violations",
    "sla_violations",
]


@dataclass(frozen=True, slots=True)
class SlaViolation:
    """One broken limit. ``value`` is None when the measurement is missing."""

    limit_name: Literal[
        "p95_ms",
        "p99_ms",
        "ttft_p95_ms",
        "itl_p95_ms",
        "max_error_rate",
        "min_quality",
        "max_cost_per_1000",
    ]
    label: str
    value: float | None
    limit: float

    def _fmt(self, number: float) -> str:
        if self.limit_name in ("p95_ms", "p99_ms", "ttft_p95_ms", "itl_p95_ms"):
            return f"{fmt_ms(number)} ms"
        if self.limit_name == "max_error_rate":
            return fmt_percent(number)
        if self.limit_name == "max_cost_per_1000":
            return f"{number:.6g}"
        return fmt_quality(number)

    @property
    def excess(self) -> float | None:
        """How far past the limit the value is (positive), or None when not measured."""
        if self.value is None:
            return None
        if self.limit_name == "min_quality":
            return self.limit - self.value
        return self.value - self.limit

    def describe(self) -> str:
        """'P95 142.3 ms > 100 ms', or 'P95 not measured (limit 100 ms)'."""
        if self.value is None:
            return f"{self.label} not measured (limit {self._fmt(self.limit)})"
        sign = "<" if self.limit_name == "min_quality" else ">"
        return f"{self.label} {self._fmt(self.value)} {sign} {self._fmt(self.limit)}"

    def describe_excess(self) -> str:
        """'42.3 ms over', '1.5 points over', '0.03 below', or 'not measured'."""
        excess = self.excess
        if excess is None:
            return "not measured"
        if self.limit_name in ("p95_ms", "p99_ms", "ttft_p95_ms", "itl_p95_ms"):
            return f"{fmt_ms(excess)} ms over"
        if self.limit_name == "max_error_rate":
            return f"{fmt_percent(excess).removesuffix('%')} percentage points over"
        return f"{fmt_quality(excess)} below"


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
    p95_ms, p99_ms = finite_or_none(p95_ms), finite_or_none(p99_ms)
    error_rate, quality = finite_or_none(error_rate), finite_or_none(quality)
    found: list[SlaViolation] = []
    if sla.p95_ms is not None and (p95_ms is None or p95_ms > sla.p95_ms):
        found.append(SlaViolation("p95_ms", "P95", p95_ms, sla.p95_ms))
    if sla.p99_ms is not None and (p99_ms is None or p99_ms > sla.p99_ms):
        found.append(SlaViolation("p99_ms", "P99", p99_ms, sla.p99_ms))
    ttft_p95_ms, itl_p95_ms = finite_or_none(ttft_p95_ms), finite_or_none(itl_p95_ms)
    if sla.ttft_p95_ms is not None and (ttft_p95_ms is None or ttft_p95_ms > sla.ttft_p95_ms):
        found.append(SlaViolation("ttft_p95_ms", "TTFT P95", ttft_p95_ms, sla.ttft_p95_ms))
    if sla.itl_p95_ms is not None and (itl_p95_ms is None or itl_p95_ms > sla.itl_p95_ms):
        found.append(SlaViolation("itl_p95_ms", "ITL P95", itl_p95_ms, sla.itl_p95_ms))
    if sla.max_error_rate is not None and (error_rate is None or error_rate > sla.max_error_rate):
        found.append(SlaViolation("max_error_rate", "error rate", error_rate, sla.max_error_rate))
    if sla.min_quality is not None and (quality is None or quality < sla.min_quality):
        label = QUALITY_LABELS[quality_metric]
        found.append(SlaViolation("min_quality", label, quality, sla.min_quality))
    cost_per_1000 = finite_or_none(cost_per_1000)
    limit = sla.max_cost_per_1000
    if limit is not None and (cost_per_1000 is None or cost_per_1000 > limit):
        found.append(
            SlaViolation("max_cost_per_1000", "cost per 1,000 requests", cost_per_1000, limit)
        )
    return found


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
