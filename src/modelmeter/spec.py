"""The YAML spec: what to measure (targets, dataset, task), how (load) and what matters.

Every field is described; the descriptions feed the docs. ``load_spec`` turns any problem into one
``SpecError`` that names the file, the field path and, where it can, the line.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from modelmeter._exceptions import SpecError
from modelmeter._net import is_loopback_url
from modelmeter.decide.objectives import Objectives
from modelmeter.economics.pricing import Pricing
from modelmeter.economics.settings import EconomicsSpec
from modelmeter.plan import BusinessSpec, CapacitySpec


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8000"
        )
    return value


HttpUrlText = Annotated[str, AfterValidator(_check_http_url)]


class DatasetSpec(_Spec):
    path: Path = Field(
        description="JSONL or CSV file; a relative path is read from the spec's folder."
    )
    format: Literal["auto", "jsonl", "csv", "mmlu", "humaneval", "mbpp"] = Field(
        default="auto",
        description="File format; 'auto' decides by the file extension. LLM tasks: 'mmlu' "
        "(CSV per subject, a folder of them, or the JSONL layout), 'humaneval', 'mbpp'.",
    )
    input_field: str = Field(default="text", description="Column holding what is sent to a target.")
    label_field: str | None = Field(
        default="label", description="Column holding the expected answer (null: unlabelled)."
    )
    id_field: str | None = Field(
        default="id",
        description="Column holding a stable item id; rows without one are named row-N "
        "after their line in the file.",
    )
    slice_fields: list[str] = Field(
        default_factory=list,
        description="Columns to break quality down by, e.g. [language, customer_group].",
    )
    limit: int | None = Field(default=None, ge=1, description="Use only the first N rows.")


class _TargetBase(_Spec):
    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="Name shown in the report; letters, digits, '_', '.', '-'.",
    )
    description: str = Field(default="", description="One line on what this target is.")
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="Per-request timeout.")
    pricing: Pricing | None = Field(default=None, description="How this target is paid for.")


class OipTargetSpec(_TargetBase):
    """A model behind the Open Inference Protocol v2 (KServe, Triton, MLServer, ...)."""

    kind: Literal["oip"]
    url: HttpUrlText = Field(description="Base URL of the server, e.g. http://127.0.0.1:8000.")
    model: str = Field(min_length=1, description="Model name on the server.")
    version: str | None = Field(
        default=None, description="Model version, if the server has several."
    )
    input_name: str = Field(default="text", description="Name of the BYTES input tensor.")
    output_name: str | None = Field(
        default=None, description="Output tensor holding the label; the first output when absent."
    )


class HttpTargetSpec(_TargetBase):
    """Any JSON HTTP API: a request body template and a path to the answer in the response."""

    kind: Literal["http"]
    url: HttpUrlText = Field(description="Full URL requests are sent to.")
    method: Literal["POST", "PUT"] = Field(default="POST", description="HTTP method.")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Request headers; ${VAR} is replaced from the environment. Never reported.",
    )
    body: Any = Field(
        default_factory=lambda: {"input": "{{input}}"},
        description="JSON body; every string '{{input}}' is replaced by the sample's input.",
    )
    response_path: str = Field(
        default="prediction",
        description="Dotted path to the answer in the JSON response, e.g. 'choices.0.text'.",
    )
    input_tokens_path: str | None = Field(
        default=None, description="Dotted path to the input token count, for token pricing."
    )
    output_tokens_path: str | None = Field(
        default=None, description="Dotted path to the output token count, for token pricing."
    )


class PythonTargetSpec(_TargetBase):
    """A model run in this process: a scikit-learn or ONNX artefact, or a Python function."""

    kind: Literal["python"]
    model_path: Path | None = Field(
        default=None,
        description="A .joblib/.pkl scikit-learn model or a .onnx file (relative: spec's folder).",
    )
    function: str | None = Field(
        default=None,
        description="'package.module:function' taking the input text and returning the label.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PythonTargetSpec:
        if (self.model_path is None) == (self.function is None):
            raise ValueError("give exactly one of 'model_path' or 'function'")
        if self.function is not None and not re.fullmatch(
            r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", self.function
        ):
            raise ValueError("'function' must look like 'package.module:function'")
        return self


class OpenAITargetSpec(_TargetBase):
    """An OpenAI-compatible server: vLLM, llama.cpp, Ollama, TGI, OpenRouter, ``simulate``."""

    kind: Literal["openai"]
    url: HttpUrlText = Field(
        description="Base URL up to and including /v1, e.g. http://127.0.0.1:8000/v1."
    )
    model: str = Field(min_length=1, description="Model name sent in each request.")
    endpoint: Literal["chat", "completions"] = Field(
        default="chat", description="'chat': /chat/completions; 'completions': /completions."
    )
    stream: bool = Field(
        default=True, description="Stream the answer (needed for TTFT and inter-token latency)."
    )
    max_tokens: int | None = Field(
        default=256, ge=1, description="Cap on output tokens per answer; null: the server's."
    )
    temperature: float | None = Field(
        default=0.0, ge=0, le=2, description="Sampling temperature; null: the server's default."
    )
    system_prompt: str | None = Field(default=None, description="Optional system message.")
    prompt_template: str = Field(
        default="{{input}}", description="The user message; '{{input}}' is the sample's input."
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="Bearer token, usually '${SOME_API_KEY}' from the environment. Never reported.",
    )
    api_key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the key, written into exported "
        "router configs; set from api_key when that is '${NAME}'.",
    )
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="Extra request headers; ${VAR} from the environment."
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="Fields added to every request body (e.g. top_p)."
    )
    tokenizer: Path | None = Field(
        default=None,
        description="A tokenizer.json to count output tokens when the server reports no usage "
        "(needs the 'llm' extra). Never downloaded.",
    )
    timeout_s: float = Field(default=120.0, gt=0, le=3600, description="Per-request timeout.")


TargetSpec = Annotated[
    OipTargetSpec | HttpTargetSpec | PythonTargetSpec | OpenAITargetSpec,
    Field(discriminator="kind"),
]


class StageSpec(_Spec):
    """One stage of a stepped arrival rate."""

    duration_s: float = Field(gt=0, le=3600, description="How long the stage lasts.")
    rate_rps: float = Field(ge=0, le=100_000, description="Arrivals per second; 0 is a pause.")


class TraceSpec(_Spec):
    """A recorded log of request times, replayed as the arrival schedule."""

    path: Path = Field(description="JSONL or CSV file; relative paths from the spec's folder.")
    field: str = Field(default="timestamp", description="Column holding each request's time.")
    format: Literal["auto", "jsonl", "csv"] = Field(
        default="auto", description="File format; 'auto' decides by the extension."
    )
    unit: Literal["auto", "s", "ms", "us", "ns"] = Field(
        default="auto",
        description="Unit of numeric timestamps; 'auto' guesses from their size (ISO 8601 "
        "text is always understood).",
    )
    speedup: float = Field(
        default=1.0, gt=0, le=1000, description="Replay this many times faster than recorded."
    )


class SweepSpec(_Spec):
    """Measure at growing load levels until the target saturates: a throughput-latency curve."""

    mode: Literal["concurrency", "rate"] = Field(
        default="concurrency", description="Vary requests in flight, or Poisson arrivals/s."
    )
    start: float = Field(default=1, gt=0, description="First load level.")
    stop: float = Field(default=64, gt=0, description="Last load level.")
    factor: float = Field(default=2.0, gt=1, le=10, description="Each level is this × the last.")
    max_error_rate: float = Field(
        default=0.05, ge=0, le=1, description="Stop once a level's error rate passes this."
    )
    min_throughput_gain: float = Field(
        default=0.05,
        ge=0,
        description="Saturation: throughput grew less than this share over the last level...",
    )
    min_latency_growth: float = Field(
        default=0.5, ge=0, description="...while P95 grew by more than this share."
    )

    @model_validator(mode="after")
    def _ordered(self) -> SweepSpec:
        if self.stop < self.start:
            raise ValueError("stop must be at least start")
        return self


class SearchSpec(_Spec):
    """Find the highest arrival rate whose latency and errors still meet the SLA."""

    low_rps: float = Field(default=10, gt=0, description="Rate to start from.")
    high_rps: float = Field(
        default=10_000, gt=0, le=100_000, description="Highest rate the search may try."
    )
    tolerance: float = Field(
        default=0.05, gt=0, le=0.5, description="Stop when the bracket is this narrow (share)."
    )
    max_steps: int = Field(default=20, ge=2, le=100, description="Most load levels to measure.")
    growth: float = Field(default=2.0, gt=1, le=10, description="Rate factor while bracketing.")
    noise_margin: float = Field(
        default=0.05,
        ge=0,
        le=0.5,
        description="A level this close to a limit is measured twice and must pass both times.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SearchSpec:
        if self.high_rps < self.low_rps:
            raise ValueError("high_rps must be at least low_rps")
        return self


class LoadSpec(_Spec):
    """The load phase that measures latency and throughput, after a quality pass."""

    mode: Literal["concurrency", "constant", "poisson", "gamma", "trace"] = Field(
        default="concurrency",
        description="'concurrency': closed loop, N requests always in flight; 'constant', "
        "'poisson' or 'gamma' (bursty): open loop at rate_rps arrivals per second; 'trace': "
        "replay recorded request times.",
    )
    concurrency: int = Field(
        default=8, ge=1, le=4096, description="Closed loop: requests in flight."
    )
    rate_rps: float | None = Field(
        default=None, gt=0, le=100_000, description="Open loop: arrivals per second."
    )
    duration_s: float = Field(
        default=10.0, gt=0, le=3600, description="Measured window, after the warm-up."
    )
    warmup_s: float = Field(
        default=1.0, ge=0, le=600, description="Sent but excluded from statistics."
    )
    cooldown_s: float = Field(
        default=0.0, ge=0, le=600, description="Sent at the end but excluded from statistics."
    )
    ramp_up_s: float = Field(
        default=0.0,
        ge=0,
        le=600,
        description="Closed loop: start the concurrent workers one after another over this "
        "time, so they do not stay in lock-step (one process only).",
    )
    rate_end_rps: float | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="Ramp: the rate moves linearly from rate_rps to this over the phase.",
    )
    steps: list[StageSpec] | None = Field(
        default=None,
        description="Stepped rate: stages played in order; they set the phase's length.",
    )
    burstiness: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="Mode 'gamma': shape k; gaps vary with CV 1/√k (1 = Poisson, <1 bursty).",
    )
    trace: TraceSpec | None = Field(default=None, description="Mode 'trace': the log to replay.")
    sweep: SweepSpec | None = Field(
        default=None, description="Measure a series of load levels instead of one."
    )
    search: SearchSpec | None = Field(
        default=None, description="Search for the highest rate within the SLA instead."
    )
    max_requests: int | None = Field(
        default=None, ge=1, description="Stop after this many requests (warm-up included)."
    )
    processes: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Load-generator processes, one event loop each, pinned to separate cores; "
        "the schedule is dealt among them and their results merged exactly.",
    )
    max_in_flight: int = Field(
        default=1024,
        ge=1,
        le=65536,
        description="Open loop: cap on outstanding requests; later arrivals wait and their wait "
        "counts in response time.",
    )
    allow_remote: bool = Field(
        default=False,
        description="oip and http targets must be on loopback (127.0.0.0/8, ::1, localhost) "
        "unless this is true.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> LoadSpec:
        open_loop = self.mode in ("constant", "poisson", "gamma")
        if self.steps:
            if not open_loop:
                raise ValueError(f"steps apply to open-loop modes, not '{self.mode}'")
            if self.rate_rps is not None or self.rate_end_rps is not None:
                raise ValueError("give either steps or rate_rps (with rate_end_rps), not both")
            length = sum(stage.duration_s for stage in self.steps)
            measured = length - self.warmup_s - self.cooldown_s
            if measured <= 0:
                raise ValueError("the steps must last longer than warmup_s + cooldown_s")
            if "duration_s" in self.model_fields_set and abs(self.duration_s - measured) > 1e-6:
                raise ValueError(
                    f"the steps last {length:g} s, so duration_s must be {measured:g} (or left out)"
                )
            self.duration_s = measured
        elif open_loop and self.rate_rps is None and self.search is None and self.sweep is None:
            raise ValueError(f"mode '{self.mode}' needs rate_rps (arrivals per second)")
        if self.rate_end_rps is not None and self.rate_rps is None:
            raise ValueError("rate_end_rps needs rate_rps, the rate the ramp starts from")
        if (self.mode == "trace") != (self.trace is not None):
            raise ValueError("mode 'trace' and a trace go together")
        if self.ramp_up_s and self.processes > 1:
            raise ValueError("ramp_up_s applies to one load process; set processes to 1")
        if self.sweep is not None and self.search is not None:
            raise ValueError("give either sweep or search, not both")
        return self


class SandboxSpec(_Spec):
    """Limits for running generated code (code tasks); see docs/sandbox.md."""

    cpu_s: int = Field(default=10, ge=1, le=600, description="CPU seconds per program.")
    memory_mb: int = Field(default=1024, ge=64, le=65536, description="Address space per program.")
    file_size_mb: int = Field(default=16, ge=1, le=4096, description="Largest file it may write.")
    max_processes: int = Field(
        default=64, ge=1, le=4096, description="Processes and threads it may have."
    )
    timeout_s: float = Field(default=15.0, gt=0, le=3600, description="Wall-clock limit.")
    workers: int = Field(default=2, ge=1, le=256, description="Programs run at the same time.")
    allow_unsafe: bool = Field(
        default=False,
        description="Run generated code even where this OS cannot isolate it (no network or "
        "file-system isolation: only limits and a temporary folder). Off: such runs refuse.",
    )


class JudgeSpec(_Spec):
    """A model that grades answers against a rubric (tasks with scoring 'judge')."""

    target: OpenAITargetSpec = Field(
        description="The judge: an OpenAI-compatible target; its cost is reported apart."
    )
    rubric: str = Field(
        default="Is the answer correct, complete and clearly stated?",
        min_length=1,
        description="What the judge grades the answer on.",
    )
    scale_min: int = Field(default=1, description="Lowest grade.")
    scale_max: int = Field(default=5, description="Highest grade.")
    pass_threshold: float = Field(
        default=0.75,
        ge=0,
        le=1,
        description="Share of the scale (0–1) from which an answer counts as correct.",
    )

    @model_validator(mode="after")
    def _scale(self) -> JudgeSpec:
        if self.scale_max <= self.scale_min:
            raise ValueError("scale_max must be above scale_min")
        return self


class LlmTaskSpec(_Spec):
    """One LLM evaluation set: multiple choice, generation or code, from a local file."""

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="Name shown in the report, e.g. mmlu, humaneval.",
    )
    kind: Literal["multiple_choice", "generation", "code"] = Field(
        description="'multiple_choice': the answer letter is read and compared; 'generation': "
        "the answer is scored against a reference; 'code': the code is run against tests."
    )
    route: Literal["default", "think", "background", "longContext"] | None = Field(
        default=None,
        description="Routing: the request kind this task stands for (code and multiple_choice "
        "default to 'think', generation to 'default').",
    )
    dataset: DatasetSpec = Field(
        description="The items; format 'mmlu' (CSV per subject, or a folder of them, or the "
        "JSONL layout), 'humaneval', 'mbpp', or jsonl/csv for generation."
    )
    scoring: Literal["exact_match", "token_f1", "regex", "judge"] = Field(
        default="exact_match", description="Generation: how an answer is scored."
    )
    pattern: str | None = Field(
        default=None, description="Scoring 'regex': the pattern an answer must match."
    )
    f1_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Scoring 'token_f1': F1 from which it is correct."
    )
    samples_per_item: int = Field(
        default=1, ge=1, le=200, description="Code: answers drawn per problem (n of pass@k)."
    )
    pass_k: list[int] = Field(
        default_factory=lambda: [1], description="Code: the k of pass@k to report (k ≤ n)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> LlmTaskSpec:
        if self.scoring == "regex" and self.kind == "generation" and not self.pattern:
            raise ValueError("scoring 'regex' needs a pattern")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        for k in self.pass_k:
            if k < 1 or k > self.samples_per_item:
                raise ValueError(
                    f"pass_k {k} needs 1 ≤ k ≤ samples_per_item ({self.samples_per_item})"
                )
        return self

    @property
    def route_kind(self) -> str:
        if self.route is not None:
            return self.route
        return "default" if self.kind == "generation" else "think"


class EvaluationSpec(_Spec):
    """The quality pass: every dataset item once, at this concurrency."""

    concurrency: int = Field(default=8, ge=1, le=1024, description="Requests in flight.")
    bootstrap_resamples: int = Field(
        default=1000, ge=100, le=100_000, description="Resamples for 95% intervals."
    )
    cache: bool = Field(
        default=False,
        description="Reuse answers stored by earlier runs for the same target settings and "
        "prompt instead of sending them again (quality passes only; never in latency figures).",
    )
    sandbox: SandboxSpec = Field(
        default_factory=SandboxSpec, description="Limits for running generated code."
    )
    judge: JudgeSpec | None = Field(default=None, description="The judge for tasks scored 'judge'.")


RouterFormat = Literal["claude-code-router", "litellm"]
ROUTER_FORMATS: tuple[RouterFormat, ...] = ("claude-code-router", "litellm")


class RoutingSpec(_Spec):
    """Router configurations written from the run's decision."""

    export: list[RouterFormat] = Field(
        default_factory=lambda: list(ROUTER_FORMATS),
        description="Which files to write next to the report.",
    )
    long_context_threshold: int = Field(
        default=60_000, ge=1, description="Prompt tokens from which a request is long-context."
    )


class Spec(_Spec):
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
    targets: list[TargetSpec] = Field(min_length=1, description="The models to compare.")
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


_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(value: Any, where: str, path: Path) -> Any:
    """Replace ${VAR} in header values; a missing variable is a spec error, never an empty key."""
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise SpecError(f"environment variable {name} is not set", path=path, field=where)
            return os.environ[name]

        return _ENV_VAR.sub(lookup, value)
    return value


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if part < len(node.value) else None
        else:
            found = None
        if found is None:
            break
        node = found
        line = node.start_mark.line + 1
    return line


def parse_spec(data: Any, *, path: Path, root: yaml.Node | None = None) -> Spec:
    if not isinstance(data, dict):
        raise SpecError(
            "the spec must be a YAML mapping (name:, dataset:, targets:, ...)", path=path
        )
    for index, target in enumerate(data.get("targets") or []):
        if not isinstance(target, dict):
            continue
        if isinstance(target.get("headers"), dict):
            target["headers"] = {
                key: _expand_env(value, f"targets[{index}].headers.{key}", path)
                for key, value in target["headers"].items()
            }
        if "api_key" in target:
            named = _ENV_VAR.fullmatch(str(target["api_key"]).strip())
            if named and "api_key_env" not in target:
                target["api_key_env"] = named.group(1)
            target["api_key"] = _expand_env(target["api_key"], f"targets[{index}].api_key", path)
    evaluation = data.get("evaluation")
    judge = evaluation.get("judge") if isinstance(evaluation, dict) else None
    judge_target = judge.get("target") if isinstance(judge, dict) else None
    if isinstance(judge_target, dict):
        if "api_key" in judge_target:
            judge_target["api_key"] = _expand_env(
                judge_target["api_key"], "evaluation.judge.target.api_key", path
            )
        if isinstance(judge_target.get("headers"), dict):
            judge_target["headers"] = {
                key: _expand_env(value, f"evaluation.judge.target.headers.{key}", path)
                for key, value in judge_target["headers"].items()
            }
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False, include_input=False):
            # Discriminated unions add the tag ('oip', ...) to the path: keep it, it helps.
            loc = tuple(error["loc"])
            line = _line_of(root, tuple(p for p in loc if not _is_tag(p)))
            where = f"line {line}, " if line else ""
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"  {where}{_format_loc(loc) or '(spec)'}: {message}")
        raise SpecError("invalid spec\n" + "\n".join(lines), path=path) from None
    base = path.parent
    datasets = [spec.dataset] if spec.dataset is not None else []
    datasets += [task.dataset for task in spec.tasks]
    for dataset in datasets:
        if not dataset.path.is_absolute():
            dataset.path = (base / dataset.path).resolve()
    catalogue = spec.economics.catalogue
    if isinstance(catalogue, Path) and not catalogue.is_absolute():
        spec.economics.catalogue = (base / catalogue).resolve()
    trace = spec.load.trace
    if trace is not None and not trace.path.is_absolute():
        trace.path = (base / trace.path).resolve()
    for target in spec.targets:
        if (
            isinstance(target, PythonTargetSpec)
            and target.model_path is not None
            and not target.model_path.is_absolute()
        ):
            target.model_path = (base / target.model_path).resolve()
        if (
            isinstance(target, OpenAITargetSpec)
            and target.tokenizer is not None
            and not target.tokenizer.is_absolute()
        ):
            target.tokenizer = (base / target.tokenizer).resolve()
    return spec


def _is_tag(part: int | str) -> bool:
    return part in ("oip", "http", "python", "openai", "instance", "api")


def load_spec(path: Path) -> Spec:
    """Read and validate a spec file; every problem becomes a ``SpecError`` naming the place."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the file: {exc}", path=path) from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{where}not valid YAML: {problem}", path=path) from None
    return parse_spec(data, path=path, root=root)
