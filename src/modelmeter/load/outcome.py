"""What the load engine produces: one Outcome per request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from modelmeter._exceptions import ErrorKind


@dataclass(slots=True)
class Outcome:
    """The fate of one request.

    Timestamps are ``time.monotonic_ns()`` values. ``intended_at`` is when the schedule meant to
    send the request, ``sent_at`` when it was actually handed to the target, ``done_at`` when the
    whole answer had arrived (or the failure was known).

    * response time = ``done_at - intended_at`` (what a user feels; free of coordinated omission)
    * service time  = ``done_at - sent_at``
    * schedule lag  = ``sent_at - intended_at`` (how far the client fell behind its schedule)
    """

    sample_id: str
    target: str
    intended_at: int
    sent_at: int
    done_at: int
    prediction: str | None = None
    error: ErrorKind | None = None
    error_detail: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    token_source: str | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    first_byte_at: int | None = None
    first_token_at: int | None = None
    first_reasoning_at: int | None = None
    token_gaps_ns: tuple[int, ...] = ()
    warmup: bool = False
    cooldown: bool = False

    @property
    def measured(self) -> bool:
        """Intended inside the measured window (neither warm-up nor cool-down)."""
        return not (self.warmup or self.cooldown)

    @property
    def ttft_ns(self) -> int | None:
        """Time to first output token, from the actual send."""
        return None if self.first_token_at is None else self.first_token_at - self.sent_at

    @property
    def tpot_ns(self) -> float | None:
        """(done_at − first_token_at) / (output_tokens − 1): mean time per output token."""
        if self.first_token_at is None or self.output_tokens is None or self.output_tokens < 2:
            return None
        return (self.done_at - self.first_token_at) / (self.output_tokens - 1)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def response_time_ns(self) -> int:
        return self.done_at - self.intended_at

    @property
    def service_time_ns(self) -> int:
        return self.done_at - self.sent_at

    @property
    def schedule_lag_ns(self) -> int:
        return self.sent_at - self.intended_at


class OutcomeSink(Protocol):
    """Where the engine puts outcomes as they arrive: a list, or a recorder that spills to disk."""

    def append(self, outcome: Outcome, /) -> None: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Outcome]: ...
