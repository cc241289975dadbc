"""The gateway's Prometheus metrics, served at ``GET /metrics``.

Names follow the OpenTelemetry GenAI conventions where one fits (``gen_ai.client.operation
.duration`` as ``gen_ai_client_operation_duration_seconds``, labelled with
``gen_ai_request_model``), and ``modelmeter_gateway_*`` for what is the gateway's own: its added
time (from reading a request to sending it upstream, the part of the latency the gateway is
answerable for; also in each answer's ``server-timing: gateway;dur=<ms>`` header), time to the
first answer byte, requests by route, backend and status, and whether each backend is in
service. Label children are cached: ``labels()`` takes a lock and builds a tuple per call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from modelmeter.gateway.balance import Backend
from modelmeter.telemetry.genai import TOKEN_BUCKETS, latency_buckets, record_semconv

__all__ = ["GatewayMetrics"]

# From tens of microseconds (the gateway's own time) to minutes (long generations).
SECONDS_BUCKETS = latency_buckets()


class _BackendsUp(Collector):
    """``modelmeter_gateway_backend_up``: read from the backends at scrape time."""

    def __init__(self, backends: dict[str, Backend]) -> None:
        self.backends = backends

    def collect(self) -> Iterable[GaugeMetricFamily]:
        import time

        now = time.monotonic()
        family = GaugeMetricFamily(
            "modelmeter_gateway_backend_up",
            "1 while a backend is in service, 0 while it is ejected.",
            labels=["backend"],
        )
        for name, backend in self.backends.items():
            family.add_metric([name], 1.0 if backend.in_service(now) else 0.0)
        yield family


class GatewayMetrics:
    def __init__(self, backends: dict[str, Backend], thresholds_s: Iterable[float] = ()) -> None:
        self.registry = registry = CollectorRegistry()
        # an SLA's thresholds among the boundaries: quantiles and burn rules read there exactly
        seconds = latency_buckets(thresholds_s)
        record_semconv(registry)
        self._requests = Counter(
            "modelmeter_gateway_requests",
            "Requests answered, by route, backend (none: answered by the gateway) and status.",
            ["route", "backend", "status"],
            registry=registry,
        )
        self._duration = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "From reading a request to the end of its answer.",
            ["gen_ai_request_model"],
            buckets=seconds,
            registry=registry,
        )
        self._first_byte = Histogram(
            "modelmeter_gateway_time_to_first_chunk_seconds",
            "From reading a request to the first byte of its answer reaching the client.",
            ["gen_ai_request_model"],
            buckets=seconds,
            registry=registry,
        )
        self._added = Histogram(
            "modelmeter_gateway_added_seconds",
            "The gateway's own time per request: from reading it to sending it upstream.",
            buckets=SECONDS_BUCKETS,
            registry=registry,
        )
        self._refused = Counter(
            "modelmeter_gateway_refused",
            "Requests refused before reaching a backend, by route and reason (the error type: "
            "authentication_error, rate_limit_error, insufficient_quota, ...).",
            ["route", "reason"],
            registry=registry,
        )
        self._tokens = Histogram(
            "gen_ai_client_token_usage",
            "Tokens per answer as its usage reported them (metered routes, keys and "
            "experiments), by route and gen_ai_token_type (input, output).",
            ["gen_ai_request_model", "gen_ai_token_type"],
            buckets=TOKEN_BUCKETS,
            registry=registry,
        )
        self._spend = Counter(
            "modelmeter_gateway_spend",
            "What the answers cost at their route's price, in the gateway's currency (routes "
            "with a price, answers that reported usage).",
            ["route", "currency"],
            registry=registry,
        )
        self._over = Counter(
            "modelmeter_gateway_usage_over_reservation",
            "Answers that reported more tokens than their request allowed (a budget can be "
            "passed only by these).",
            ["route"],
            registry=registry,
        )
        self._semantic = Counter(
            "modelmeter_gateway_semantic_cache",
            "Requests looked up by meaning, by result: hit, miss, or unavailable (the "
            "embeddings endpoint failed or was too slow: a miss).",
            ["result"],
            registry=registry,
        )
        self._up = _BackendsUp(backends)
        registry.register(self._up)
        self._children: dict[tuple[str, ...], Any] = {}

    def watch(self, backends: dict[str, Backend]) -> None:
        """Report these backends from now on (after a reload)."""
        self._up.backends = backends

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def answered(
        self,
        route: str,
        backend: str,
        status: int,
        *,
        total_s: float,
        first_byte_s: float | None,
    ) -> None:
        self._child(self._requests, route, backend, str(status)).inc()
        self._child(self._duration, route).observe(total_s)
        if first_byte_s is not None:
            self._child(self._first_byte, route).observe(first_byte_s)

    def refused(self, route: str, reason: str) -> None:
        self._child(self._refused, route, reason).inc()

    def used(self, route: str, input_tokens: int, output_tokens: int) -> None:
        self._child(self._tokens, route, "input").observe(input_tokens)
        self._child(self._tokens, route, "output").observe(output_tokens)

    def spent(self, route: str, currency: str, pico: int) -> None:
        self._child(self._spend, route, currency).inc(pico / 1e12)

    def over_reservation(self, route: str) -> None:
        self._child(self._over, route).inc()

    def semantic(self, result: str) -> None:
        self._child(self._semantic, result).inc()

    def added(self, seconds: float) -> None:
        self._added.observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        # several workers (gateway.workers): their files, summed, and this worker's view of
        # the backends
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        registry.register(self._up)
        return generate_latest(registry), CONTENT_TYPE_LATEST
