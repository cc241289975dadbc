"""The Target protocol: what the load engine calls, whatever is behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from modelmeter.data.sample import Sample


@dataclass(frozen=True, slots=True)
class Prediction:
    """A target's answer to one sample; token counts only when the target reports them."""

    label: str
    input_tokens: int | None = None
    output_tokens: int | None = None


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
