"""The ``routing:`` section: which router configurations to write from the decision."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from modelmeter.spec._base import SpecModel

__all__ = [
    "ROUTER_FORMATS",
    "RouterFormat",
    "RoutingSpec",
]


RouterFormat = Literal["claude-code-router", "litellm"]


ROUTER_FORMATS: tuple[RouterFormat, ...] = ("claude-code-router", "litellm")


class RoutingSpec(SpecModel):
    """Router configurations written from the run's decision."""

    export: list[RouterFormat] = Field(
        default_factory=lambda: list(ROUTER_FORMATS),
        description="Which files to write next to the report.",
    )
    long_context_threshold: int = Field(
        default=60_000, ge=1, description="Prompt tokens from which a request is long-context."
    )
