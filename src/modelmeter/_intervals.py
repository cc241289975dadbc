"""Intervals as people write them: 90s, 30m, 1h, 1d (or plain seconds)."""

from __future__ import annotations

import math
import re

__all__ = ["parse_interval"]

_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3_600.0, "d": 86_400.0, "w": 604_800.0}
_INTERVAL = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*$")


def parse_interval(text: str) -> float:
    """Seconds in ``text``; ValueError saying what is allowed."""
    found = _INTERVAL.match(text.lower())
    unit = found.group(2) if found else ""
    if found is None or (unit and unit not in _UNITS):
        raise ValueError(f"{text!r} is not an interval: a number with s, m, h, d or w (e.g. 1h)")
    seconds = float(found.group(1)) * _UNITS.get(unit, 1.0)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{text!r} is not an interval: it must be above zero")
    return seconds
