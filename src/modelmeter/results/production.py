"""Plans for production: capacity (replicas, autoscaler, monthly cost) and the business case.

The arithmetic that fills these lives in :mod:`modelmeter.production`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelmeter._money import Money
from modelmeter.results._base import Quantity

__all__ = [
    "BusinessCase",
    "BusinessFigures",
    "CapacityPlan",
    "CapacitySource",
    "ValuePer",
]


CapacitySource = Literal["sla_search", "throughput_within_sla", "throughput"]


class CapacityPlan(BaseModel):
    """Replicas for the peak, the autoscaler's range and target, and the monthly cost."""

    model_config = ConfigDict(extra="forbid")

    per_replica_rps: float = Field(description="Requests per second one replica carries.")
    source: CapacitySource = Field(
        description="Where per_replica_rps comes from: 'sla_search' (highest rate within the "
        "SLA), 'throughput_within_sla' (the load phase's throughput, whose figures met the "
        "SLA) or 'throughput' (measured without an SLA check, or beyond the SLA)."
    )
    peak_rps: float = Field(description="Peak request rate planned for, in requests per second.")
    headroom: float = Field(description="Spare capacity on top of the peak, as a share of it.")
    replicas_for_peak: int = Field(
        description="ceil(peak × (1 + headroom) / per-replica capacity), before min_replicas."
    )
    replicas: int = Field(description="Replicas at peak: replicas_for_peak, at least min_replicas.")
    min_replicas: int = Field(description="Fewest replicas ever running (the HPA's minimum).")
    max_replicas: int = Field(description="Most replicas the HPA may start (its maximum).")
    utilisation_at_peak: float = Field(
        description="peak / (replicas × per-replica capacity): share of capacity used at peak."
    )
    target_utilisation: float = Field(
        description="Share of one replica's capacity the autoscaler aims at."
    )
    hpa_target_rps: float = Field(
        description="Requests per second per replica the HPA aims at: capacity × target "
        "utilisation."
    )
    hpa_replicas_at_peak: int = Field(
        description="Replicas the HPA asks for at peak, ceil(peak / hpa_target_rps), before it "
        "is held to [min_replicas, max_replicas]."
    )
    average_rps: float | None = Field(
        description="Average request rate, when given, for the autoscaled cost."
    )
    replicas_at_average: int | None = Field(
        description="Replicas the HPA settles at under the average load, within its range."
    )
    utilisation_at_average: float | None = Field(
        description="average / (replicas_at_average × per-replica capacity)."
    )
    currency: str | None = Field(description="ISO 4217 code of every amount; None without price.")
    price_per_hour: Money | None = Field(description="Price of one replica for one hour.")
    hours_per_month: Quantity = Field(description="Hours billed per replica per month.")
    monthly_cost: Money | None = Field(
        description="replicas × price per hour × hours per month: the peak-provisioned cost; "
        "None without a price."
    )
    monthly_cost_at_average: Money | None = Field(
        description="replicas at average × price per hour × hours per month: the autoscaled "
        "cost when load stays near its average; None without a price or an average."
    )
    explanation: list[str] = Field(description="Every formula with its figures, in order.")


ValuePer = Literal["correct", "conversion"]


class BusinessFigures(BaseModel):
    """The business case at one value of the lift."""

    model_config = ConfigDict(extra="forbid")

    lift: float = Field(description="Candidate minus baseline accuracy (a share: 0.05 = 5 points).")
    extra_per_month: Quantity = Field(
        description="lift × monthly requests: extra correct answers (or conversions) per month."
    )
    monthly_value: Money = Field(description="extra_per_month × value_per_correct.")
    net_monthly_benefit: Money | None = Field(
        description="monthly_value − extra monthly cost; None when a monthly cost is unknown."
    )
    net_gain_over_horizon: Money | None = Field(
        description="net_monthly_benefit × horizon months − one-off cost."
    )
    roi: Quantity | None = Field(
        description="net_gain_over_horizon / (one-off cost + extra monthly cost × horizon), as "
        "a ratio (0.5 = 50%); None when nothing is invested or a cost is unknown."
    )
    payback_months: Quantity | None = Field(
        description="one-off cost / net_monthly_benefit; None when the benefit is not positive "
        "(never paid back) or unknown."
    )


class BusinessCase(BaseModel):
    """Whether switching from the baseline to the candidate pays, with its uncertainty."""

    model_config = ConfigDict(extra="forbid")

    baseline: str = Field(description="Name of the model in production (the baseline).")
    candidate: str = Field(description="Name of the model weighed against it.")
    currency: str = Field(description="ISO 4217 code of every amount here.")
    value_per: ValuePer = Field(description="What value_per_correct is the value of.")
    value_per_correct: Money = Field(description="Value of one more correct answer/conversion.")
    monthly_requests: Quantity = Field(description="Requests per month.")
    baseline_accuracy: float = Field(description="Accuracy (or conversion rate) of the baseline.")
    candidate_accuracy: float = Field(description="Accuracy (or conversion rate) of the candidate.")
    lift_low: float | None = Field(description="Low end of the lift's interval; None without one.")
    lift_high: float | None = Field(description="High end of the lift's interval.")
    interval_level: float | None = Field(description="Confidence level of the lift's interval.")
    lift_interval_method: str | None = Field(
        description="How the lift's interval was obtained: the paired difference's, or MOVER "
        "from the two accuracy intervals."
    )
    gain_established: bool | None = Field(
        description="True when the lift's interval lies above 0, False when it includes or is "
        "below 0, None without an interval."
    )
    monthly_cost_baseline: Money | None = Field(
        description="Baseline's monthly cost; None: unknown."
    )
    monthly_cost_candidate: Money | None = Field(
        description="Candidate's monthly cost; None: unknown."
    )
    extra_monthly_cost: Money | None = Field(
        description="Candidate's minus baseline's monthly cost (negative: the candidate saves)."
    )
    one_off_cost: Money = Field(description="Cost of making the switch once.")
    horizon_months: int = Field(description="Months the ROI is counted over.")
    expected: BusinessFigures = Field(description="Figures at the measured lift.")
    at_lift_low: BusinessFigures | None = Field(
        description="Figures at the low end of the lift's interval (the interval carried through)."
    )
    at_lift_high: BusinessFigures | None = Field(
        description="Figures at the high end of the lift's interval."
    )
    explanation: list[str] = Field(description="Every formula with its figures, in order.")
