"""Prometheus metrics of the local model server, kept in a registry the caller passes in.

With several worker processes the metrics live in prometheus-client's multiprocess mode (one
directory of memory-mapped files shared by the workers), so every scrape of ``/metrics`` reports
the sum over all workers whichever worker answers it. Scrapes that each hit one worker would show
counters jumping between unrelated values, which Prometheus reads as resets.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from modelmeter.definitions import LATENCY_BUCKETS_S
from modelmeter.telemetry.genai import latency_buckets, record_semconv

BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
UNKNOWN_MODEL = "unknown"  # the label for requests naming no served model (bounds cardinality)


class ServeMetrics:
    """The server's metrics.

    ``multiprocess_dir`` switches ``/metrics`` to aggregate over worker processes; it must be the
    directory in ``PROMETHEUS_MULTIPROC_DIR`` when prometheus-client was first imported.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        multiprocess_dir: str | None = None,
        thresholds_s: Sequence[float] = (),
    ) -> None:
        self._registry = registry
        self._multiprocess_dir = multiprocess_dir
        self.requests = Counter(
            "modelmeter_serve_requests",
            "Inference requests answered, by model and HTTP status.",
            ["model", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            # the OpenTelemetry GenAI server name (semantic conventions 1.41.0), as the
            # simulator and the gateway's clients use; the operation is "predict"
            "gen_ai_server_request_duration_seconds",
            "Time from reading an inference request to its response being ready "
            "(queueing, batching and model call included).",
            ["gen_ai_request_model", "gen_ai_operation_name"],
            # an SLA's thresholds among the boundaries: quantiles read there are exact
            buckets=latency_buckets(thresholds_s, base=LATENCY_BUCKETS_S),
            registry=registry,
        )
        if multiprocess_dir is None:  # a gauge set once would be summed over the workers
            record_semconv(registry)
        self.batch_size = Histogram(
            "modelmeter_serve_batch_size",
            "Rows per model call.",
            ["model"],
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "modelmeter_serve_queue_depth",
            "Rows waiting for a batch.",
            ["model"],
            multiprocess_mode="livesum",
            registry=registry,
        )
        if multiprocess_dir is None:
            ProcessCollector(registry=registry)

    def exposition(self) -> tuple[bytes, str]:
        """The body and content type of a ``/metrics`` answer."""
        if self._multiprocess_dir is None:
            return generate_latest(self._registry), CONTENT_TYPE_LATEST
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self._multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged), CONTENT_TYPE_LATEST
