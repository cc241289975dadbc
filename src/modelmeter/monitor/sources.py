"""The metric vocabularies the monitoring rules read: what a service calls its requests, its
failures and its latency histograms.

``gateway``, ``serve`` and ``simulate`` are this project's servers; their histogram boundaries
are the ones they export by default (``le`` written as Python's Prometheus client writes it:
0.1, 1.0, 10.0). Each of them takes an SLA's thresholds as extra boundaries (``bucket_ms`` /
``--bucket-ms``): :meth:`Source.with_thresholds` is that server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from modelmeter.definitions import LATENCY_BUCKETS_S
from modelmeter.gateway.metrics import SECONDS_BUCKETS as _GATEWAY_BUCKETS
from modelmeter.simulate.metrics import REQUESTS as _SIMULATE_REQUESTS
from modelmeter.telemetry.genai import latency_buckets

__all__ = ["SOURCES", "Source"]


@dataclass(frozen=True)
class Source:
    name: str
    requests: str  # a counter of answered requests, with a status label
    failed: str  # the label selector of failed ones, inside {}
    duration: str  # histogram (base name) of whole-request time, seconds
    buckets: tuple[float, ...]
    first_chunk: str | None = None  # histogram of time to first chunk, seconds
    first_chunk_buckets: tuple[float, ...] = ()
    spend: str | None = None  # a counter of money spent, in the currency its label names
    per_token: str | None = None  # histogram of a request's time per output token, seconds
    per_token_buckets: tuple[float, ...] = ()

    def with_thresholds(self, thresholds_s: Iterable[float]) -> Source:
        """This source run with ``thresholds_s`` added to its histograms' boundaries."""
        limits = list(thresholds_s)
        return replace(
            self,
            buckets=latency_buckets(limits, base=self.buckets),
            first_chunk_buckets=latency_buckets(limits, base=self.first_chunk_buckets)
            if self.first_chunk is not None
            else (),
            per_token_buckets=latency_buckets(limits, base=self.per_token_buckets)
            if self.per_token is not None
            else (),
        )

    def histograms(self) -> dict[str, tuple[str, tuple[float, ...]]]:
        """Kinds of latency SLO this source can watch: name -> (histogram, boundaries)."""
        found = {"latency": (self.duration, self.buckets)}
        if self.first_chunk is not None:
            found["ttft"] = (self.first_chunk, self.first_chunk_buckets)
        if self.per_token is not None:
            found["itl"] = (self.per_token, self.per_token_buckets)
        return found


SOURCES = {
    "gateway": Source(
        name="gateway",
        requests="modelmeter_gateway_requests_total",
        failed='status=~"5.."',
        duration="gen_ai_client_operation_duration_seconds",
        buckets=_GATEWAY_BUCKETS,
        first_chunk="modelmeter_gateway_time_to_first_chunk_seconds",
        first_chunk_buckets=_GATEWAY_BUCKETS,
        spend="modelmeter_gateway_spend_total",
    ),
    "serve": Source(
        name="serve",
        requests="modelmeter_serve_requests_total",
        failed='status=~"5.."',
        duration="gen_ai_server_request_duration_seconds",
        buckets=LATENCY_BUCKETS_S,
    ),
    "simulate": Source(
        name="simulate",
        requests=f"{_SIMULATE_REQUESTS}_total",
        failed='status=~"5.."',
        duration="gen_ai_server_request_duration_seconds",
        buckets=latency_buckets(),
        first_chunk="gen_ai_server_time_to_first_token_seconds",
        first_chunk_buckets=latency_buckets(),
        per_token="gen_ai_server_time_per_output_token_seconds",
        per_token_buckets=latency_buckets(),
    ),
}
