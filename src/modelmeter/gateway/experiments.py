"""A/B splits and shadow copies: which arm a request goes to, and the log of what happened.

A unit (the client's key, a header such as a user id, or a body field such as OpenAI's
``user``) is assigned by a hash of the experiment's name and the unit, so the same unit always
sees the same arm, on every worker and every replica, with no state kept; a request that
carries no unit is assigned at random. Every answered request of an experiment is logged to
the run store with its arm (times, status, tokens, cost), in the run
``gateway-<experiment>``, which ``modelmeter ab --run`` analyses like any stored run (sample
ratio, differences, sequential tests) on success, latency, tokens, cost or the feedback
clients send for a request id. Shadow copies are logged under ``<route> (shadow)``.
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

from modelmeter.client import PreparedRequest
from modelmeter.gateway.access import usage_of
from modelmeter.gateway.balance import Backend
from modelmeter.gateway.config import RouteConfig

if TYPE_CHECKING:
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
    """Answered requests of experiments, kept in memory and appended to the store about once
    a second; feedback on them likewise."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._lock = threading.Lock()  # record runs on the loop, flush in a thread
        self._rows: list[dict[str, Any]] = []
        self._feedback: list[tuple[str, float]] = []
        self._arms: dict[str, set[str]] = defaultdict(set)
        self._begun: set[str] = set()

    @staticmethod
    def run_id(experiment: str) -> str:
        return f"gateway-{experiment}"

    def record(
        self,
        experiment: str,
        arm: str,
        request_id: str,
        arrived_ns: int,
        done_ns: int,
        status: int,
        failed: bool,
        usage: tuple[int, int] | None = None,
        cost_pico: int | None = None,
    ) -> None:
        """One answered request; times are ``time.monotonic_ns()`` values."""
        # Stored in wall-clock nanoseconds, so the logs of several processes and restarts
        # line up in one order.
        offset = time.time_ns() - time.monotonic_ns()
        row = {
            "run_id": self.run_id(experiment),
            "arm": arm,
            "request_id": request_id[:64],
            "at_ns": arrived_ns + offset,
            "latency_ns": done_ns - arrived_ns,
            "status": status,
            "failed": int(failed or status >= 500),
            "input_tokens": usage[0] if usage is not None else None,
            "output_tokens": usage[1] if usage is not None else None,
            "cost_pico": cost_pico,
        }
        with self._lock:
            self._rows.append(row)
            self._arms[experiment].add(arm)

    def feedback(self, request_id: str, value: float) -> None:
        """A client's score for an answered request (applied with the next write)."""
        with self._lock:
            self._feedback.append((request_id[:64], value))

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
            feedback, self._feedback = self._feedback, []
            arms = {name: sorted(found) for name, found in self._arms.items()}
        for experiment, names in arms.items():
            run_id = self.run_id(experiment)
            if run_id not in self._begun:
                self.store.begin_gateway_log(
                    run_id, name=f"gateway A/B: {experiment}", models=", ".join(names)
                )
                self._begun.add(run_id)
        self.store.append_gateway_requests(rows)
        if feedback:
            found = self.store.set_feedback(feedback)
            if found < len(feedback):
                logger.warning(
                    "feedback for %d of %d request ids matched no logged request",
                    len(feedback) - found,
                    len(feedback),
                )


async def send_copy(
    backend: Backend,
    prepared: PreparedRequest,
    log: ExperimentLog | None,
    experiment: str,
    route: str,
    arrived_ns: int,
    request_id: str,
) -> None:
    """A shadow copy: sent, its answer read and thrown away, its outcome logged under
    ``<route> (shadow)``; a failure is logged, never the client's problem."""
    status, failed = 0, True
    usage = None
    backend.outstanding += 1
    try:
        response = await backend.client.request(prepared)
        status, failed = response.status, response.status >= 500
        streamed = (response.header("content-type") or b"").startswith(b"text/event-stream")
        usage = usage_of(response.body, streamed)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.debug("shadow copy to %s failed: %s", route, exc)
        status = 502
    finally:
        backend.outstanding -= 1
        if log is not None and status:
            log.record(
                experiment,
                f"{route} (shadow)",
                request_id + ":shadow",  # feedback rates the answer the client got, not this
                arrived_ns,
                time.monotonic_ns(),
                status,
                failed,
                usage,
            )
