"""One metric vocabulary for every part of modelmeter that exports Prometheus metrics: the
OpenTelemetry GenAI semantic conventions' names, in base units (seconds, tokens), with
histogram boundaries that include the SLA's thresholds.

The GenAI conventions are all in development. What is emitted by default follows semantic
conventions 1.41.0 (``gen_ai.client.operation.duration``, ``..time_to_first_chunk``,
``..time_per_output_chunk``, ``gen_ai.client.token.usage``; ``gen_ai.server.*`` for servers).
The drafted rework of the token metrics (``gen_ai.client.inference.usage.*`` counters and the
per-operation token histograms) is emitted instead of ``gen_ai.client.token.usage`` only with
``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``, the convention's own switch.
Every registry carries ``modelmeter_semconv_info{version, opt_in}`` so a dashboard can tell
which names it reads.

A histogram quantile is exact only at a bucket boundary, so the SLA's thresholds (P95/P99
response time, TTFT, inter-token latency) are added to the default boundaries
(:func:`latency_buckets`): ``histogram_quantile`` and the burn-rate rules then count exactly
the requests over the limit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Gauge

from modelmeter.definitions import LATENCY_BUCKETS_S

__all__ = [
    "OPT_IN_ENV",
    "OPT_IN_VALUE",
    "SEMCONV_VERSION",
    "TOKEN_BUCKETS",
    "latency_buckets",
    "latest_experimental",
    "record_semconv",
    "sla_thresholds_s",
]

SEMCONV_VERSION = "1.41.0"
OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
OPT_IN_VALUE = "gen_ai_latest_experimental"

# The boundaries the conventions advise for token counts: 1, 4, 16, ..., 67,108,864.
TOKEN_BUCKETS = tuple(float(4**n) for n in range(14))
# From tens of microseconds (a local model, the gateway's own time) to minutes (long answers).
_WIDE = (0.00005, *LATENCY_BUCKETS_S, 30.0, 60.0, 120.0)


def record_semconv(registry: CollectorRegistry, latest: bool = False) -> None:
    """Add ``modelmeter_semconv_info{version, opt_in} 1`` to a prometheus-client registry."""
    info = Gauge(
        "modelmeter_semconv_info",
        "The OpenTelemetry semantic conventions these metrics follow (always 1).",
        ["version", "opt_in"],
        registry=registry,
    )
    info.labels(SEMCONV_VERSION, OPT_IN_VALUE if latest else "").set(1)


def latest_experimental(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user opted in to the latest experimental GenAI conventions."""
    value = (environ if environ is not None else os.environ).get(OPT_IN_ENV, "")
    return OPT_IN_VALUE in {part.strip() for part in value.split(",")}


def latency_buckets(
    thresholds_s: Iterable[float] = (), base: Iterable[float] = _WIDE
) -> tuple[float, ...]:
    """``base`` boundaries with every threshold added (rounded to the microsecond, so 0.3
    stays 0.3); ValueError for a threshold that is not a positive number."""
    found = set(base)
    for value in thresholds_s:
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{value!r} is not a latency threshold in seconds (above 0)")
        found.add(round(float(value), 6))
    return tuple(sorted(found))


def sla_thresholds_s(sla: object) -> dict[str, list[float]]:
    """The SLA's latency limits in seconds, by what they limit: ``duration`` (p95_ms,
    p99_ms), ``ttft`` (ttft_p95_ms), ``itl`` (itl_p95_ms). ``sla`` is the spec's
    ``objectives.sla`` (any object with those attributes)."""
    found: dict[str, list[float]] = {"duration": [], "ttft": [], "itl": []}
    for name, kind in (
        ("p95_ms", "duration"),
        ("p99_ms", "duration"),
        ("ttft_p95_ms", "ttft"),
        ("itl_p95_ms", "itl"),
    ):
        value = getattr(sla, name, None)
        if value is not None:
            found[kind].append(float(value) / 1000)
    return found
