"""The live line of a running load phase: rate, requests in flight, P50/P95 and errors over the
last few seconds, drawn next to the progress bar; and the run's Prometheus endpoint.

Figures are over a sliding window of completed requests (5 s): the rate is completions per
second, the percentiles are of response time (from the scheduled send, as in the report), and
the requests in flight are Little's law's mean, rate × mean service time (completed requests
are all the client sees without touching its send path).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from modelmeter.cli._console import RichProgress
from modelmeter.load.outcome import Outcome

__all__ = ["LiveProgress", "LiveStats"]

_REDRAW_NS = 250_000_000  # four times a second is live enough, and costs the client nothing


class LiveStats:
    def __init__(self, window_s: float = 5.0) -> None:
        self.window_ns = int(window_s * 1e9)
        self._recent: deque[tuple[int, int, int, bool]] = deque()
        self.total = 0
        self.failed = 0
        self._first_ns: int | None = None

    def add(self, outcome: Outcome) -> None:
        failed = outcome.error is not None
        self._recent.append(
            (
                outcome.done_at,
                outcome.done_at - outcome.intended_at,
                outcome.done_at - outcome.sent_at,
                failed,
            )
        )
        self.total += 1
        self.failed += failed
        if self._first_ns is None:
            self._first_ns = outcome.done_at

    def line(self, now_ns: int) -> str:
        while self._recent and self._recent[0][0] < now_ns - self.window_ns:
            self._recent.popleft()
        if not self._recent or self._first_ns is None:
            return "waiting for answers"
        span_s = min(self.window_ns, max(now_ns - self._first_ns, 1)) / 1e9
        count = len(self._recent)
        rate = count / span_s
        responses = sorted(r[1] for r in self._recent)
        mean_service_s = sum(r[2] for r in self._recent) / count / 1e9
        recent_failed = sum(r[3] for r in self._recent)

        def quantile(q: float) -> float:
            return responses[min(count - 1, int(q * count))] / 1e6

        share = self.failed / self.total
        return (
            f"{rate:,.1f} req/s · ≈{rate * mean_service_s:,.1f} in flight · "
            f"P50 {quantile(0.5):,.1f} ms · P95 {quantile(0.95):,.1f} ms · "
            f"errors {self.failed:,} ({share:.1%}; {recent_failed:,} in the last "
            f"{self.window_ns / 1e9:g} s)"
        )


class LiveProgress(RichProgress):
    """RichProgress that also receives each outcome: the live line, and ``observe`` (the
    Prometheus metrics) when given."""

    def __init__(
        self,
        observe: Callable[[str, Outcome], None] | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__()
        self._observe = observe
        self._clock = clock
        self._stats = LiveStats()
        self._drawn = 0

    def begin(self, description: str, total: int | None) -> None:
        super().begin(description, total)
        self._stats = LiveStats()

    def outcome(self, target: str, outcome: Outcome) -> None:
        self._stats.add(outcome)
        if self._observe is not None:
            self._observe(target, outcome)
        now = self._clock()
        if now - self._drawn >= _REDRAW_NS:
            self._drawn = now
            self.set_live(self._stats.line(now))
