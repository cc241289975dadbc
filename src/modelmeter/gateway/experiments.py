"""A/B splits and shadow copies: which arm a request goes to, and the log of what happened.

A unit (the client's key, a header such as a user id, or a body field such as OpenAI's
``user``) is assigned by a hash of the experiment's name and the unit, so the same unit always
sees the same arm, on every worker and every replica, with no state kept; a request that
carries no unit is assigned at random. Every answered request of an experiment is logged to
the run store as an outcome of its arm (times, and failed or not), in the run
``gateway-<experiment>``, which ``modelmeter ab --run`` analyses like any stored run (sample
ratio, differences, sequential tests). Shadow copies are logged under ``<route> (shadow)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelmeter._exceptions import ErrorKind
from modelmeter.client import PreparedRequest
from modelmeter.gateway.balance import Backend
from modelmeter.gateway.config import RouteConfig

if TYPE_CHECKING:
    from modelmeter.load.outcome import Outcome
    from modelmeter.store.runs import RunStore

__all__ = ["ExperimentLog", "assign", "in_share", "send_copy", "unit_of"]

logger = logging.getLogger(__name__)
_FULL = float(2**64)


def unit_of(route: RouteConfig, headers: Mapping[str, str], body: Any) -> str | None:
    """The value that makes a request's unit under ``route.split_by``; None when absent."""
    kind, _, name = route.split_by.partition(":")
    if kind == "authorization":
        return headers.get("authorization")
    if kind == "header":
        return headers.get(name.lower())
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def _position(experiment: str, unit: str | None) -> float:
    """Where a unit falls in [0, 1): a hash, the same everywhere; random without a unit."""
    if unit is None:
        return random.random()
    digest = hashlib.blake2b(f"{experiment}\0{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _FULL


def assign(route: RouteConfig, unit: str | None) -> str:
    """The arm (a route's model) the unit goes to, by the split's weights."""
    arms = route.split or []
    total = sum(arm.weight for arm in arms)
    point = _position(route.experiment_name, unit) * total
    for arm in arms:
        point -= arm.weight
        if point < 0:
            return arm.route
    return arms[-1].route


def in_share(route: RouteConfig, unit: str | None, share: float) -> bool:
    """Whether a unit is in the shadowed share (drawn apart from the split's hash)."""
    return _position(route.experiment_name + "\0shadow", unit) < share


class ExperimentLog:
    """Outcomes kept in memory and appended to the store about once a second."""

    def __init__(self, store: RunStore) -> None:
        # Loaded here, not with the module: a gateway without experiments never needs them.
        from modelmeter.load.outcome import Outcome

        self._outcome = Outcome
        self.store = store
        self._lock = threading.Lock()  # record runs on the loop, flush in a thread
        self._pending: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
        self._begun: set[str] = set()
        self._count = 0

    @staticmethod
    def run_id(experiment: str) -> str:
        return f"gateway-{experiment}"

    def record(
        self, experiment: str, arm: str, arrived_ns: int, done_ns: int, status: int, failed: bool
    ) -> None:
        """One answered request; times are ``time.monotonic_ns()`` values."""
        # Stored in wall-clock nanoseconds, so the logs of several processes and restarts
        # line up in one order.
        offset = time.time_ns() - time.monotonic_ns()
        self._count += 1
        outcome = self._outcome(
            sample_id=str(self._count),
            target=arm,
            intended_at=arrived_ns + offset,
            sent_at=arrived_ns + offset,
            done_at=done_ns + offset,
            error=ErrorKind.HTTP_STATUS if failed or status >= 500 else None,
        )
        with self._lock:
            self._pending[(experiment, arm)].append(outcome)

    def flush(self) -> None:
        from modelmeter.store.runs import GATEWAY_PHASE

        with self._lock:
            pending, self._pending = self._pending, defaultdict(list)
        arms_of: dict[str, set[str]] = defaultdict(set)
        for experiment, arm in pending:
            arms_of[experiment].add(arm)
        for experiment, arms in arms_of.items():
            run_id = self.run_id(experiment)
            if run_id not in self._begun:
                self.store.begin_gateway_log(
                    run_id, name=f"gateway A/B: {experiment}", models=", ".join(sorted(arms))
                )
                self._begun.add(run_id)
        for (experiment, arm), outcomes in pending.items():
            self.store.append_outcomes(self.run_id(experiment), arm, GATEWAY_PHASE, outcomes)


async def send_copy(
    backend: Backend,
    prepared: PreparedRequest,
    log: ExperimentLog | None,
    experiment: str,
    route: str,
    arrived_ns: int,
) -> None:
    """A shadow copy: sent, its answer read and thrown away, its outcome logged under
    ``<route> (shadow)``; a failure is logged, never the client's problem."""
    status, failed = 0, True
    backend.outstanding += 1
    try:
        response = await backend.client.request(prepared)
        status, failed = response.status, response.status >= 500
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.debug("shadow copy to %s failed: %s", route, exc)
        status = 502
    finally:
        backend.outstanding -= 1
        if log is not None and status:
            log.record(
                experiment, f"{route} (shadow)", arrived_ns, time.monotonic_ns(), status, failed
            )
