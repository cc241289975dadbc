"""The Report: versioned data that every output format (HTML, Markdown, JSON) renders.

Other tools read ``report.json``; the names here are a contract. Add fields, never rename them
without bumping ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from modelmeter.results._base import Interval, ResultModel
from modelmeter.results.cost import BreakEven, Budget, CostResult, LlmCostBreakdown
from modelmeter.results.decision import (
    Advice,
    Decision,
    PairComparison,
    RankedModel,
    Recommendation,
    RouteChoiceResult,
    SlaCheck,
)
from modelmeter.results.load import LatencySummary, LoadResult, SweepResult
from modelmeter.results.production import BusinessCase, CapacityPlan
from modelmeter.results.quality import ItemResults, QualityResult, TaskResult

__all__ = [
    "SCHEMA_VERSION",
    "HostFacts",
    "ModelResult",
    "Report",
]


SCHEMA_VERSION = 1


class ModelResult(ResultModel):
    name: str
    target_kind: str
    description: str = ""
    quality: QualityResult | None
    latency_ms: LatencySummary | None = Field(
        description="Response time (from intended send time) in the load phase."
    )
    throughput_rps: float | None
    load: LoadResult | None
    cost: CostResult
    sla: SlaCheck
    sweep: SweepResult | None = Field(
        default=None, description="Throughput-vs-latency series, when the spec asks for one."
    )
    tasks: list[TaskResult] = Field(
        default_factory=list, description="LLM runs: quality and tokens per evaluation set."
    )
    task_score: float | None = Field(
        default=None,
        description="LLM runs: share of all task items answered right (the quality used to "
        "rank models).",
    )
    task_score_ci: Interval | None = Field(
        default=None, description="Wilson 95% interval of task_score."
    )
    context_window: int | None = Field(
        default=None, description="Largest prompt in tokens, from the price catalogue."
    )
    items: ItemResults | None = Field(
        default=None, description="Per-item grades, for paired comparisons."
    )
    llm_cost: LlmCostBreakdown | None = Field(
        default=None,
        description="LLM runs: what the evaluated requests cost per request, per 1M tokens and "
        "per correct answer, with the formulas.",
    )
    budget: Budget | None = Field(
        default=None, description="Monthly cost of the declared workload (economics.workload)."
    )
    break_even: BreakEven | None = Field(
        default=None,
        description="API vs self-hosting (economics.self_hosted) at this target's measured "
        "throughput.",
    )

    @property
    def measured(self) -> bool:
        """Whether anything was measured: quality, a task score or latency (an interrupted run
        can leave a model with none)."""
        return not (self.quality is None and self.task_score is None and self.latency_ms is None)


class HostFacts(ResultModel):
    python: str
    platform: str
    cpu_count: int
    machine: str


class Report(ResultModel):
    schema_version: int = SCHEMA_VERSION
    tool_version: str
    run_id: str
    name: str
    created_at: datetime
    spec_hash: str
    seed: int
    host: HostFacts
    task: str
    dataset: dict[str, str | int] = Field(default_factory=dict)
    models: list[ModelResult]
    pareto: list[str] = Field(description="Names of the models on the quality/P95/cost frontier.")
    ranking: list[RankedModel]
    recommendation: Recommendation
    decision: Decision | None = Field(
        default=None,
        description="The one decision every section derives from (None in reports stored "
        "before it existed).",
    )
    sla: dict[str, float] = Field(default_factory=dict, description="The SLA limits applied.")
    quality_metric: str = Field(
        default="f1_macro", description="The quality metric the ranking and the SLA used."
    )
    priority_weights: dict[str, dict[str, float]] = Field(default_factory=dict)
    definitions: dict[str, str] = Field(
        default_factory=dict, description="Metric name -> one-line definition."
    )
    notes: list[str] = Field(default_factory=list)
    interrupted: bool = Field(
        default=False,
        description="True when the run was stopped before it measured everything: every figure "
        "covers only what was measured before.",
    )
    pricing_source: str | None = Field(
        default=None, description="The price catalogue used: its source and date."
    )
    routing: list[RouteChoiceResult] = Field(
        default_factory=list, description="LLM runs: which model takes each request kind, why."
    )
    routing_files: list[str] = Field(
        default_factory=list, description="Router configurations written with the report."
    )
    comparisons: list[PairComparison] = Field(
        default_factory=list, description="Every pair of models compared on the same items."
    )
    tie_groups: list[list[str]] = Field(
        default_factory=list,
        description="Models ranked by quality in groups that the paired tests cannot tell apart.",
    )
    capacity: CapacityPlan | None = Field(
        default=None, description="Capacity plan for the chosen model (spec: capacity)."
    )
    capacity_model: str | None = Field(default=None, description="The model the plan is for.")
    capacity_reference: bool = Field(
        default=False,
        description="True when the spec declared no peak and the plan is for a reference peak "
        "of 1,000 req/s, to show the scale.",
    )
    manifest_file: str | None = Field(
        default=None, description="Kubernetes manifests written beside the report."
    )
    business_case: BusinessCase | None = Field(
        default=None, description="Whether switching to the chosen model pays (spec: business)."
    )
    advice: list[Advice] = Field(
        default_factory=list,
        description="Optimisation advice grounded in this run's measurements, by horizon: the "
        "90-day plan.",
    )
