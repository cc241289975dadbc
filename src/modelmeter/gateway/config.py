"""The gateway's configuration file: where it listens, its backends and its routes.

```yaml
listen: {host: 127.0.0.1, port: 8080}
backends:
  - {name: big-1, url: http://127.0.0.1:8001}
  - {name: big-2, url: http://127.0.0.1:8002, weight: 2}
  - {name: small, url: http://127.0.0.1:8003, model: qwen-small}   # model: the name upstream
routes:
  - {model: big, backends: [big-1, big-2], balance: least_outstanding, fallback: small}
  - {model: small, backends: [small]}
```

A client asks for a route by its ``model`` (OpenAI routes: the body's ``model``; Open
Inference Protocol: ``/v2/models/<model>/...``). Errors name the file, line and field, as the
spec's do.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from modelmeter._exceptions import SpecError
from modelmeter._money import currency_code
from modelmeter.gateway.litellm_import import from_litellm, is_litellm_config
from modelmeter.spec._base import HttpUrlText, SpecModel
from modelmeter.spec.locate import read_yaml, validation_lines
from modelmeter.spec.pricing import ApiPricing, CataloguePricing

__all__ = [
    "BackendConfig",
    "CacheConfig",
    "GatewayConfig",
    "KeysConfig",
    "ListenConfig",
    "RequestLogConfig",
    "RouteConfig",
    "ShadowConfig",
    "ShedConfig",
    "SplitArm",
    "load_gateway_config",
]

Balance = Literal["least_outstanding", "round_robin", "weighted", "p2c_ewma"]
RoutePricing = Annotated[ApiPricing | CataloguePricing, Field(discriminator="kind")]
# Budgets are kept in picounits in 64-bit cells (see gateway.ledger): up to 9.2 million.
MAX_BUDGET = Decimal(1_000_000)


class ListenConfig(SpecModel):
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port (0: any free one).")


class BackendConfig(SpecModel):
    """One model server the gateway forwards to."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    url: HttpUrlText = Field(
        description="http(s)://host:port of the server, with the path of its OpenAI base if it "
        "has one (as LiteLLM's api_base): /v1/chat/completions is sent to <path>/chat/"
        "completions when the path ends in /v1, else to <path>/v1/chat/completions."
    )
    api_key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="NAME of the environment variable holding this server's API key, sent "
        "upstream as 'authorization: Bearer'; read at start and on reload, never logged.",
    )
    model: str | None = Field(
        default=None,
        min_length=1,
        description="The model name this server expects; the body's 'model' is rewritten to it "
        "(default: left as the client sent it).",
    )
    weight: int = Field(default=1, ge=1, le=1000, description="Share under 'weighted' balance.")
    health_path: str = Field(
        default="/health",
        pattern=r"^/[^\s]*$",
        description="GET path that answers 200 while the server is healthy.",
    )
    max_in_flight: int = Field(
        default=256,
        ge=1,
        le=1_000_000,
        description="Requests in flight this server is meant to carry; the route's share in "
        "use decides when lower priorities are shed (see 'shed').",
    )


class SplitArm(SpecModel):
    route: str = Field(min_length=1, description="The route (its model) this arm sends to.")
    weight: float = Field(gt=0, le=1_000_000, description="Share of the units, relative.")


class ShadowConfig(SpecModel):
    route: str = Field(min_length=1, description="The route that also gets a copy.")
    share: float = Field(
        default=1.0, gt=0, le=1, description="Share of requests copied (by the split key)."
    )
    max_in_flight: int = Field(
        default=64, ge=1, le=100_000, description="Copies in flight at most; beyond, skipped."
    )


class RouteConfig(SpecModel):
    """A model name clients ask for, and the backends that serve it."""

    model: str = Field(min_length=1, description="The name clients send as 'model'.")
    backends: list[str] = Field(
        default_factory=list,
        description="Names of backends serving it (none for a route that only splits).",
    )
    balance: Balance = Field(
        default="least_outstanding",
        description="least_outstanding (the idlest backend), round_robin, weighted (smooth "
        "weighted round-robin), p2c_ewma (the better of two random ones by recent latency "
        "times requests in flight).",
    )
    fallback: str | list[str] | None = Field(
        default=None,
        description="Other routes' models, tried in this order when every backend of this one "
        "fails or is ejected (a lighter model, say); then theirs.",
    )
    max_input_tokens: int | None = Field(
        default=None,
        ge=1,
        description="The context window of this route's model; a longer prompt goes to the "
        "first of context_window_fallbacks that takes it.",
    )
    context_window_fallbacks: list[str] = Field(
        default_factory=list,
        description="Routes with larger context windows, smallest first, for prompts over "
        "max_input_tokens (estimated as characters / 3).",
    )

    split: list[SplitArm] | None = Field(
        default=None,
        min_length=2,
        description="A/B test: each request goes to one arm's route, the same unit always to "
        "the same arm; assignments and outcomes are logged to the run store.",
    )
    split_by: str = Field(
        default="authorization",
        pattern=r"^(authorization|header:[A-Za-z0-9\-]+|body:[A-Za-z0-9_]+)$",
        description="What makes a unit: 'authorization' (the client's key), 'header:<name>' "
        "or 'body:<field>' (e.g. body:user); a request without it is assigned at random.",
    )
    experiment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$",
        description="The experiment's name: its log is the run 'gateway-<name>' (default: the "
        "route's model); a new name starts a new assignment.",
    )
    shadow: ShadowConfig | None = Field(
        default=None,
        description="Also send a copy of each request (a share of them) to another route, "
        "whose answer is logged and thrown away: the client never waits for it.",
    )

    @property
    def experiment_name(self) -> str:
        return self.experiment or self.model

    @property
    def fallbacks(self) -> list[str]:
        """``fallback`` as a list."""
        if self.fallback is None:
            return []
        return [self.fallback] if isinstance(self.fallback, str) else list(self.fallback)

    pricing: RoutePricing | None = Field(
        default=None,
        description="What a request costs: {kind: api, per_1m_input_tokens, "
        "per_1m_output_tokens, per_request} or {kind: catalogue, model: <catalogue key>}; "
        "needed for budgets.",
    )
    budget: Decimal | None = Field(
        default=None,
        gt=0,
        le=MAX_BUDGET,
        description="Most this route may spend per budget period (keys.period), in 'currency'.",
    )
    max_output_tokens: int = Field(
        default=4096,
        ge=1,
        le=10_000_000,
        description="max_tokens set on a metered request that gives none, so that its cost is "
        "bounded before it is sent.",
    )


class SemanticCacheConfig(SpecModel):
    """Answer a request from the cached answer of one that means the same (see
    ``gateway.semantic``): its last user text is embedded by an OpenAI-compatible embeddings
    endpoint and compared with those of cached requests that differ from it in that text only."""

    url: str = Field(
        pattern=r"^https?://",
        description="The embeddings endpoint, e.g. http://127.0.0.1:8001/v1/embeddings (OpenAI, "
        "vLLM, TEI, Ollama, or `modelmeter serve NAME=FOLDER` with a sentence-transformers "
        "folder).",
    )
    model: str = Field(min_length=1, description="The embeddings model to ask for.")
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the endpoint's API key."
    )
    threshold: float = Field(
        gt=0,
        le=1,
        description="Least cosine similarity that counts as the same request. No default: no "
        "threshold is safe for every model and traffic (docs/gateway.md gives the wrong answers "
        "each one served on a labelled set; benchmarks/semantic_cache.py measures yours).",
    )
    max_entries: int = Field(default=10_000, ge=1, le=1_000_000, description="Texts kept.")
    timeout_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How long to wait for an embedding; slower or failed: the request is a miss.",
    )
    max_chars: int = Field(
        default=2000,
        ge=1,
        description="Longer last texts are never matched by meaning (an embedding of a long "
        "text says too little about its details), only exactly.",
    )


class CacheConfig(SpecModel):
    """An exact-match response cache, in memory (see ``gateway.cache``) or in Redis, shared by
    every worker and replica (``gateway.shared_cache``)."""

    redis: str | None = Field(
        default=None,
        pattern=r"^(redis|rediss|unix)://",
        description="redis://host:port/db of a Redis server to keep the cache in (shared by "
        "every gateway using it); max_entries and max_mb are then Redis's maxmemory's job.",
    )

    ttl_s: float = Field(default=300.0, gt=0, le=7 * 24 * 3600, description="Entry lifetime.")
    max_entries: int = Field(default=10_000, ge=1, le=10_000_000, description="Entries kept.")
    max_mb: float = Field(default=64.0, gt=0, le=65_536, description="Bytes kept, in MiB.")
    share_across_keys: bool = Field(
        default=False,
        description="Serve one client key's cached answers to requests with another key "
        "(off: the authorization header is part of the cache key).",
    )
    semantic: SemanticCacheConfig | None = Field(
        default=None,
        description="Also answer requests that mean the same as a cached one (off by default).",
    )


class RequestLogConfig(SpecModel):
    """A sample of all traffic, written to the run store (table ``gateway_log``) for drift
    checks and re-evaluation later (see ``gateway.traffic``)."""

    sample: float = Field(
        gt=0, le=1, description="Share of requests logged, drawn at random (0.01: one in 100)."
    )
    bodies: bool = Field(
        default=False,
        description="Keep each logged request's body and its answer too. They hold your users' "
        "texts: turn this on only where your privacy rules allow it. Off: route, key name, "
        "status, times, tokens, cost and cache result only.",
    )
    anonymise: Literal["redact", "mask", "pseudonym", "none"] = Field(
        default="redact",
        description="With bodies: personal data and secrets in them replaced before they are "
        "stored (docs/privacy.md): redact, mask, pseudonym (keyed by "
        "$MODELMETER_PSEUDONYM_KEY) or none.",
    )
    max_body_kb: int = Field(
        default=64,
        ge=1,
        le=8192,
        description="A body larger than this is not kept (its row is, with the body empty).",
    )
    max_rows: int = Field(
        default=1_000_000,
        ge=100,
        le=1_000_000_000,
        description="Rows kept in the store; beyond, the oldest are deleted.",
    )


class KeysConfig(SpecModel):
    """API keys (made with ``modelmeter keys create``, kept hashed in the run store)."""

    required: bool = Field(
        default=True,
        description="Refuse requests without a known key (401); false: a request without a "
        "key is served at normal priority with no key limits (a wrong key is still refused).",
    )
    db: str | None = Field(
        default=None,
        description="The store holding the keys: a SQLite file or SQLAlchemy URL (default: "
        "--db, else $MODELMETER_DB, else the user's run store).",
    )
    period: Literal["month", "day", "total"] = Field(
        default="month",
        description="When budgets start again: each calendar month or day (UTC), or never.",
    )


class ShedConfig(SpecModel):
    """When a route is this busy (requests in flight over its backends' max_in_flight), the
    priority refuses new requests with 429 and Retry-After; high priority is refused only at 1."""

    low: float = Field(default=0.5, gt=0, le=1)
    normal: float = Field(default=0.8, gt=0, le=1)


class GatewayConfig(SpecModel):
    listen: ListenConfig = Field(default_factory=ListenConfig)
    workers: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Processes answering on the port (one core each); a restart changes it.",
    )
    keys: KeysConfig | None = Field(
        default=None, description="API keys, their limits and budgets (open to all when absent)."
    )
    currency: str = Field(
        default="USD", description="ISO 4217 code of every price and budget in this file."
    )
    catalogue: Path | Literal["builtin"] | None = Field(
        default=None,
        description="Price catalogue for pricing of kind 'catalogue': 'builtin' or a LiteLLM / "
        "OpenRouter file (relative to this file).",
    )
    shed: ShedConfig = Field(default_factory=ShedConfig)
    bucket_ms: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=list,
        description="Latency thresholds in ms (an SLA's: p95_ms, ttft_p95_ms) added to the "
        "/metrics histograms' boundaries, so quantiles read there are exact; a restart "
        "changes them.",
    )
    max_body_mb: float = Field(
        default=16.0, gt=0, le=64, description="Largest request body taken, in MiB (413 above)."
    )
    cache: CacheConfig | None = Field(
        default=None, description="Cache answers to identical requests (off when absent)."
    )
    log: RequestLogConfig | None = Field(
        default=None, description="Log a sample of all requests to the store (off when absent)."
    )
    backends: list[BackendConfig] = Field(min_length=1)
    routes: list[RouteConfig] = Field(min_length=1)
    timeout_s: float = Field(
        default=300.0, gt=0, le=3600, description="Per upstream request, send to last byte."
    )
    retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Other backends tried after a failure that sent the client nothing yet.",
    )
    eject_after: int = Field(
        default=3, ge=1, le=1000, description="Consecutive failures that take a backend out."
    )
    eject_s: float = Field(
        default=5.0, gt=0, le=3600, description="How long an ejected backend stays out at least."
    )
    health_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=600,
        description="How often an ejected backend's health_path is tried; 200 brings it back.",
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> object:
        return currency_code(value)

    @model_validator(mode="after")
    def _names(self) -> GatewayConfig:
        names = [backend.name for backend in self.backends]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"backend names must be unique: {', '.join(twice)}")
        models = [route.model for route in self.routes]
        twice = sorted({model for model in models if models.count(model) > 1})
        if twice:
            raise ValueError(f"route models must be unique: {', '.join(twice)}")
        for route in self.routes:
            unknown = [name for name in route.backends if name not in names]
            if unknown:
                raise ValueError(
                    f"route {route.model!r} names unknown backends {', '.join(unknown)}; "
                    f"the backends are {', '.join(names)}"
                )
            for fallback in [*route.fallbacks, *route.context_window_fallbacks]:
                if fallback not in models:
                    raise ValueError(
                        f"route {route.model!r} falls back to unknown route {fallback!r}; "
                        f"the routes are {', '.join(models)}"
                    )
                if fallback == route.model:
                    raise ValueError(f"route {route.model!r} falls back to itself")
            if not route.backends and not route.split:
                raise ValueError(f"route {route.model!r} needs backends (or a split)")
            arms = [arm.route for arm in route.split or []]
            if route.shadow is not None:
                arms.append(route.shadow.route)
            for arm in arms:
                if arm not in models:
                    raise ValueError(
                        f"route {route.model!r} sends to unknown route {arm!r}; the routes are "
                        f"{', '.join(models)}"
                    )
                if arm == route.model:
                    raise ValueError(f"route {route.model!r} splits or copies to itself")
                if any(r.model == arm and r.split for r in self.routes):
                    raise ValueError(
                        f"route {route.model!r} splits to {arm!r}, which splits again; an arm "
                        "must be a plain route"
                    )
            if route.budget is not None and route.pricing is None:
                raise ValueError(
                    f"route {route.model!r} has a budget but no pricing to count it against"
                )
            if route.pricing is not None and route.pricing.currency != self.currency:
                raise ValueError(
                    f"route {route.model!r} is priced in {route.pricing.currency} but the "
                    f"gateway's currency is {self.currency}; amounts are never converted"
                )
            if isinstance(route.pricing, CataloguePricing) and self.catalogue is None:
                raise ValueError(
                    f"route {route.model!r} takes its prices from a catalogue; set "
                    "'catalogue: builtin' or a catalogue file"
                )
        return self


def load_gateway_config(path: Path) -> GatewayConfig:
    """Read and validate a gateway file; problems become a `SpecError` naming line and field."""
    data, root = read_yaml(path, "gateway file")
    if not isinstance(data, dict):
        raise SpecError("the gateway file must be a YAML mapping (backends:, routes:)", path=path)
    if is_litellm_config(data):
        try:
            return GatewayConfig.model_validate(from_litellm(data, root, path))
        except ValidationError as exc:
            lines = validation_lines(exc, None)
            raise SpecError("invalid LiteLLM config\n" + "\n".join(lines), path=path) from None
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        lines = validation_lines(exc, root)
        raise SpecError("invalid gateway file\n" + "\n".join(lines), path=path) from None
