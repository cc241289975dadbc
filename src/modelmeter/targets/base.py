"""The Target protocol: what the load engine calls, whatever is behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from modelmeter.data.sample import Sample

TokenSource = Literal["usage", "tokenizer", "chunks"]


@dataclass(frozen=True, slots=True)
class Prediction:
    """A target's answer to one sample.

    ``label`` is the answer (a class label, or an LLM's text). Token counts only when known, with
    ``token_source`` saying where the output count came from. Targets that time the wire
    themselves fill the timestamps (``time.monotonic_ns()``); the engine uses them in place of
    its own, which are taken around the call and so include the target's own overhead.

    * ``sent_at``: the request's bytes were handed to the socket
    * ``first_byte_at``: the first bytes of the answer arrived
    * ``first_token_at``: the first chunk carrying output content (not the role, not reasoning)
    * ``first_reasoning_at``: the first chunk carrying reasoning content, for models that think
    * ``done_at``: the answer was complete
    * ``reasoning_tokens``, ``cached_input_tokens``: from the server's usage, for pricing;
      ``output_tokens`` counts the visible answer only, reasoning is billed on top
    * ``token_gaps_ns``: one inter-token latency per output token after the first: the gap
      between content chunks divided evenly among the tokens the later chunk carried
    """

    label: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    token_source: TokenSource | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    sent_at: int | None = None
    first_byte_at: int | None = None
    first_token_at: int | None = None
    first_reasoning_at: int | None = None
    done_at: int | None = None
    token_gaps_ns: tuple[int, ...] = ()


@runtime_checkable
class Target(Protocol):
    """One model to measure.

    ``start`` opens connections and checks the target is ready; ``predict`` sends one sample and
    returns its answer or raises a ``TargetError`` subclass (timeout, connect, protocol, HTTP
    status); ``close`` releases everything. The load engine owns the timing: targets only answer.
    """

    name: str
    kind: str

    async def start(self) -> None: ...

    async def predict(self, sample: Sample) -> Prediction: ...

    async def close(self) -> None: ...
