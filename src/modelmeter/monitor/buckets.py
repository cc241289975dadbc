"""The bucket check: are the SLA's latency thresholds boundaries of the histograms a live
server exports?

``histogram_quantile`` interpolates linearly inside a bucket, so a P95 that falls between two
boundaries can be read anywhere between them: a 300 ms threshold between buckets at 250 ms and
500 ms cannot tell 260 ms from 490 ms (vLLM's request histograms start at 0.3 s, so a P99 under
300 ms cannot be read at all). And a burn-rate objective counts fast requests as one bucket, so
it needs the threshold to be a boundary exactly. This reads a ``/metrics`` page (any server's:
vLLM, Triton, serve, the gateway) and says, per histogram in seconds and per threshold, whether
it is a boundary, and if not, which two enclose it: the most a quantile read there can be off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["BucketFinding", "check_buckets"]


@dataclass(frozen=True)
class BucketFinding:
    histogram: str
    threshold_s: float
    what: str  # which SLA limit
    exact: bool
    below_s: float | None  # the enclosing boundaries when not exact
    above_s: float | None

    @property
    def error_bound_s(self) -> float | None:
        """How far off a quantile read at the threshold can be (None: not bounded)."""
        if self.exact:
            return 0.0
        if self.below_s is None or self.above_s is None or math.isinf(self.above_s):
            return None
        return self.above_s - self.below_s


def check_buckets(metrics_text: str, thresholds: dict[str, float]) -> list[BucketFinding]:
    """For each histogram whose name says seconds, and each threshold (name → seconds).
    Raises ValueError when the text is not Prometheus's exposition format."""
    findings = []
    try:
        families = list(text_string_to_metric_families(metrics_text))
    except Exception as exc:  # the parser raises ValueError and others for a bad page
        raise ValueError(f"not Prometheus's text format: {exc}") from None
    for family in families:
        if family.type != "histogram" or "seconds" not in family.name:
            continue
        boundaries = sorted(
            {
                float(sample.labels["le"])
                for sample in family.samples
                if sample.name.endswith("_bucket") and "le" in sample.labels
            }
        )
        if not boundaries:
            continue
        for what, seconds in thresholds.items():
            exact = any(math.isclose(b, seconds, rel_tol=1e-9) for b in boundaries)
            below = [b for b in boundaries if b < seconds]
            above = [b for b in boundaries if b > seconds]
            findings.append(
                BucketFinding(
                    family.name,
                    seconds,
                    what,
                    exact,
                    None if exact or not below else below[-1],
                    None if exact or not above else above[0],
                )
            )
    return findings
