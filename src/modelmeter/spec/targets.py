"""The ``targets:`` section: the models to measure, one settings model per kind.

A kind is a name (``oip``, ``http``, ``python``, ``openai``, or one a plugin adds), the pydantic
model its settings are validated with (a subclass of :class:`TargetSettings` with
``kind: Literal["<name>"]``), and the factory that builds the target from them. The built-in
kinds are declared here by name, their factories imported only when a target of that kind is
built; third parties add kinds through the ``modelmeter.targets`` entry-point group (see
docs/spec.md, "Target plugins"), or :func:`modelmeter.register_target` at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    Field,
    SecretStr,
    model_validator,
)

from modelmeter.spec._base import HttpUrlText, SpecModel
from modelmeter.spec.pricing import Pricing

__all__ = [
    "ENTRY_POINT_GROUP",
    "HttpTargetSpec",
    "OipTargetSpec",
    "OpenAITargetSpec",
    "PythonTargetSpec",
    "TargetKind",
    "TargetSettings",
    "TargetSpec",
    "add_target_kind",
    "broken_plugins",
    "target_kinds",
]


class TargetSettings(SpecModel):
    """What every target has, whatever its kind; a kind's settings model subclasses this."""

    kind: str = Field(description="Which kind of target: oip, http, python, openai, or a plugin's.")
    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="Name shown in the report; letters, digits, '_', '.', '-'.",
    )
    description: str = Field(default="", description="One line on what this target is.")
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="Per-request timeout.")
    max_response_bytes: int = Field(
        default=16 << 20,
        ge=1024,
        le=1 << 30,
        description="An answer with a longer body counts as a protocol error (HTTP targets).",
    )
    pricing: Pricing | None = Field(default=None, description="How this target is paid for.")


class OipTargetSpec(TargetSettings):
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


class HttpTargetSpec(TargetSettings):
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


class PythonTargetSpec(TargetSettings):
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


class OpenAITargetSpec(TargetSettings):
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


# The built-in kinds as a closed union: what ``Spec`` validates with when no plugin adds a kind,
# and what type checkers see.
TargetSpec = Annotated[
    OipTargetSpec | HttpTargetSpec | PythonTargetSpec | OpenAITargetSpec,
    Field(discriminator="kind"),
]

ENTRY_POINT_GROUP = "modelmeter.targets"


@dataclass(frozen=True)
class TargetKind:
    """One kind of target: its name, its settings model and the factory that builds it.

    ``factory`` takes the validated settings and returns a target (an object with ``name``,
    ``kind``, ``start``, ``predict`` and ``close``, see :class:`modelmeter.Target`); it may be
    given as ``"package.module:function"``, imported on first use, so that a kind's SDK is
    only imported when a spec uses it. ``install_hint`` is shown when that import fails.
    """

    name: str
    settings: type[TargetSettings]
    factory: Callable[[Any], Any] | str
    install_hint: str | None = None

    def __post_init__(self) -> None:
        declared = self.settings.model_fields.get("kind")
        allowed = get_args(declared.annotation) if declared is not None else ()
        if allowed != (self.name,):
            raise TypeError(
                f"the settings model of target kind '{self.name}' must declare "
                f"kind: Literal['{self.name}'], got {self.settings.__name__}"
            )


_BUILTIN: dict[str, TargetKind] = {
    kind.name: kind
    for kind in (
        TargetKind("oip", OipTargetSpec, "modelmeter.targets.oip:from_spec"),
        TargetKind("http", HttpTargetSpec, "modelmeter.targets.http_json:from_spec"),
        TargetKind(
            "python",
            PythonTargetSpec,
            "modelmeter.targets.python_local:from_spec",
        ),
        TargetKind("openai", OpenAITargetSpec, "modelmeter.targets.openai:from_spec"),
    )
}
_ADDED: dict[str, TargetKind] = {}
# Entry points that failed to load, and why: said when a spec names their kind.
_BROKEN: dict[str, str] = {}
_plugins_loaded = False


def add_target_kind(kind: TargetKind) -> None:
    """Make ``kind`` known, replacing any kind of the same name (a built-in one included)."""
    _ADDED[kind.name] = kind


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in _ADDED:
            continue
        try:
            found = entry.load()
        except Exception as exc:  # a broken plugin must not stop specs that do not use it
            _BROKEN[entry.name] = f"{entry.value}: {type(exc).__name__}: {exc}"
            continue
        if not isinstance(found, TargetKind) or found.name != entry.name:
            _BROKEN[entry.name] = (
                f"{entry.value} is not a modelmeter.spec.TargetKind named '{entry.name}'"
            )
            continue
        _ADDED[entry.name] = found


def target_kinds() -> dict[str, TargetKind]:
    """Every known kind by name: built-in, from entry points, and added at run time."""
    _load_plugins()
    return {**_BUILTIN, **_ADDED}


def broken_plugins() -> dict[str, str]:
    """Entry points of the ``modelmeter.targets`` group that could not be loaded, and why."""
    _load_plugins()
    return dict(_BROKEN)
