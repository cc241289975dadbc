"""The root of a spec file: the study, with every section."""

from __future__ import annotations

import functools
import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import (
    Field,
    create_model,
    field_validator,
    model_validator,
)

from modelmeter._exceptions import SpecError
from modelmeter._net import is_loopback_url
from modelmeter.spec._base import SpecModel
from modelmeter.spec.dataset import DatasetSpec
from modelmeter.spec.economics import EconomicsSpec
from modelmeter.spec.evaluation import EvaluationSpec, LlmTaskSpec
from modelmeter.spec.load import LoadSpec
from modelmeter.spec.objectives import Objectives
from modelmeter.spec.production import BusinessSpec, CapacitySpec
from modelmeter.spec.routing import RoutingSpec
from modelmeter.spec.targets import TargetSettings, TargetSpec, target_kinds

__all__ = [
    "Spec",
    "spec_model",
]

_TARGETS_DESCRIPTION = "The models to compare."


class Spec(SpecModel):
    name: str = Field(min_length=1, description="Name of the study, shown in the report.")
    description: str = Field(default="", description="Free text about the study.")
    seed: int = Field(default=0, description="Seed for arrivals and bootstrap resampling.")
    task: Literal["classification", "llm"] = Field(
        default="classification",
        description="'classification': labelled texts, scored by F1; 'llm': the evaluation "
        "sets under tasks (multiple choice, generation, code).",
    )
    dataset: DatasetSpec | None = Field(
        default=None,
        description="Classification: the labelled items. LLM runs: the prompts of the load "
        "phase (default: the tasks' prompts).",
    )
    tasks: list[LlmTaskSpec] = Field(
        default_factory=list, description="LLM evaluation sets (task: llm)."
    )
    targets: list[TargetSpec] = Field(min_length=1, description=_TARGETS_DESCRIPTION)
    load: LoadSpec = Field(default_factory=LoadSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    objectives: Objectives = Field(default_factory=Objectives)
    economics: EconomicsSpec = Field(
        default_factory=EconomicsSpec,
        description="Price catalogue, declared workload, monthly budget, self-hosting option.",
    )
    routing: RoutingSpec | None = Field(
        default=None, description="Write router configurations from the decision (task: llm)."
    )
    capacity: CapacitySpec | None = Field(
        default=None,
        description="Capacity plan for the chosen model and Kubernetes manifests; see "
        "docs/capacity.md.",
    )
    business: BusinessSpec | None = Field(
        default=None, description="Business case of switching models; see docs/capacity.md."
    )

    @model_validator(mode="after")
    def _task_inputs(self) -> Spec:
        if self.task == "classification":
            if self.dataset is None:
                raise ValueError("task 'classification' needs a dataset")
            if self.tasks:
                raise ValueError("tasks are LLM evaluation sets: set task: llm")
        else:
            if not self.tasks:
                raise ValueError("task 'llm' needs at least one entry under tasks")
            names = [t.name for t in self.tasks]
            if len(set(names)) != len(names):
                raise ValueError("task names must be unique")
            if any(t.scoring == "judge" for t in self.tasks) and self.evaluation.judge is None:
                raise ValueError("a task scored 'judge' needs evaluation.judge")
            metric = self.objectives.quality_metric
            if "quality_metric" not in self.objectives.model_fields_set:
                self.objectives = self.objectives.model_copy(
                    update={"quality_metric": "task_score"}
                )
            elif metric != "task_score":
                raise ValueError(
                    f"objectives.quality_metric '{metric}' is a classification metric; LLM runs "
                    "rank by task_score"
                )
        return self

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, targets: list[TargetSpec]) -> list[TargetSpec]:
        seen: set[str] = set()
        for target in targets:
            if target.name in seen:
                raise ValueError(f"target name '{target.name}' is used twice; names must be unique")
            seen.add(target.name)
        return targets

    @model_validator(mode="after")
    def _loopback_only(self) -> Spec:
        if self.load.allow_remote:
            return self
        for target in self.targets:
            url = getattr(target, "url", None)
            if url is not None and not is_loopback_url(url):
                raise ValueError(
                    f"target '{target.name}' is not on loopback ({url}); load phases are sent "
                    "only to 127.0.0.1, ::1 or localhost unless load.allow_remote is true"
                )
        return self

    @model_validator(mode="after")
    def _search_needs_a_limit(self) -> Spec:
        sla = self.objectives.sla
        limits = (sla.p95_ms, sla.p99_ms, sla.ttft_p95_ms, sla.itl_p95_ms, sla.max_error_rate)
        if self.load.search is not None and all(limit is None for limit in limits):
            raise ValueError(
                "load.search looks for the highest rate that meets the SLA, so objectives.sla "
                "needs a latency or error-rate limit (p95_ms, p99_ms, ttft_p95_ms, itl_p95_ms "
                "or max_error_rate)"
            )
        return self

    @model_validator(mode="after")
    def _one_workload(self) -> Spec:
        """The business case and the capacity plan must plan for the same traffic."""
        capacity, business = self.capacity, self.business
        if capacity is None or business is None or capacity.average_rps is None:
            return self
        seconds = capacity.hours_per_month * 3600
        implied = Decimal(repr(capacity.average_rps)) * seconds
        declared = business.monthly_requests
        if abs(declared - implied) > implied * Decimal("0.05"):
            raise ValueError(
                f"business.monthly_requests ({declared:,.0f}) and capacity.average_rps "
                f"({capacity.average_rps:g} req/s × {capacity.hours_per_month:g} h = "
                f"{implied:,.0f} a month) describe different workloads; declare one volume "
                "(within 5%) so that the business case and the capacity plan agree"
            )
        return self

    @model_validator(mode="after")
    def _one_currency(self) -> Spec:
        currencies = {t.name: t.pricing.currency for t in self.targets if t.pricing is not None}
        if len(set(currencies.values())) > 1:
            listed = ", ".join(f"{name}: {code}" for name, code in currencies.items())
            raise ValueError(
                f"targets are priced in different currencies ({listed}); costs are never "
                "converted or compared across currencies, so use one"
            )
        return self

    def check_files(self) -> None:
        """Fail before any request is sent when a file the spec names is missing."""
        if self.load.trace is not None and not self.load.trace.path.is_file():
            raise SpecError(f"file not found: {self.load.trace.path}", field="load.trace.path")
        for index, target in enumerate(self.targets):
            named = {
                "model_path": getattr(target, "model_path", None),
                "tokenizer": getattr(target, "tokenizer", None),
            }
            for field_name, file in named.items():
                if file is not None and not file.is_file():
                    raise SpecError(
                        f"file not found: {file}", field=f"targets[{index}].{field_name}"
                    )

    def fingerprint(self) -> str:
        """A short hash of the spec's content, secrets excluded, for comparing runs."""
        text = self.model_dump_json(exclude={"targets": {"__all__": {"headers", "api_key"}}})
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def spec_model() -> type[Spec]:
    """The model a spec file is validated with: :class:`Spec`, with ``targets`` open to every
    kind known now (built-in, from entry points, or added at run time)."""
    kinds = target_kinds()
    settings = tuple(kind.settings for kind in kinds.values())
    if settings == _BUILTIN_SETTINGS:
        return Spec
    return _open_spec(settings)


@functools.cache
def _open_spec(settings: tuple[type[TargetSettings], ...]) -> type[Spec]:
    # One tagged union over the kinds' own models, so an error names the kind's field
    # (targets[0].echo.reply) and an unknown kind lists those that are known.
    union: Any = Annotated[Union[settings], Field(discriminator="kind")]  # noqa: UP007
    field = (list[union], Field(min_length=1, description=_TARGETS_DESCRIPTION))
    model: type[Spec] = create_model("Spec", __base__=Spec, __module__=__name__, targets=field)
    return model


_BUILTIN_SETTINGS: tuple[type[TargetSettings], ...] = get_args(get_args(TargetSpec)[0])
