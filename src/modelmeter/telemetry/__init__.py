"""Prometheus metrics in the OpenTelemetry GenAI vocabulary: names, the semantic conventions'
version and opt-in, SLA-derived histogram boundaries (`genai`), and the client-side metrics of
a running study (`client.ClientMetrics`, imported from there: the servers that use `genai`
need none of the load engine it reads)."""

from modelmeter.telemetry.genai import (
    OPT_IN_ENV,
    OPT_IN_VALUE,
    SEMCONV_VERSION,
    TOKEN_BUCKETS,
    latency_buckets,
    latest_experimental,
    sla_thresholds_s,
)

__all__ = [
    "OPT_IN_ENV",
    "OPT_IN_VALUE",
    "SEMCONV_VERSION",
    "TOKEN_BUCKETS",
    "latency_buckets",
    "latest_experimental",
    "sla_thresholds_s",
]
