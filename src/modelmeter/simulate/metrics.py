"""The simulator's Prometheus metrics at ``GET /metrics``, in the OpenTelemetry GenAI server
vocabulary: ``gen_ai.server.request.duration``, ``..time_to_first_token`` and
``..time_per_output_token`` (seconds), and a request counter by status for availability.

They are filled from each request's timing record when the record is kept, which the pacer
defers to when no chunk is due: counting never delays a send.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from modelmeter.simulate._request import _Record
from modelmeter.telemetry.genai import latency_buckets, record_semconv

__all__ = ["REQUESTS", "SimulatorMetrics"]

REQUESTS = "modelmeter_simulate_requests"
_OPERATIONS = {"/v1/chat/completions": "chat", "/v1/completions": "text_completion"}


class SimulatorMetrics:
    def __init__(self, model: str, thresholds_s: Iterable[float] = ()) -> None:
        self.model = model
        self.registry = registry = CollectorRegistry()
        buckets = latency_buckets(thresholds_s)
        self._requests = Counter(
            REQUESTS,
            "Completion requests answered, by status (499: the client went away first).",
            ["gen_ai_operation_name", "status"],
            registry=registry,
        )
        record_semconv(registry)
        labels = ["gen_ai_request_model", "gen_ai_operation_name"]
        self._duration = Histogram(
            "gen_ai_server_request_duration_seconds",
            "From a request's arrival to the last byte of its answer.",
            [*labels, "error_type"],
            buckets=buckets,
            registry=registry,
        )
        self._first_token = Histogram(
            "gen_ai_server_time_to_first_token_seconds",
            "From a request's arrival to its first output token (the first chunk written, "
            "when streamed).",
            labels,
            buckets=buckets,
            registry=registry,
        )
        self._per_token = Histogram(
            "gen_ai_server_time_per_output_token_seconds",
            "Time per output token after the first, per successful request.",
            labels,
            buckets=buckets,
            registry=registry,
        )

    def record(self, record: _Record) -> None:
        operation = _OPERATIONS.get(record.path, record.path)
        status = 499 if record.cancelled else record.status
        self._requests.labels(operation, str(status)).inc()
        if record.finished_ns is None:
            return
        error = "" if status < 400 else str(status)
        seconds = (record.finished_ns - record.arrived_ns) / 1e9
        self._duration.labels(self.model, operation, error).observe(seconds)
        if error:
            return
        first = _first_token_ns(record)
        if first is None:
            return
        self._first_token.labels(self.model, operation).observe((first - record.arrived_ns) / 1e9)
        if record.output_tokens > 1:
            per_token = (record.finished_ns - first) / (record.output_tokens - 1) / 1e9
            self._per_token.labels(self.model, operation).observe(per_token)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _first_token_ns(record: _Record) -> int | None:
    """When the first token went out (a stream), or was made (a whole answer: its slot's start
    plus the drawn time to first token)."""
    if record.stream:
        return next((w for t, w in zip(record.tokens, record.written, strict=True) if t), None)
    if record.slot_started_ns is not None and record.ttft_ns is not None:
        return record.slot_started_ns + record.ttft_ns
    return None
