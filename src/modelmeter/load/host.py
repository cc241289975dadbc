"""How busy the host was around a load phase: other processes before it, steal during it.

A phase measured on a host that other work keeps busy runs slower than the same phase on a quiet
one, and nothing in its own figures says so. Two readings catch it, both from ``/proc/stat``
(Linux; elsewhere they are None and the report says nothing about the host):

- **Busy before the phase**: the share of all cores that was busy during a short quiet window
  just before the phase, when neither the load generator nor a local target is working. Whatever
  ran then was someone else's work, and it is likely still running.
- **Steal during the phase**: the share of time the hypervisor gave this machine's virtual CPUs
  to other guests, counted by the kernel.

The load average over one minute is recorded beside them, as the operating system reports it.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuTimes", "HostReading", "busy_before", "cpu_times", "host_reading"]

_PROC_STAT = Path("/proc/stat")
QUIET_WINDOW_S = 0.3
"""How long the host is watched before a phase; short, as it delays every phase."""


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Cumulative jiffies of all CPUs: busy (user to softirq), idle (idle + iowait), steal."""

    busy: int
    idle: int
    steal: int

    @property
    def total(self) -> int:
        return self.busy + self.idle + self.steal


def cpu_times(path: Path = _PROC_STAT) -> CpuTimes | None:
    """The ``cpu`` line of ``/proc/stat``, or None where there is none."""
    try:
        with path.open(encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return CpuTimes(busy=user + nice + system + irq + softirq, idle=idle + iowait, steal=steal)


def _share(before: CpuTimes, after: CpuTimes, part: str) -> float | None:
    total = after.total - before.total
    if total <= 0:
        return None
    used: int = getattr(after, part) - getattr(before, part)
    return 100.0 * used / total


async def busy_before(window_s: float = QUIET_WINDOW_S) -> float | None:
    """Percent of all cores that processes other than this one kept busy during ``window_s``
    of waiting (None off Linux). This process's own threads (a progress display, say) are
    taken out, so what is left is other work on the host."""
    before = cpu_times()
    if before is None:
        return None
    own_before, wall_before = time.process_time(), time.perf_counter()
    await asyncio.sleep(window_s)
    after = cpu_times()
    own_s, wall_s = time.process_time() - own_before, time.perf_counter() - wall_before
    busy = None if after is None else _share(before, after, "busy")
    if busy is None or wall_s <= 0:
        return busy
    own = 100.0 * own_s / (wall_s * (os.cpu_count() or 1))
    return max(0.0, busy - own)


@dataclass(frozen=True, slots=True)
class HostReading:
    """The host around one phase: busy share before, steal during, the 1-minute load average."""

    busy_before_percent: float | None
    steal_percent: float | None
    load_average: float | None
    cores: int


def host_reading(
    busy_before_percent: float | None, start: CpuTimes | None, end: CpuTimes | None
) -> HostReading:
    steal = _share(start, end, "steal") if start is not None and end is not None else None
    try:
        load: float | None = os.getloadavg()[0]
    except OSError:
        load = None
    return HostReading(
        busy_before_percent=busy_before_percent,
        steal_percent=steal,
        load_average=load,
        cores=os.cpu_count() or 1,
    )
