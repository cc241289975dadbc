"""``promtool test rules`` files that prove the alerts do what ``rules`` says, on synthetic series.

For each objective, three scenarios at 1,000 requests a minute, sampled every minute:

* **background**: a steady 0.1% of bad requests (a tenth of the budget, if that is smaller) for
  a day: no alert at any check (every window's share is then the background's, so a longer
  run would say the same and take ``promtool`` minutes);
* **outage**: six quiet hours, then every request bad: a page within the time the burn-rate
  arithmetic states (and nothing before the outage);
* **slow burn**: six quiet hours, then twice the budget's rate for twelve hours: a ticket,
  never a page.

Which alerts fire at each checked minute is worked out here from the series (each window's
share of bad requests, compared with each burn threshold), and only at minutes where every
comparison is clear of its threshold by 10%, so that Prometheus's extrapolation at the edges of
a window cannot turn a check into a coin toss. ``Scenario.first_minutes`` is when the page (or
ticket) first fires, for the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from modelmeter.monitor.rules import ALERT, BURNS, MINUTES, alert_annotations, le_label
from modelmeter.monitor.slos import Slo
from modelmeter.monitor.sources import Source

__all__ = ["Scenario", "rule_tests"]

_PER_MINUTE = 1000.0
_QUIET = 360  # minutes before a burn starts
_CLEAR = 0.10  # how far from every threshold a checked minute must be


@dataclass
class Scenario:
    name: str
    bad: list[float]  # bad requests in each minute (index 0: the first sample, no increment)
    onset: int
    checks: dict[int, set[str]] = field(default_factory=dict)  # minute -> severities firing
    first_minutes: dict[str, int] = field(default_factory=dict)  # severity -> minutes to fire


def _background(slo: Slo) -> float:
    return min(0.001, slo.budget / 10)


def _scenarios(slo: Slo) -> list[Scenario]:
    quiet = _background(slo) * _PER_MINUTE
    # every request bad; for a spend objective (budget 1), a runaway at 20 times the budget
    worst = max(_PER_MINUTE, 20 * slo.budget * _PER_MINUTE)
    # a spend rate is over the whole 3-day window (no request count cancels the missing
    # history), so twice the budget needs 36 hours to open a ticket: burn for two days
    slow_minutes = 2880 if slo.spend_per_s is not None else 720
    return [
        Scenario("background", [0.0] + [quiet] * 1440, onset=0),
        Scenario("outage", [0.0] + [quiet] * _QUIET + [worst] * 60, onset=_QUIET),
        Scenario(
            "slow burn",
            [0.0] + [quiet] * _QUIET + [2 * slo.budget * _PER_MINUTE] * slow_minutes,
            onset=_QUIET,
        ),
    ]


class _Judge:
    """Which severities fire at a minute, by the same arithmetic as the rules."""

    def __init__(self, slo: Slo, bad: list[float]) -> None:
        self.slo = slo
        self.bad = list(accumulate(bad))
        self.total = [0.0] + [_PER_MINUTE * m for m in range(1, len(bad))]

    def _ratio(self, minute: int, window: str) -> float:
        start = max(0, minute - MINUTES[window])
        if self.slo.spend_per_s is not None:
            # a rate over a window reaching before the first sample is divided by the whole
            # window, as Prometheus does: a constant budget rate does not cancel it out
            return (self.bad[minute] - self.bad[start]) / (_PER_MINUTE * MINUTES[window])
        total = self.total[minute] - self.total[start]
        return (self.bad[minute] - self.bad[start]) / total if total else 0.0

    def firing(self, minute: int) -> tuple[set[str], bool]:
        """Severities firing at ``minute``, and whether every comparison was clear."""
        firing, clear = set(), True
        for burn in BURNS:
            limit = burn.factor * self.slo.budget
            ratios = [self._ratio(minute, burn.long), self._ratio(minute, burn.short)]
            clear &= all(abs(r - limit) >= _CLEAR * limit for r in ratios)
            if all(r > limit for r in ratios):
                firing.add(burn.severity)
        return firing, clear


def _plan(slo: Slo, scenario: Scenario) -> Scenario:
    judge = _Judge(slo, scenario.bad)
    last = len(scenario.bad) - 1
    for minute in range(1, last + 1):
        firing, _ = judge.firing(minute)
        for severity in firing:
            scenario.first_minutes.setdefault(severity, minute - scenario.onset)
    wanted = [60, 720] if scenario.name == "background" else [scenario.onset - 1]
    for severity in sorted(scenario.first_minutes):
        wanted.append(scenario.onset + scenario.first_minutes[severity] + 2)
    wanted.append(last)
    for minute in wanted:
        for candidate in range(minute, min(minute + 30, last) + 1):  # the next clear minute
            firing, clear = judge.firing(candidate)
            if clear:
                scenario.checks[candidate] = firing
                break
    return scenario


def _values(increments: list[float]) -> str:
    """Expanding notation of a counter with these per-minute increments, runs compressed."""
    parts, value, start = ["0"], 0.0, 1
    while start < len(increments):
        end = start
        while end + 1 < len(increments) and increments[end + 1] == increments[start]:
            end += 1
        step, count = increments[start], end - start + 1
        parts.append(f"{value + step:.6g}+{step:.6g}x{count - 1}")
        value += step * count
        start = end + 1
    return " ".join(parts)


def _series(slo: Slo, source: Source, bad: list[float]) -> list[dict[str, str]]:
    if slo.spend_per_s is not None:
        # "bad" is spend in units of the budget's even rate: 1,000 a minute spends it exactly
        per_unit = slo.spend_per_s * 60 / _PER_MINUTE
        spend = f'{source.spend}{{route="chat",currency="{slo.currency}"}}'
        return [{"series": spend, "values": _values([b * per_unit for b in bad])}]
    good = [0.0] + [_PER_MINUTE - b for b in bad[1:]]
    total = [0.0] + [_PER_MINUTE] * (len(bad) - 1)
    if slo.histogram is None:
        return [
            {"series": f'{source.requests}{{status="200"}}', "values": _values(good)},
            {"series": f'{source.requests}{{status="500"}}', "values": _values(bad)},
        ]
    assert slo.threshold_s is not None
    le = le_label(slo.threshold_s)
    return [
        {"series": f'{slo.histogram}_bucket{{le="{le}"}}', "values": _values(good)},
        {"series": f"{slo.histogram}_count", "values": _values(total)},
    ]


def _expected(slo: Slo, firing: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "exp_labels": {"slo": slo.name, "severity": severity},
            "exp_annotations": alert_annotations(slo, severity),
        }
        for severity in sorted(firing)
    ]


def rule_tests(
    slos: list[Slo], source: Source, rule_file: str
) -> tuple[dict[str, Any], dict[str, list[Scenario]]]:
    """The test file's content, and per objective its scenarios (for the summary)."""
    tests = []
    planned: dict[str, list[Scenario]] = {}
    for slo in slos:
        planned[slo.name] = []
        for scenario in _scenarios(slo):
            _plan(slo, scenario)
            planned[slo.name].append(scenario)
            tests.append(
                {
                    "name": f"{slo.name}: {scenario.name}",
                    "interval": "1m",
                    "input_series": _series(slo, source, scenario.bad),
                    "alert_rule_test": [
                        {
                            "eval_time": f"{minute}m",
                            "alertname": ALERT,
                            "exp_alerts": _expected(slo, firing),
                        }
                        for minute, firing in sorted(scenario.checks.items())
                    ],
                }
            )
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}, planned
