"""The ``load:`` section: how latency and throughput are measured."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from modelmeter.spec._base import SpecModel

__all__ = [
    "LoadSpec",
    "SearchSpec",
    "StageSpec",
    "SweepSpec",
    "TraceSpec",
]


class StageSpec(SpecModel):
    """One stage of a stepped arrival rate."""

    duration_s: float = Field(gt=0, le=3600, description="How long the stage lasts.")
    rate_rps: float = Field(ge=0, le=100_000, description="Arrivals per second; 0 is a pause.")


class TraceSpec(SpecModel):
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


class SweepSpec(SpecModel):
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


class SearchSpec(SpecModel):
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


class LoadSpec(SpecModel):
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
