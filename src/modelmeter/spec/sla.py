"""The SLA's limits applied to figures: the one place a limit is judged met or broken.

A model's results (``modelmeter.decide.sla``) and a load level of a sweep or an SLA search
(``modelmeter.load.sweep.Slo``) are both checked here, so a limit means the same everywhere and
a violation reads the same: 'P95 142.3 ms > 100 ms'. A limit is broken when the measured value
is worse than it (equal is fine); a limit whose figure is missing is broken too: a model cannot
be shown to meet an SLA without the evidence, and a missing figure must never be an advantage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from modelmeter._figures import finite_or_none, fmt_ms, fmt_percent, fmt_quality

__all__ = [
    "LIMIT_LABELS",
    "LimitName",
    "SlaViolation",
    "empty_window",
    "limit_violations",
    "near_limits",
]

LimitName = Literal[
    "p95_ms",
    "p99_ms",
    "ttft_p95_ms",
    "ttft_p99_ms",
    "itl_p95_ms",
    "itl_p99_ms",
    "max_error_rate",
    "min_quality",
    "max_cost_per_1000",
]
# In this order in every message.
LIMIT_LABELS: dict[LimitName, str] = {
    "p95_ms": "P95",
    "p99_ms": "P99",
    "ttft_p95_ms": "TTFT P95",
    "ttft_p99_ms": "TTFT P99",
    "itl_p95_ms": "ITL P95",
    "itl_p99_ms": "ITL P99",
    "max_error_rate": "error rate",
    "min_quality": "quality",
    "max_cost_per_1000": "cost per 1,000 requests",
}
_MILLISECONDS = frozenset(
    {"p95_ms", "p99_ms", "ttft_p95_ms", "ttft_p99_ms", "itl_p95_ms", "itl_p99_ms"}
)


@dataclass(frozen=True, slots=True)
class SlaViolation:
    """One broken limit. ``value`` is None when the figure is missing."""

    limit_name: LimitName
    label: str
    value: float | None
    limit: float

    def _fmt(self, number: float) -> str:
        if self.limit_name in _MILLISECONDS:
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
        """'42.3 ms over', '1.5 percentage points over', '0.03 below', or 'not measured'."""
        excess = self.excess
        if excess is None:
            return "not measured"
        if self.limit_name in _MILLISECONDS:
            return f"{fmt_ms(excess)} ms over"
        if self.limit_name == "max_error_rate":
            return f"{fmt_percent(excess).removesuffix('%')} percentage points over"
        return f"{fmt_quality(excess)} below"


def empty_window(requests: int, completed: int) -> str | None:
    """Why a load phase that completed no request fails, whatever limits are set; else None.

    Nothing answered means nothing was shown to work: a server that hung through the whole
    window must read as failed, never as "SLA met" with 0% errors over 0 requests.
    """
    if completed > 0:
        return None
    if requests == 0:
        return "load phase: no request in the measured window (nothing was measured)"
    return f"load phase: none of the {requests:,} requests in the measured window completed"


def limit_violations(
    limits: Mapping[LimitName, float | None],
    figures: Mapping[LimitName, float | None],
    *,
    labels: Mapping[LimitName, str] | None = None,
) -> list[SlaViolation]:
    """The limits set in ``limits`` that ``figures`` break, in the order of ``LIMIT_LABELS``.

    ``figures`` maps a limit's name to the measured value it is held to (the quality for
    ``min_quality``, the cost for ``max_cost_per_1000``); a missing or non-finite figure breaks
    its limit. ``labels`` renames a limit in the messages (e.g. 'macro F1' for the quality).
    """
    found = []
    for name, label in LIMIT_LABELS.items():
        limit = limits.get(name)
        if limit is None:
            continue
        value = finite_or_none(figures.get(name))
        worse = value is None or (value < limit if name == "min_quality" else value > limit)
        if worse:
            found.append(SlaViolation(name, (labels or {}).get(name, label), value, limit))
    return found


def near_limits(
    limits: Mapping[LimitName, float | None],
    figures: Mapping[LimitName, float | None],
    margin: float,
) -> list[str]:
    """Figures within ``margin`` (a share of the limit) of their limit, on either side:
    'P95 90 ms near 100 ms'."""
    near = []
    for name, label in LIMIT_LABELS.items():
        limit, value = limits.get(name), finite_or_none(figures.get(name))
        if limit is None or value is None or limit <= 0:
            continue
        if abs(value - limit) <= margin * limit:
            shown = SlaViolation(name, label, value, limit)
            near.append(f"{label} {shown._fmt(value)} near {shown._fmt(limit)}")
    return near
