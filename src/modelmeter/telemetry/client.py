"""Client-side GenAI metrics of a running `modelmeter run`, fed one Outcome at a time.

Each answered request adds to ``gen_ai.client.operation.duration`` (from the actual send to the
last byte, the service time: what an instrumented client would record; the report's response
time also counts the wait behind a late client), ``..time_to_first_chunk`` and
``..time_per_output_chunk`` for streams, and the token metrics (see `genai`). Labels:
``gen_ai_request_model`` (the spec's target name), ``gen_ai_operation_name`` and, on failure,
``error_type``. Warm-up and cool-down requests are counted too: the metrics show what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

from modelmeter.load.outcome import Outcome
from modelmeter.telemetry.genai import TOKEN_BUCKETS, latency_buckets, record_semconv

__all__ = ["ClientMetrics"]


class ClientMetrics:
    """The registry and its instruments; :meth:`observe` is called once per outcome."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        duration_thresholds_s: Iterable[float] = (),
        ttft_thresholds_s: Iterable[float] = (),
        itl_thresholds_s: Iterable[float] = (),
        latest: bool = False,
    ) -> None:
        self.registry = registry = registry or CollectorRegistry()
        self.latest = latest
        labels = ["gen_ai_request_model", "gen_ai_operation_name", "error_type"]
        self._duration = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "GenAI operation duration: from sending a request to the last byte of its answer.",
            labels,
            buckets=latency_buckets(duration_thresholds_s),
            registry=registry,
        )
        self._first_chunk = Histogram(
            "gen_ai_client_operation_time_to_first_chunk_seconds",
            "Time to receive the first chunk of a streamed answer, from sending the request.",
            ["gen_ai_request_model", "gen_ai_operation_name"],
            buckets=latency_buckets(ttft_thresholds_s),
            registry=registry,
        )
        self._per_chunk = Histogram(
            "gen_ai_client_operation_time_per_output_chunk_seconds",
            "Time between consecutive chunks of a streamed answer, after the first.",
            ["gen_ai_request_model", "gen_ai_operation_name"],
            buckets=latency_buckets(itl_thresholds_s),
            registry=registry,
        )
        if latest:
            self._usage = {
                kind: Counter(
                    f"gen_ai_client_inference_usage_{kind}_tokens",
                    f"{kind.capitalize()} tokens used (draft conventions, opted in).",
                    ["gen_ai_request_model", "gen_ai_operation_name", "gen_ai_token_modality"],
                    registry=registry,
                )
                for kind in ("input", "output")
            }
            self._per_operation = {
                kind: Histogram(
                    f"gen_ai_client_inference_operation_{kind}_tokens",
                    f"{kind.capitalize()} tokens per operation (draft conventions, opted in).",
                    ["gen_ai_request_model", "gen_ai_operation_name"],
                    buckets=TOKEN_BUCKETS,
                    registry=registry,
                )
                for kind in ("input", "output")
            }
        else:
            self._tokens = Histogram(
                "gen_ai_client_token_usage",
                "Input and output tokens per operation, as the answer's usage reported them.",
                ["gen_ai_request_model", "gen_ai_operation_name", "gen_ai_token_type"],
                buckets=TOKEN_BUCKETS,
                registry=registry,
            )
        record_semconv(registry, latest)

    def observe(self, outcome: Outcome, model: str, operation: str) -> None:
        error = "" if outcome.error is None else str(outcome.error)
        seconds = (outcome.done_at - outcome.sent_at) / 1e9
        self._duration.labels(model, operation, error).observe(seconds)
        if outcome.first_token_at is not None:  # a streamed answer
            first = (outcome.first_token_at - outcome.sent_at) / 1e9
            self._first_chunk.labels(model, operation).observe(first)
            per_chunk = self._per_chunk.labels(model, operation)
            for gap in outcome.token_gaps_ns:
                per_chunk.observe(gap / 1e9)
        if outcome.error is not None:
            return
        counts = {"input": outcome.input_tokens, "output": outcome.output_tokens}
        for kind, count in counts.items():
            if count is None:
                continue
            if self.latest:
                self._usage[kind].labels(model, operation, "text").inc(count)
                self._per_operation[kind].labels(model, operation).observe(count)
            else:
                self._tokens.labels(model, operation, kind).observe(count)
