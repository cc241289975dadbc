"""From what the LLM tasks measured to the report: per-task results, the pooled score, costs,
budget, break-even and the routing candidates.

The pooled score (``task_score``) is the share of all task items answered right, with a Wilson
interval: one number per model that the ranking and the SLA's ``min_quality`` read, and that
the cost per correct answer is consistent with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import urlsplit

from modelmeter._net import is_loopback_host
from modelmeter.economics.llm_costs import (
    TokenUsage,
    break_even,
    check_budget_limit,
    llm_cost_breakdown,
    monthly_budget,
)
from modelmeter.results import (
    BreakEven,
    Budget,
    Interval,
    LlmCostBreakdown,
    ModelResult,
    TaskResult,
)
from modelmeter.routing import Candidate
from modelmeter.spec import OpenAITargetSpec, TargetSpec
from modelmeter.spec.economics import EconomicsSpec
from modelmeter.spec.pricing import ApiPricing, InstancePricing
from modelmeter.stats.intervals import wilson_interval
from modelmeter.tasks.evaluate import TaskEvaluation

__all__ = [
    "economics_for",
    "pooled_score",
    "routing_candidate",
    "task_results",
]


def _usage(
    requests: int,
    input_tokens: int,
    output_tokens: int,
    reasoning_tokens: int = 0,
    cached_input_tokens: int = 0,
) -> TokenUsage:
    """Billed totals: reasoning tokens are output too (``output_tokens`` counts the visible
    answer only), cached input tokens a part of the input."""
    return TokenUsage(
        requests=requests,
        input_tokens=max(input_tokens, cached_input_tokens),
        output_tokens=output_tokens + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
        cached_input_tokens=cached_input_tokens,
    )


def _task_usage(evaluations: Sequence[TaskEvaluation]) -> TokenUsage:
    return _usage(
        sum(ev.answers for ev in evaluations),
        sum(ev.input_tokens for ev in evaluations),
        sum(ev.output_tokens for ev in evaluations),
        sum(ev.reasoning_tokens for ev in evaluations),
        sum(ev.cached_input_tokens for ev in evaluations),
    )


def task_results(
    evaluations: Sequence[TaskEvaluation],
    pricing: InstancePricing | ApiPricing | None,
    judge_pricing: InstancePricing | ApiPricing | None,
) -> list[TaskResult]:
    results = []
    for ev in evaluations:
        assert ev.quality is not None
        cost_per_correct = judge_cost = None
        if isinstance(pricing, ApiPricing) and ev.answers:
            breakdown = llm_cost_breakdown(
                pricing, _task_usage([ev]), correct_answers=min(ev.correct_answers, ev.answers)
            )
            cost_per_correct = breakdown.per_correct_answer
        if isinstance(judge_pricing, ApiPricing) and ev.judge_requests:
            judge_cost = llm_cost_breakdown(
                judge_pricing,
                _usage(ev.judge_requests, ev.judge_input_tokens, ev.judge_output_tokens),
            ).total
        results.append(
            TaskResult(
                name=ev.task,
                kind=ev.kind,
                route=ev.route,
                quality=ev.quality,
                pass_at_k={str(k): v for k, v in ev.pass_at_k.items()},
                answers=ev.answers,
                sent=ev.sent,
                cached=ev.cached,
                failed=ev.failed,
                input_tokens=ev.input_tokens,
                output_tokens=ev.output_tokens,
                reasoning_tokens=ev.reasoning_tokens,
                cached_input_tokens=ev.cached_input_tokens,
                cost_per_correct=cost_per_correct,
                judge_requests=ev.judge_requests,
                judge_input_tokens=ev.judge_input_tokens,
                judge_output_tokens=ev.judge_output_tokens,
                judge_cost=judge_cost,
            )
        )
    return results


def pooled_score(evaluations: Sequence[TaskEvaluation]) -> tuple[float | None, Interval | None]:
    """Share of all task items answered right, with its Wilson 95% interval."""
    n = sum(ev.quality.n for ev in evaluations if ev.quality is not None)
    correct = sum(ev.quality.n_correct for ev in evaluations if ev.quality is not None)
    if n == 0:
        return None, None
    return correct / n, wilson_interval(correct, n)


def economics_for(
    evaluations: Sequence[TaskEvaluation],
    pricing: InstancePricing | ApiPricing | None,
    economics: EconomicsSpec,
    throughput_rps: float | None,
) -> tuple[LlmCostBreakdown | None, Budget | None, BreakEven | None, list[str]]:
    """The evaluated requests' costs, the monthly budget and the break-even, where they apply;
    plus notes on what could not be computed and why."""
    notes: list[str] = []
    if not isinstance(pricing, ApiPricing):
        if economics.workload is not None or economics.self_hosted is not None:
            notes.append(
                "the monthly budget and the break-even need token prices (api or catalogue "
                "pricing); this target has none"
            )
        return None, None, None, notes
    usage = _task_usage(evaluations)
    answers = usage.requests
    correct = min(sum(ev.correct_answers for ev in evaluations), answers)
    breakdown = llm_cost_breakdown(pricing, usage, correct_answers=correct)
    budget = None
    if economics.workload is not None:
        budget = monthly_budget(pricing, economics.workload, usage.means())
        if economics.monthly_budget is not None and economics.budget_currency is not None:
            budget = check_budget_limit(budget, economics.monthly_budget, economics.budget_currency)
    breakeven = None
    if economics.self_hosted is not None:
        if throughput_rps and breakdown.per_request is not None:
            volume = budget.requests_per_month if budget is not None else None
            breakeven = break_even(
                breakdown.per_request,
                pricing.currency,
                economics.self_hosted,
                throughput_rps=throughput_rps,
                monthly_requests=Decimal(volume) if volume is not None else None,
            )
        else:
            notes.append("no break-even: the load phase measured no throughput for this target")
    return breakdown, budget, breakeven, notes


def _provider(url: str) -> str:
    host = (urlsplit(url).hostname or "local").lower()
    if is_loopback_host(host):
        return "local"
    parts = [p for p in host.split(".") if p not in ("api", "www")]
    name = parts[-2] if len(parts) >= 2 else parts[0]
    return re.sub(r"[^a-z0-9_.-]", "-", name) or "provider"


def routing_candidate(
    model: ModelResult, target: TargetSpec, evaluations: Sequence[TaskEvaluation]
) -> Candidate | None:
    """The routing view of one measured OpenAI-compatible target; None for other kinds."""
    if not isinstance(target, OpenAITargetSpec):
        return None
    provider = _provider(target.url)
    key_env = target.api_key_env or re.sub(r"[^A-Z0-9_]", "_", f"{provider.upper()}_API_KEY")
    quality: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    for ev in evaluations:
        if ev.quality is None:
            continue
        kind = ev.task
        quality[kind] = ev.quality.mean_score
        ci = ev.quality.mean_score_ci
        if ci is not None and ci.low <= ev.quality.mean_score <= ci.high:
            intervals[kind] = (ci.low, ci.high)
    llm = model.load.llm if model.load is not None else None
    cost = model.llm_cost
    return Candidate(
        name=model.name,
        provider=provider,
        api_base=target.url,
        model=target.model,
        api_key_env=key_env,
        context_window=model.context_window,
        quality_by_task=quality,
        quality_ci_by_task=intervals,
        p95_ms=model.latency_ms.p95 if model.latency_ms is not None else None,
        ttft_p95_ms=llm.ttft_ms.p95 if llm is not None and llm.ttft_ms is not None else None,
        cost_per_1m_tokens=float(cost.per_1m_tokens)
        if cost is not None and cost.per_1m_tokens is not None
        else None,
        cost_per_correct=float(cost.per_correct_answer)
        if cost is not None and cost.per_correct_answer is not None
        else None,
        currency=cost.currency if cost is not None else "USD",
        supports_reasoning=bool(llm is not None and llm.time_to_first_reasoning_ms is not None),
        sla_met=model.sla.met,
    )
