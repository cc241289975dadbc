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
    format: Literal["auto", "jsonl", "csv"] = Field(
        default="auto", description="File format; 'auto' decides by the file extension."
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


TargetSpec = Annotated[
    OipTargetSpec | HttpTargetSpec | PythonTargetSpec, Field(discriminator="kind")
]


class LoadSpec(_Spec):
    """The load phase that measures latency and throughput, after a quality pass."""

    mode: Literal["concurrency", "constant", "poisson"] = Field(
        default="concurrency",
        description="'concurrency': closed loop, N requests always in flight; 'constant' or "
        "'poisson': open loop at rate_rps arrivals per second.",
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
    max_requests: int | None = Field(
        default=None, ge=1, description="Stop after this many requests (warm-up included)."
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
    def _rate_for_open_loop(self) -> LoadSpec:
        if self.mode != "concurrency" and self.rate_rps is None:
            raise ValueError(f"mode '{self.mode}' needs rate_rps (arrivals per second)")
        return self


class EvaluationSpec(_Spec):
    """The quality pass: every dataset item once, at this concurrency."""

    concurrency: int = Field(default=8, ge=1, le=1024, description="Requests in flight.")
    bootstrap_resamples: int = Field(
        default=1000, ge=100, le=100_000, description="Resamples for 95% intervals."
    )


class Spec(_Spec):
    name: str = Field(min_length=1, description="Name of the study, shown in the report.")
    description: str = Field(default="", description="Free text about the study.")
    seed: int = Field(default=0, description="Seed for arrivals and bootstrap resampling.")
    task: Literal["classification"] = Field(
        default="classification", description="What the targets do."
    )
    dataset: DatasetSpec
    targets: list[TargetSpec] = Field(min_length=1, description="The models to compare.")
    load: LoadSpec = Field(default_factory=LoadSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    objectives: Objectives = Field(default_factory=Objectives)

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
        for index, target in enumerate(self.targets):
            model_path = target.model_path if isinstance(target, PythonTargetSpec) else None
            if model_path is not None and not model_path.is_file():
                raise SpecError(
                    f"model file not found: {model_path}", field=f"targets[{index}].model_path"
                )

    def fingerprint(self) -> str:
        """A short hash of the spec's content, secrets excluded, for comparing runs."""
        text = self.model_dump_json(exclude={"targets": {"__all__": {"headers"}}})
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
        if isinstance(target, dict) and isinstance(target.get("headers"), dict):
            target["headers"] = {
                key: _expand_env(value, f"targets[{index}].headers.{key}", path)
                for key, value in target["headers"].items()
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
    if not spec.dataset.path.is_absolute():
        spec.dataset.path = (base / spec.dataset.path).resolve()
    for target in spec.targets:
        if (
            isinstance(target, PythonTargetSpec)
            and target.model_path is not None
            and not target.model_path.is_absolute()
        ):
            target.model_path = (base / target.model_path).resolve()
    return spec


def _is_tag(part: int | str) -> bool:
    return part in ("oip", "http", "python", "instance", "api")


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
