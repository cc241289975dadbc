"""The GenAI metric vocabulary: SLA thresholds become bucket boundaries, outcomes land in the
right instruments, the opt-in is read as the conventions define it, and the live line's
figures come from the window of recent answers."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from modelmeter._exceptions import ErrorKind
from modelmeter.cli._live import LiveStats
from modelmeter.load.outcome import Outcome
from modelmeter.spec.objectives import Sla
from modelmeter.telemetry import latency_buckets, latest_experimental, sla_thresholds_s
from modelmeter.telemetry.client import ClientMetrics

MS = 1_000_000


def test_sla_thresholds_become_boundaries() -> None:
    limits = sla_thresholds_s(Sla(p95_ms=300, p99_ms=1000, ttft_p95_ms=130, itl_p95_ms=7))
    assert limits == {"duration": [0.3, 1.0], "ttft": [0.13], "itl": [0.007]}
    buckets = latency_buckets(limits["duration"])
    assert 0.3 in buckets and buckets == tuple(sorted(set(buckets)))
    assert len(latency_buckets([0.25])) == len(latency_buckets())  # already a boundary
    with pytest.raises(ValueError, match="not a latency threshold"):
        latency_buckets([0.0])


@pytest.mark.parametrize(
    ("value", "opted"),
    [
        ("", False),
        ("gen_ai_latest_experimental", True),
        ("http, gen_ai_latest_experimental", True),
        ("gen_ai_latest", False),
    ],
)
def test_the_opt_in_is_a_comma_separated_list(value: str, opted: bool) -> None:
    assert latest_experimental({"OTEL_SEMCONV_STABILITY_OPT_IN": value}) is opted


def _outcome(sent: int, *, stream: bool = False, error: ErrorKind | None = None) -> Outcome:
    return Outcome(
        "s1", "llm", intended_at=sent - 2 * MS, sent_at=sent, done_at=sent + 40 * MS,
        error=error, input_tokens=None if error else 12, output_tokens=None if error else 5,
        first_token_at=sent + 15 * MS if stream else None,
        token_gaps_ns=(5 * MS, 6 * MS, 7 * MS) if stream else (),
    )  # fmt: skip


def _families(metrics: ClientMetrics) -> dict[str, object]:
    text = generate_latest(metrics.registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families: dict[str, object], name: str, suffix: str, **labels: str) -> float:
    family = families[name]
    return sum(
        s.value
        for s in family.samples  # type: ignore[attr-defined]
        if s.name == name + suffix and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_outcomes_land_in_the_instruments() -> None:
    metrics = ClientMetrics(ttft_thresholds_s=[0.015])
    metrics.observe(_outcome(10**9, stream=True), "llm", "chat")
    metrics.observe(_outcome(2 * 10**9), "llm", "chat")
    metrics.observe(_outcome(3 * 10**9, error=ErrorKind.TIMEOUT), "llm", "chat")
    found = _families(metrics)
    duration = "gen_ai_client_operation_duration_seconds"
    assert _value(found, duration, "_count", error_type="") == 2
    assert _value(found, duration, "_count", error_type="timeout") == 1
    assert _value(found, duration, "_sum") == pytest.approx(0.12)  # service times, 40 ms each
    first = "gen_ai_client_operation_time_to_first_chunk_seconds"
    assert _value(found, first, "_count") == 1  # only the stream
    assert _value(found, first, "_bucket", le="0.015") == 1  # 15 ms, at the boundary
    per_chunk = "gen_ai_client_operation_time_per_output_chunk_seconds"
    assert _value(found, per_chunk, "_count") == 3
    tokens = "gen_ai_client_token_usage"
    assert _value(found, tokens, "_sum", gen_ai_token_type="input") == 24  # failures add none
    latest = ClientMetrics(latest=True)
    latest.observe(_outcome(10**9), "llm", "chat")
    found = _families(latest)
    assert tokens not in found
    usage = "gen_ai_client_inference_usage_output_tokens"
    assert _value(found, usage, "_total", gen_ai_token_modality="text") == 5


def test_the_live_line_reads_the_recent_window() -> None:
    stats = LiveStats(window_s=5.0)
    assert stats.line(0) == "waiting for answers"
    for n in range(100):  # 10 a second for 10 s, 40 ms service, 42 ms response
        stats.add(_outcome(n * 100 * MS, error=ErrorKind.TIMEOUT if n == 95 else None))
    now = 100 * 100 * MS
    line = stats.line(now)
    assert line.startswith("10.0 req/s · ≈0.4 in flight · P50 42.0 ms · P95 42.0 ms")
    assert "errors 1 (1.0%; 1 in the last 5 s)" in line
