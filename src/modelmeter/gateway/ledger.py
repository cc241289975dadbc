"""The gateway's ledger: spend, reservations, requests in flight and rate buckets per key and
per route, checked and changed as one step, so a budget is never overrun by requests that were
admitted side by side.

A request is admitted only if every limit it falls under still has room for its **worst
case** (its reservation: the most its prompt and ``max_tokens`` can cost); the reservation is
held until the answer's usage says what it cost, and then replaced by that. So the spend of
admitted requests can pass a budget only when a backend reports more tokens than the request
allowed, which `settle` counts.

The cells are 64-bit integers in one buffer: in memory for one process, or in an anonymous
shared mapping (with a process-shared lock) that worker processes forked after it see and
change together. Amounts are picounits (10⁻¹² of the currency), exact; a rate bucket's level
is kept in requests (or tokens) × 60·10⁹, so that refilling it at N per minute for t
nanoseconds adds exactly N·t.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import multiprocessing
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Claim", "Ledger", "Refusal"]

# Cells of one entity (a key or a route), in this order.
_IDENT, _SPENT, _RESERVED, _IN_FLIGHT, _PERIOD, _RPM, _RPM_AT, _TPM, _TPM_AT = range(9)
_CELLS = 9
_MINUTE_NS = 60_000_000_000
INT64_MAX = 2**63 - 1


@dataclass(slots=True)
class Claim:
    """One limit a request falls under, and what it asks of it."""

    slot: int
    cost: int = 0  # picounits reserved
    tokens: int = 0  # tokens reserved against tokens_per_minute
    budget: int | None = None  # picounits per period
    max_concurrent: int | None = None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was not admitted: ``kind`` is budget, concurrency, requests_per_minute or
    tokens_per_minute; ``claim`` the index of the claim that refused it."""

    kind: str
    claim: int
    retry_after_s: float | None


class Ledger:
    """Up to ``capacity`` entities; ``shared=True`` puts the cells where processes forked
    later share them."""

    def __init__(self, capacity: int = 4096, *, shared: bool = False) -> None:
        self.capacity = capacity
        size = capacity * _CELLS * 8
        self._buffer: Any = mmap.mmap(-1, size) if shared else bytearray(size)
        self._cells = memoryview(self._buffer).cast("q")
        self._lock: Any = multiprocessing.Lock() if shared else contextlib.nullcontext()
        self._slots: dict[str, int] = {}

    # -- entities ----------------------------------------------------------------------------

    def slot(self, entity: str) -> int:
        """The slot of ``entity`` ("key:12", "model:big"), claimed on first use; every process
        sharing the cells finds the same one."""
        found = self._slots.get(entity)
        if found is not None:
            return found
        ident = int.from_bytes(hashlib.blake2b(entity.encode(), digest_size=8).digest(), "big")
        ident = (ident & INT64_MAX) or 1  # 0 marks a free slot
        cells = self._cells
        with self._lock:
            for step in range(self.capacity):
                slot = (ident + step) % self.capacity
                base = slot * _CELLS
                held = cells[base + _IDENT]
                if held == ident:
                    break
                if held == 0:
                    cells[base + _IDENT] = ident
                    break
            else:
                raise RuntimeError(
                    f"the gateway's ledger is full ({self.capacity} keys and routes)"
                )
        self._slots[entity] = slot
        return slot

    def entities(self) -> dict[str, int]:
        """The entities this process has looked up, by slot."""
        return dict(self._slots)

    # -- spend -------------------------------------------------------------------------------

    def spent(self, slot: int, period: int) -> int:
        base = slot * _CELLS
        cells = self._cells
        return cells[base + _SPENT] if cells[base + _PERIOD] == period else 0

    def reserved(self, slot: int) -> int:
        return self._cells[slot * _CELLS + _RESERVED]

    def in_flight(self, slot: int) -> int:
        return self._cells[slot * _CELLS + _IN_FLIGHT]

    def restore(self, slot: int, period: int, spent: int) -> None:
        """Set what ``slot`` spent in ``period`` (read back from the store at start)."""
        base = slot * _CELLS
        with self._lock:
            if self._cells[base + _PERIOD] != period or self._cells[base + _SPENT] < spent:
                self._cells[base + _PERIOD] = period
                self._cells[base + _SPENT] = spent

    # -- admission ---------------------------------------------------------------------------

    def admit(self, claims: list[Claim], period: int, now_ns: int | None = None) -> Refusal | None:
        """Reserve every claim, or none of them and say why not."""
        now = time.monotonic_ns() if now_ns is None else now_ns
        cells = self._cells
        with self._lock:
            for index, claim in enumerate(claims):
                base = claim.slot * _CELLS
                if cells[base + _PERIOD] != period:
                    cells[base + _PERIOD] = period
                    cells[base + _SPENT] = 0
                if claim.budget is not None and (
                    cells[base + _SPENT] + cells[base + _RESERVED] + claim.cost > claim.budget
                ):
                    return Refusal("budget", index, None)
                if (
                    claim.max_concurrent is not None
                    and cells[base + _IN_FLIGHT] >= claim.max_concurrent
                ):
                    return Refusal("concurrency", index, 1.0)
                if claim.requests_per_minute is not None:
                    wait = _refill(
                        cells, base + _RPM, base + _RPM_AT, claim.requests_per_minute, now, 1
                    )
                    if wait is not None:
                        return Refusal("requests_per_minute", index, wait)
                if claim.tokens_per_minute is not None:
                    need = min(claim.tokens, claim.tokens_per_minute)
                    wait = _refill(
                        cells, base + _TPM, base + _TPM_AT, claim.tokens_per_minute, now, need
                    )
                    if wait is not None:
                        return Refusal("tokens_per_minute", index, wait)
            for claim in claims:
                base = claim.slot * _CELLS
                cells[base + _RESERVED] += claim.cost
                cells[base + _IN_FLIGHT] += 1
                if claim.requests_per_minute is not None:
                    cells[base + _RPM] -= _MINUTE_NS
                if claim.tokens_per_minute is not None:
                    cells[base + _TPM] -= claim.tokens * _MINUTE_NS
        return None

    def settle(self, claims: list[Claim], cost: int, tokens: int) -> None:
        """Replace each claim's reservation by what the request cost and used."""
        cells = self._cells
        with self._lock:
            for claim in claims:
                base = claim.slot * _CELLS
                cells[base + _RESERVED] -= claim.cost
                cells[base + _SPENT] += cost
                cells[base + _IN_FLIGHT] -= 1
                if claim.tokens_per_minute is not None:
                    cells[base + _TPM] += (claim.tokens - tokens) * _MINUTE_NS


def _refill(
    cells: memoryview, level_at: int, stamp_at: int, per_minute: int, now: int, need: int
) -> float | None:
    """Top up a bucket of ``per_minute`` (one minute's worth at most); None when it holds
    ``need``, else the seconds until it will."""
    full = per_minute * _MINUTE_NS
    stamp = cells[stamp_at]
    level = full if stamp == 0 else min(full, cells[level_at] + (now - stamp) * per_minute)
    cells[level_at] = level
    cells[stamp_at] = now
    short = need * _MINUTE_NS - level
    if short <= 0:
        return None
    return short / per_minute / 1e9
