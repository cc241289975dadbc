"""The ``evaluation:`` and ``tasks:`` sections: the quality pass, LLM tasks, judge, sandbox."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from modelmeter.spec._base import SpecModel
from modelmeter.spec.dataset import DatasetSpec
from modelmeter.spec.targets import OpenAITargetSpec

__all__ = [
    "EvaluationSpec",
    "JudgeSpec",
    "LlmTaskSpec",
    "SandboxSpec",
]


class SandboxSpec(SpecModel):
    """Limits for running generated code (code tasks); see docs/sandbox.md."""

    cpu_s: int = Field(default=10, ge=1, le=600, description="CPU seconds per program.")
    memory_mb: int = Field(
        default=1024,
        ge=64,
        le=65536,
        description="Memory of the whole program (all its processes and shared memory) where "
        "a cgroup can be made, and address space of each process.",
    )
    file_size_mb: int = Field(default=16, ge=1, le=4096, description="Largest file it may write.")
    max_processes: int = Field(
        default=64, ge=1, le=4096, description="Processes and threads it may have."
    )
    max_open_files: int = Field(
        default=256, ge=16, le=65536, description="Files each process may have open."
    )
    max_files: int = Field(
        default=10_000,
        ge=16,
        le=1_000_000,
        description="Files it may create in its directory (and in its /dev/shm).",
    )
    timeout_s: float = Field(default=15.0, gt=0, le=3600, description="Wall-clock limit.")
    workers: int = Field(default=2, ge=1, le=256, description="Programs run at the same time.")
    allow_unsafe: bool = Field(
        default=False,
        description="Run generated code even where this OS cannot isolate it (no network or "
        "file-system isolation: only limits and a temporary folder). Off: such runs refuse.",
    )


class JudgeSpec(SpecModel):
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


class LlmTaskSpec(SpecModel):
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


class EvaluationSpec(SpecModel):
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
