"""The figures decisions use, read from a ModelResult, and how they are written in words."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from modelmeter._figures import finite_or_none, fmt_quality
from modelmeter._money import format_money
from modelmeter.economics import ensure_single_currency
from modelmeter.results import Interval, ModelResult

QUALITY_LABELS = {
    "f1_macro": "macro F1",
    "accuracy": "accuracy",
    "f1_weighted": "weighted F1",
    "task_score": "share correct",
}


def quality_of(model: ModelResult, metric: str) -> float | None:
    if metric == "task_score":
        return finite_or_none(model.task_score)
    if model.quality is None:
        return None
    value: float = getattr(model.quality, metric)
    return finite_or_none(value)


def quality_interval(model: ModelResult, metric: str) -> Interval | None:
    if metric == "task_score":
        return model.task_score_ci
    if model.quality is None:
        return None
    return model.quality.intervals.get(metric)


def p95_of(model: ModelResult) -> float | None:
    return None if model.latency_ms is None else finite_or_none(model.latency_ms.p95)


def p99_of(model: ModelResult) -> float | None:
    return None if model.latency_ms is None else finite_or_none(model.latency_ms.p99)


def error_rate_of(model: ModelResult) -> float | None:
    """The load phase's error rate; without one, the share of failed quality requests."""
    if model.load is not None:
        return finite_or_none(model.load.error_rate)
    if model.quality is not None and model.quality.n > 0:
        return model.quality.n_failed / model.quality.n
    return None


def cost_of(model: ModelResult, basis: str = "per_1000_requests") -> Decimal | None:
    """The cost the decision weighs: per 1,000 requests, or per correct answer."""
    amount = model.cost.per_1000_requests
    if basis == "per_correct_answer":
        if model.llm_cost is not None and model.llm_cost.per_correct_answer is not None:
            return model.llm_cost.per_correct_answer
        right = model.quality.accuracy if model.quality is not None else model.task_score
        if amount is None or not amount.is_finite() or not right:
            return None
        return amount / Decimal(1000) / Decimal(str(right))
    if amount is None or not amount.is_finite():
        return None
    return amount


def check_names_and_currency(models: Sequence[ModelResult]) -> str | None:
    """Refuse duplicate names and costs in more than one currency; return the currency."""
    seen: set[str] = set()
    for model in models:
        if model.name in seen:
            raise ValueError(f"two models are named {model.name!r}; names must be unique")
        seen.add(model.name)
    return ensure_single_currency(
        {model.name: model.cost.currency for model in models if cost_of(model) is not None}
    )


def fmt_score(value: float) -> str:
    return f"{value:.2f}"


def fmt_cost(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def fmt_interval(interval: Interval) -> str:
    return f"{fmt_quality(interval.low)}–{fmt_quality(interval.high)}"


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
