"""Backends as the gateway sees them, and the ways a route picks one.

Each backend keeps what the strategies and the ejection need, updated on the event loop with no
lock: requests in flight, an exponentially weighted moving average of its latency, consecutive
failures and, once those reach ``eject_after``, the time until which it is out. An ejected
backend comes back when its health check answers 200 (`server`), or, with no check passing,
is tried again by one request after ``eject_s`` (half-open, as a circuit breaker does).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from modelmeter._exceptions import SpecError
from modelmeter.client import Endpoint, HttpClient, PreparedRequest, RequestTemplate
from modelmeter.gateway.config import BackendConfig, Balance

if TYPE_CHECKING:
    from modelmeter.httpserver import Request

__all__ = ["Backend", "Balancer", "bearer_from_env"]

_EWMA_WEIGHT = 0.2  # share of a new latency in the moving average
_START_LATENCY_S = 0.05  # what p2c assumes of a backend it has not timed yet
_TEMPLATES = 4096  # request heads kept per backend; they start over when full
# Request headers passed upstream; the rest (the client's keys above all) stay in the gateway.
FORWARDED = ("content-type", "accept", "x-request-id", "inference-header-content-length")
_BODIES = frozenset({"POST", "PUT", "PATCH"})


def bearer_from_env(variable: str, owner: str) -> str:
    """``Bearer <key>`` with the key read from ``variable``; `SpecError` naming ``owner`` (the
    file's place that named the variable) when it is unset or empty."""
    key = os.environ.get(variable)
    if not key:
        raise SpecError(
            f"{owner}: the environment variable {variable} (its api_key_env) is not set"
        )
    return f"Bearer {key}"


@dataclass(eq=False)
class Backend:
    config: BackendConfig
    client: HttpClient
    outstanding: int = 0
    ewma_s: float = _START_LATENCY_S
    failures: int = 0
    ejected_until: float = 0.0  # time.monotonic(); 0: in service
    current_weight: int = field(default=0)  # smooth weighted round-robin state

    authorization: str | None = field(default=None, repr=False)  # never in logs or reprs
    base_path: str = ""
    templates: dict[tuple[Any, ...], RequestTemplate] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, config: BackendConfig, timeout_s: float) -> Backend:
        """The backend's client; its key read from ``api_key_env`` (`SpecError` when unset)."""
        authorization = None
        if config.api_key_env is not None:
            authorization = bearer_from_env(config.api_key_env, f"backend {config.name!r}")
        client = HttpClient(Endpoint.from_url(config.url), timeout_s=timeout_s)
        base = urlsplit(config.url).path.rstrip("/")
        return cls(config, client, authorization=authorization, base_path=base)

    def template(
        self, method: str, path: str, headers: tuple[tuple[str, str], ...]
    ) -> RequestTemplate:
        """A checked request head to this backend; most requests repeat one of a few, and
        checking a head costs more than the rest of a forward. Raises ValueError for a head
        that cannot be sent."""
        key = (method, path, headers)
        found = self.templates.get(key)
        if found is None:
            found = PreparedRequest.template(
                method, self.client.endpoint, path, headers=dict(headers)
            )
            if len(self.templates) >= _TEMPLATES:
                self.templates.clear()
            self.templates[key] = found
        return found

    def prepare(
        self, request: Request, body: Any, rewritten: bytes | None = None
    ) -> PreparedRequest:
        """``request`` as this backend is sent it: its path behind the backend's base, its
        ``model`` (when the backend names one), the forwarded headers and the backend's own key.
        ``rewritten`` replaces the body. Raises ValueError for a head that cannot be sent."""
        path = self.upstream_path(request.path)
        data = request.body if rewritten is None else rewritten
        upstream_model = self.config.model
        if upstream_model is not None:
            if isinstance(body, dict):
                data = json.dumps({**body, "model": upstream_model}).encode()
            elif path.startswith("/v2/models/"):
                rest = path.removeprefix("/v2/models/").split("/", 1)
                path = "/v2/models/" + upstream_model + ("/" + rest[1] if len(rest) > 1 else "")
        if request.query:
            path += "?" + request.query
        given = request.headers
        headers = tuple((name, given[name]) for name in FORWARDED if name in given)
        if self.authorization is not None:
            headers += (("authorization", self.authorization),)
        template = self.template(request.method, path, headers)
        return template.with_body(data if data or request.method in _BODIES else None)

    def upstream_path(self, path: str) -> str:
        """Where ``path`` goes on this server: behind its base path, one /v1 between them."""
        base = self.base_path
        if not base:
            return path
        if base.endswith("/v1") and path.startswith("/v1/"):
            return base + path[3:]
        return base + path

    @property
    def name(self) -> str:
        return self.config.name

    def in_service(self, now: float) -> bool:
        return self.ejected_until == 0.0 or now >= self.ejected_until

    def succeeded(self, latency_s: float) -> None:
        self.failures = 0
        self.ejected_until = 0.0
        self.ewma_s += _EWMA_WEIGHT * (latency_s - self.ewma_s)

    def failed_once(self, eject_after: int, eject_s: float) -> None:
        self.failures += 1
        if self.failures >= eject_after:
            self.ejected_until = time.monotonic() + eject_s

    def back_in_service(self) -> None:
        self.failures = 0
        self.ejected_until = 0.0


class Balancer:
    """Picks a backend of one route by its strategy, among those in service and not tried."""

    def __init__(self, backends: Sequence[Backend], strategy: Balance, seed: int | None = None):
        self.backends = list(backends)
        self.strategy = strategy
        self._next = 0
        self._random = random.Random(seed)

    def pick(self, tried: set[Backend] | frozenset[Backend] = frozenset()) -> Backend | None:
        """The next backend, or None when none is left (all tried, or all ejected)."""
        now = time.monotonic()
        ready = [b for b in self.backends if b not in tried and b.in_service(now)]
        if not ready:
            return None
        if self.strategy == "round_robin":
            return self._round_robin(ready)
        if self.strategy == "weighted":
            return self._weighted(ready)
        if self.strategy == "p2c_ewma":
            return self._power_of_two(ready)
        return self._least_outstanding(ready)

    def _round_robin(self, ready: list[Backend]) -> Backend:
        count = len(self.backends)
        for step in range(count):
            backend = self.backends[(self._next + step) % count]
            if backend in ready:
                self._next = (self._next + step + 1) % count
                return backend
        return ready[0]  # unreachable: ready is a non-empty subset

    def _weighted(self, ready: list[Backend]) -> Backend:
        # nginx's smooth weighted round-robin: every pick adds each weight to its backend's
        # current weight and takes the largest, which then gives back the total.
        total = 0
        best = ready[0]
        for backend in ready:
            backend.current_weight += backend.config.weight
            total += backend.config.weight
            if backend.current_weight > best.current_weight:
                best = backend
        best.current_weight -= total
        return best

    def _least_outstanding(self, ready: list[Backend]) -> Backend:
        # Ties go round the list, so idle backends share the traffic instead of the first
        # taking all of it.
        fewest = min(b.outstanding for b in ready)
        idle = [b for b in ready if b.outstanding == fewest]
        chosen = idle[self._next % len(idle)]
        self._next += 1
        return chosen

    def _power_of_two(self, ready: list[Backend]) -> Backend:
        if len(ready) == 1:
            return ready[0]
        first, second = self._random.sample(ready, 2)

        def cost(backend: Backend) -> float:
            return backend.ewma_s * (backend.outstanding + 1)

        return first if cost(first) <= cost(second) else second
