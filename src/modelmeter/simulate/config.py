"""What the simulated model does: its timing, output lengths, answers, capacity and failures."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DelayKind = Literal["fixed", "normal", "lognormal", "exponential"]


class Delay(BaseModel):
    """A delay drawn afresh for each request (TTFT) or token (ITL), in milliseconds.

    A bare number where a `Delay` is expected means a fixed delay of that many milliseconds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mean_ms: float = Field(ge=0.0, le=3_600_000.0, description="Mean delay in milliseconds.")
    kind: DelayKind = Field(
        default="fixed",
        description="Distribution: fixed (always the mean), normal (needs sd_ms; draws below 0 "
        "become 0), lognormal (needs sigma; mean kept at mean_ms) or exponential.",
    )
    sd_ms: float | None = Field(
        default=None, ge=0.0, description="Standard deviation in ms; only for kind 'normal'."
    )
    sigma: float | None = Field(
        default=None,
        gt=0.0,
        le=5.0,
        description="Standard deviation of the delay's logarithm; only for kind 'lognormal'.",
    )

    @model_validator(mode="after")
    def _parameters_fit_kind(self) -> Delay:
        if self.kind == "normal" and self.sd_ms is None:
            raise ValueError("kind 'normal' needs sd_ms (the standard deviation in ms)")
        if self.kind == "lognormal" and self.sigma is None:
            raise ValueError("kind 'lognormal' needs sigma (e.g. 0.5)")
        if self.sd_ms is not None and self.kind != "normal":
            raise ValueError(f"sd_ms applies to kind 'normal' only, not {self.kind!r}")
        if self.sigma is not None and self.kind != "lognormal":
            raise ValueError(f"sigma applies to kind 'lognormal' only, not {self.kind!r}")
        if self.kind in ("lognormal", "exponential") and self.mean_ms <= 0:
            raise ValueError(f"kind {self.kind!r} needs mean_ms above 0")
        return self

    def sample_ns(self, rng: random.Random) -> int:
        """One draw, in nanoseconds (never negative)."""
        if self.kind == "fixed":
            ms = self.mean_ms
        elif self.kind == "normal":
            assert self.sd_ms is not None
            ms = max(rng.gauss(self.mean_ms, self.sd_ms), 0.0)
        elif self.kind == "lognormal":
            assert self.sigma is not None
            mu = math.log(self.mean_ms) - self.sigma * self.sigma / 2  # so the mean is mean_ms
            ms = rng.lognormvariate(mu, self.sigma)
        else:
            ms = rng.expovariate(1.0 / self.mean_ms)
        return round(ms * 1_000_000)


def _delay_from_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"mean_ms": value}
    return value


class SimulatorConfig(BaseModel):
    """How the simulated OpenAI-compatible model behaves; every request draws from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        default="modelmeter-simulated",
        min_length=1,
        max_length=200,
        description="Model name listed by /v1/models and used when a request names none.",
    )
    ttft_ms: Delay = Field(
        default=Delay(mean_ms=50.0),
        description="Time to first token, from the moment a request gets a slot (queueing in "
        "front of a busy server comes on top).",
    )
    itl_ms: Delay = Field(
        default=Delay(mean_ms=10.0),
        description="Inter-token latency: the gap between one token and the next.",
    )
    output_tokens: int | tuple[int, int] = Field(
        default=64,
        description="Tokens per answer: a number, or [min, max] for a uniform draw per prompt. "
        "A request's max_tokens / max_completion_tokens caps it.",
    )
    tokens_per_chunk: int = Field(
        default=1,
        ge=1,
        le=4096,
        description="Tokens sent in each streamed chunk (some servers batch several).",
    )
    slots: int = Field(
        default=16,
        ge=1,
        le=100_000,
        description="Generations running at once; further requests wait in a FIFO queue.",
    )
    error_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of completion requests answered at once with an error status.",
    )
    error_statuses: tuple[int, ...] = Field(
        default=(500, 429),
        min_length=1,
        description="HTTP statuses injected errors use, drawn with equal chance.",
    )
    reasoning_tokens: int = Field(
        default=0,
        ge=0,
        description="Chat answers stream their first N tokens as delta.reasoning_content "
        "(they count as completion tokens, and as completion_tokens_details.reasoning_tokens).",
    )
    seed: int = Field(
        default=0,
        description="Seeds the token text (with the prompt) and the draws of delays and errors.",
    )
    busy_wait_us: int = Field(
        default=2000,
        ge=0,
        le=100_000,
        description="How long before a chunk is due the server stops sleeping and polls the "
        "clock: event-loop timers move in 1 ms steps, so polling makes sends punctual at the "
        "cost of CPU; 0 relies on timers alone.",
    )
    answers: Path | None = Field(
        default=None,
        description="An answer book (JSON Lines of {match or regex, answer, reasoning}): a "
        "prompt that a line matches gets exactly that answer, the first matching line winning "
        "(see modelmeter.simulate.answers). Other prompts get default_answer or pseudo-words.",
    )
    default_answer: str | None = Field(
        default=None,
        max_length=1_000_000,
        description="The answer to every prompt no answer book line matches; unset, those get "
        "output_tokens pseudo-words (and reasoning_tokens).",
    )
    bucket_ms: tuple[float, ...] = Field(
        default=(),
        description="Latency thresholds (an SLA's) added to the boundaries of the /metrics "
        "histograms, so that a quantile read there is exact.",
    )
    timings_capacity: int = Field(
        default=10_000,
        ge=0,
        description="Requests whose timings /debug/timings keeps (the oldest are dropped); the "
        "timings log file, when given, keeps all.",
    )

    _delays = field_validator("ttft_ms", "itl_ms", mode="before")(_delay_from_number)

    @field_validator("bucket_ms")
    @classmethod
    def _positive_thresholds(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        for value in values:
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{value:g} is not a latency threshold: give milliseconds above 0")
        return values

    @field_validator("output_tokens")
    @classmethod
    def _output_tokens_positive(cls, value: int | tuple[int, int]) -> int | tuple[int, int]:
        low, high = (value, value) if isinstance(value, int) else value
        if low < 1:
            raise ValueError(f"output tokens must be at least 1, got {low}")
        if high < low:
            raise ValueError(f"the range [{low}, {high}] is empty: min must not exceed max")
        if high > 1_000_000:
            raise ValueError(f"at most 1000000 output tokens, got {high}")
        return value

    @field_validator("error_statuses")
    @classmethod
    def _error_statuses_are_errors(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for status in value:
            if not 400 <= status <= 599:
                raise ValueError(f"error statuses must lie in 400..599, got {status}")
        return value

    def output_range(self) -> tuple[int, int]:
        """``output_tokens`` as (min, max)."""
        if isinstance(self.output_tokens, int):
            return self.output_tokens, self.output_tokens
        return self.output_tokens
