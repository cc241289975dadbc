"""Who may send a request, and whether it fits their limits and the budgets: keys, rate and
concurrency limits, hard budgets in currency per key and per route.

A request carrying ``authorization: Bearer <key>`` is matched by the key's SHA-256 against the
keys in the run store (``modelmeter keys create``). Before it is sent, its worst-case cost is
reserved in the `Ledger` against its key's and its route's budgets: the route's price of one
request, of ``len(body) + 64`` input tokens (no tokenizer makes more tokens of a request than
its bytes, and 64 covers a chat template's own tokens), and of its ``max_tokens`` (set to the
route's ``max_output_tokens`` when the request gives none). The answer's ``usage`` then
replaces the reservation by the real cost; a streamed request is sent upstream with
``stream_options.include_usage`` so that its last chunk carries the usage. An answer that
started but reports no usage, or whose client left after it was sent, is charged its whole
reservation. Admin keys are under their budgets like any other.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from modelmeter._exceptions import AccessDenied
from modelmeter.gateway.config import GatewayConfig, RouteConfig
from modelmeter.gateway.ledger import Claim, Ledger, Refusal
from modelmeter.spec.pricing import ApiPricing
from modelmeter.store.key_records import ApiKey, hash_key

__all__ = [
    "Access",
    "Price",
    "Ticket",
    "period_of",
    "pico",
    "prompt_tokens_estimate",
    "usage_of",
]

PICO = 10**12
_TEMPLATE_TOKENS = 64  # a chat template's own tokens, beyond the request's bytes
_COMPLETIONS = ("/v1/chat/completions", "/v1/completions")


def pico(amount: Decimal) -> int:
    """An amount of currency in picounits, rounded up (a budget is never overstated)."""
    return math.ceil(amount * PICO)


def period_of(kind: str, now: dt.datetime | None = None) -> tuple[int, str]:
    """The budget period ``now`` falls in: a number the ledger compares, and its name in the
    store ("2026-12", "2026-12-07", "total")."""
    when = now or dt.datetime.now(dt.UTC)
    if kind == "month":
        return when.year * 12 + when.month, f"{when.year:04d}-{when.month:02d}"
    if kind == "day":
        return when.date().toordinal(), when.date().isoformat()
    return 1, "total"


@dataclass(frozen=True)
class Price:
    """A route's prices in picounits: per request, per input token, per output token."""

    request: int = 0
    input_token: int = 0
    output_token: int = 0

    @classmethod
    def of(cls, pricing: ApiPricing) -> Price:
        million = Decimal(1_000_000)
        return cls(
            request=pico(pricing.per_request),
            input_token=pico(pricing.per_1m_input_tokens / million),
            output_token=pico(pricing.per_1m_output_tokens / million),
        )

    def cost(self, input_tokens: int, output_tokens: int) -> int:
        return self.request + input_tokens * self.input_token + output_tokens * self.output_token


@dataclass
class Ticket:
    """An admitted request's reservation, settled once its answer is known."""

    claims: list[Claim]
    price: Price
    reserved_cost: int
    reserved_input: int
    reserved_output: int
    rewrote: bool = False  # max_tokens or stream_options were set in the body sent upstream
    usage: tuple[int, int] | None = None  # (input, output) tokens the answer reported
    answered: bool = False  # a backend's answer (any part of it) reached the gateway
    settled: bool = field(default=False)


class Access:
    """Keys, limits and budgets for one configuration (made again on reload; the ledger is
    kept, so spend and requests in flight carry over)."""

    def __init__(
        self,
        config: GatewayConfig,
        keys: list[ApiKey],
        ledger: Ledger,
        prices: Mapping[str, ApiPricing],
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.uses_keys = config.keys is not None
        self.required = config.keys is not None and config.keys.required
        self.period_kind = config.keys.period if config.keys is not None else "month"
        self.keys = {key.key_sha256: key for key in keys if key.revoked_at is None}
        self.prices = {model: Price.of(pricing) for model, pricing in prices.items()}
        self.routes = {route.model: route for route in config.routes}
        for key in self.keys.values():
            ledger.slot(f"key:{key.id}")
        for route in config.routes:
            ledger.slot(f"model:{route.model}")

    # -- who -------------------------------------------------------------------------------

    def identify(self, headers: Mapping[str, str]) -> ApiKey | None:
        """The request's key; None for no key where none is required, and always where the
        gateway has no keys (a client's own authorization header is then nobody's business
        here: the OpenAI SDK always sends one). Raises `AccessDenied`."""
        if not self.uses_keys:
            return None
        given = headers.get("authorization")
        if given is None:
            if self.required:
                raise AccessDenied(
                    401,
                    "this gateway needs an API key: send 'authorization: Bearer <key>'",
                    "authentication_error",
                )
            return None
        scheme, _, secret = given.strip().partition(" ")
        key = self.keys.get(hash_key(secret.strip())) if scheme.lower() == "bearer" else None
        if key is None:
            # never echo what was sent: it may be someone's key for another service
            raise AccessDenied(401, "the API key is not valid here", "authentication_error")
        return key

    # -- how much --------------------------------------------------------------------------

    def admit(
        self, key: ApiKey | None, route: RouteConfig, path: str, raw: bytes, body: Any
    ) -> Ticket | None:
        """Reserve the request's worst case against every limit it falls under (None when it
        falls under none). May set ``max_tokens`` and ``stream_options`` in ``body``; raises
        `AccessDenied` when a limit has no room."""
        price = self.prices.get(route.model)
        claims: list[Claim] = []
        limits = key.limits if key is not None else None
        metered = price is not None or (limits is not None and limits.tokens_per_minute)
        input_bound = output_bound = 0
        rewrote = False
        if metered and isinstance(body, dict):
            input_bound = len(raw) + _TEMPLATE_TOKENS
            if path in _COMPLETIONS:
                output_bound, rewrote = _output_bound(body, route.max_output_tokens)
                if body.get("stream") is True:
                    rewrote = True
                    options = body.get("stream_options")
                    body["stream_options"] = {
                        **(options if isinstance(options, dict) else {}),
                        "include_usage": True,
                    }
        cost = price.cost(input_bound, output_bound) if price is not None else 0
        if limits is not None and key is not None:
            claims.append(
                Claim(
                    self.ledger.slot(f"key:{key.id}"),
                    cost=cost if price is not None else 0,
                    tokens=input_bound + output_bound,
                    budget=pico(limits.budget) if limits.budget is not None else None,
                    max_concurrent=limits.max_concurrent,
                    requests_per_minute=limits.requests_per_minute,
                    tokens_per_minute=limits.tokens_per_minute,
                )
            )
            if limits.budget is not None and price is None:
                raise AccessDenied(
                    403,
                    f"your key has a budget and the model {route.model!r} has no price here, so "
                    "its cost could not be counted",
                    "permission_error",
                )
        if route.budget is not None:
            claims.append(
                Claim(
                    self.ledger.slot(f"model:{route.model}"), cost=cost, budget=pico(route.budget)
                )
            )
        elif price is not None:
            # no budget, but the route's spend is still counted (shown by `keys list`)
            claims.append(Claim(self.ledger.slot(f"model:{route.model}"), cost=cost))
        if not claims:
            return None
        period, _name = period_of(self.period_kind)
        refusal = self.ledger.admit(claims, period)
        if refusal is not None:
            raise self._denied(refusal, key, route)
        return Ticket(claims, price or Price(), cost, input_bound, output_bound, rewrote)

    def settle(self, ticket: Ticket) -> int:
        """Replace the reservation by the answer's cost; returns the tokens by which the
        answer's usage passed its reservation (0 normally)."""
        if ticket.settled:
            return 0
        ticket.settled = True
        over = 0
        if ticket.usage is not None:
            used_in, used_out = ticket.usage
            cost = ticket.price.cost(used_in, used_out)
            tokens = used_in + used_out
            over = max(0, used_in - ticket.reserved_input) + max(
                0, used_out - ticket.reserved_output
            )
        elif ticket.answered:
            cost = ticket.reserved_cost  # it may have cost that much; say it did
            tokens = ticket.reserved_input + ticket.reserved_output
        else:
            cost, tokens = 0, 0  # no backend answered: nothing was spent
        self.ledger.settle(ticket.claims, cost, tokens)
        return over

    def spend_report(self) -> dict[str, Any]:
        """What each key and route has spent this period, has reserved and has in flight."""
        period, name = period_of(self.period_kind)
        ledger = self.ledger

        def entry(entity: str, budget: Decimal | None) -> dict[str, Any]:
            slot = ledger.slot(entity)
            return {
                "spent": str(Decimal(ledger.spent(slot, period)) / PICO),
                "reserved": str(Decimal(ledger.reserved(slot)) / PICO),
                "in_flight": ledger.in_flight(slot),
                "budget": None if budget is None else str(budget),
            }

        return {
            "period": name,
            "currency": self.config.currency,
            "keys": {k.name: entry(f"key:{k.id}", k.limits.budget) for k in self.keys.values()},
            "models": {
                route.model: entry(f"model:{route.model}", route.budget)
                for route in self.config.routes
            },
        }

    def _denied(self, refusal: Refusal, key: ApiKey | None, route: RouteConfig) -> AccessDenied:
        claim = refusal.claim
        whose = (
            f"the key {key.name!r}"
            if key is not None and claim == 0
            else f"the model {route.model!r}"
        )
        if refusal.kind == "budget":
            return AccessDenied(
                429,
                f"{whose} has spent its budget for this period ({self.period_kind}); "
                "this request could cost more than is left",
                "insufficient_quota",
                self._until_next_period(),
            )
        if refusal.kind == "concurrency":
            return AccessDenied(
                429, f"{whose} has its most requests in flight already", "rate_limit_error", 1.0
            )
        what = "requests" if refusal.kind == "requests_per_minute" else "tokens"
        return AccessDenied(
            429, f"{whose} is over its {what} per minute", "rate_limit_error", refusal.retry_after_s
        )

    def _until_next_period(self) -> float | None:
        now = dt.datetime.now(dt.UTC)
        if self.period_kind == "day":
            start = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
        elif self.period_kind == "month":
            year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
            start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
        else:
            return None
        return (start - now).total_seconds()


def _output_bound(body: dict[str, Any], default: int) -> tuple[int, bool]:
    """The most output tokens the request allows, and whether ``max_tokens`` had to be set
    to ``default`` because it gives none."""
    for name in ("max_completion_tokens", "max_tokens"):
        if name not in body:
            continue
        value = body[name]
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, False
        raise AccessDenied(400, f"'{name}' must be a positive integer", "invalid_request_error")
    body["max_tokens"] = default
    return default, True


def usage_of(data: bytes, streamed: bool) -> tuple[int, int] | None:
    """(prompt tokens, completion tokens) from an OpenAI answer: the body's ``usage``, or the
    last event that carries one in a stream's tail. None when it says nothing usable."""
    if streamed:
        at = data.rfind(b'"usage":{')
        if at < 0:
            return None
        start = data.rfind(b"data:", 0, at)
        end = data.find(b"\n", at)
        if start < 0:
            return None
        text = data[start + 5 : end if end >= 0 else len(data)]
    else:
        text = data
    try:
        answer = json.loads(text)
    except (ValueError, RecursionError):
        return None
    usage = answer.get("usage") if isinstance(answer, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens", 0)
    if not (_count(prompt) and _count(completion)):
        return None
    return int(prompt), int(completion)  # type: ignore[arg-type]


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def prompt_tokens_estimate(body: dict[str, Any]) -> int:
    """A prompt's tokens, estimated on the high side as its characters / 3 (English runs about
    4 characters a token, code nearer 3): a prompt near a window goes to the larger model."""
    characters = 0
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        characters += len(prompt)
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                characters += len(content)
            elif isinstance(content, list):
                for part in content:
                    text = part.get("text") if isinstance(part, dict) else None
                    if isinstance(text, str):
                        characters += len(text)
    return -(-characters // 3)
