"""The ``capacity:`` and ``business:`` sections: the load to plan for, and what a right answer
is worth."""

from __future__ import annotations

from decimal import Decimal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from modelmeter._money import currency_code
from modelmeter.results import ValuePer
from modelmeter.spec.quantity import is_positive_quantity

__all__ = [
    "DEFAULT_HOURS_PER_MONTH",
    "BusinessSpec",
    "CapacitySpec",
]


DEFAULT_HOURS_PER_MONTH = Decimal(730)  # 365 × 24 / 12: the average month, as cloud bills use


class CapacitySpec(BaseModel):
    """The ``capacity:`` section of a spec: the load to plan for and how to deploy for it.

    ::

        capacity:
          peak_rps: 200
          average_rps: 60
          headroom: 0.3
          image: registry.example.com/sentiment-server:1.4
    """

    model_config = ConfigDict(extra="forbid")

    peak_rps: float = Field(
        gt=0, description="Highest request rate production must serve, in requests per second."
    )
    average_rps: float | None = Field(
        default=None,
        gt=0,
        description="Average request rate over the month, for the autoscaled cost; null: the "
        "plan prices peak provisioning only.",
    )
    headroom: float = Field(
        default=0.3,
        ge=0,
        le=10,
        description="Spare capacity on top of the peak, as a share of it (0.3 = 30% more "
        "than the peak); covers bursts and a replica lost to a rollout or a failure.",
    )
    min_replicas: int = Field(
        default=2,
        ge=1,
        description="Fewest replicas ever running; 2 keeps serving while one restarts.",
    )
    max_replicas: int | None = Field(
        default=None,
        ge=1,
        description="Most replicas the autoscaler may start; null: the replicas the plan needs "
        "at peak. Must be at least that and at least min_replicas.",
    )
    target_utilisation: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="Share of one replica's capacity the autoscaler aims at (0 < u ≤ 1): its "
        "request-rate target is per-replica capacity × this, and its CPU fallback this × 100%.",
    )
    hours_per_month: Decimal = Field(
        default=DEFAULT_HOURS_PER_MONTH,
        gt=0,
        le=744,
        description="Hours billed per replica per month; 730 is the average month (365 × 24 / "
        "12), 744 a 31-day month.",
    )
    image: str | None = Field(
        default=None,
        description="Container image of the model server, for the Kubernetes manifests; null: "
        "the manifests name a placeholder image to replace.",
    )
    container_port: int = Field(
        default=8000,
        ge=1,
        le=65535,
        description="Port the model server listens on in the container (modelmeter serve's "
        "default is 8000).",
    )
    cpu: str = Field(
        default="1",
        description="CPU request and limit of one replica, as a Kubernetes quantity ('1', "
        "'500m'); should match what the measured replica had.",
    )
    memory: str = Field(
        default="1Gi",
        description="Memory request and limit of one replica, as a Kubernetes quantity "
        "('1Gi', '512Mi').",
    )

    @field_validator("image")
    @classmethod
    def _image_has_no_spaces(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c.isspace() for c in value)):
            raise ValueError(
                f"image must be a container image reference without spaces, such as "
                f"registry.example.com/model-server:1.0; got {value!r}"
            )
        return value

    @field_validator("cpu", "memory")
    @classmethod
    def _kubernetes_quantity(cls, value: str) -> str:
        if not is_positive_quantity(value):
            raise ValueError(
                f"must be a positive Kubernetes quantity such as '1', '500m', '2Gi' or "
                f"'512Mi'; got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CapacitySpec:
        if self.average_rps is not None and self.average_rps > self.peak_rps:
            raise ValueError(
                f"average_rps ({self.average_rps:g}) cannot exceed peak_rps ({self.peak_rps:g})"
            )
        if self.max_replicas is not None and self.max_replicas < self.min_replicas:
            raise ValueError(
                f"max_replicas ({self.max_replicas}) cannot be below min_replicas "
                f"({self.min_replicas})"
            )
        return self


class BusinessSpec(BaseModel):
    """The ``business:`` section of a spec: what a correct answer is worth, and the volume.

    ::

        business:
          value_per_correct: 0.10
          currency: EUR
          monthly_requests: 1000000
          one_off_cost: 10000
    """

    model_config = ConfigDict(extra="forbid")

    value_per_correct: Decimal = Field(
        gt=0,
        description="What one more correct answer (or conversion, see value_per) is worth, in "
        "`currency`.",
    )
    currency: str = Field(
        description="ISO 4217 code of value_per_correct and one_off_cost; must be the currency "
        "the models are priced in (amounts are never converted)."
    )
    monthly_requests: Decimal = Field(gt=0, description="Requests the model answers per month.")
    value_per: ValuePer = Field(
        default="correct",
        description="What the value is per: 'correct' (a correct answer; the lift is in "
        "accuracy) or 'conversion' (the lift is in conversion rate).",
    )
    one_off_cost: Decimal = Field(
        default=Decimal(0),
        ge=0,
        description="Cost of making the switch once (integration, migration, evaluation), in "
        "`currency`.",
    )
    horizon_months: int = Field(
        default=12, ge=1, le=120, description="Months the return on investment is counted over."
    )
    baseline: str | None = Field(
        default=None,
        description="Target the others are weighed against (the model in production); null: "
        "the spec's first target.",
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _normalise_currency(cls, value: object) -> object:
        return currency_code(value)
