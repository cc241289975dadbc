"""What the gateway answers itself, without a backend: its health, metrics and routed models,
the spend per key and route (admin keys), and feedback on logged answers."""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING

from modelmeter._exceptions import AccessDenied
from modelmeter.httpserver import Request, error_body, response_bytes

if TYPE_CHECKING:
    from modelmeter.gateway.balance import Balancer
    from modelmeter.gateway.config import ShedConfig
    from modelmeter.gateway.proxy import Proxy

__all__ = ["JSON", "local_answer", "refusal", "shed_if_busy"]

JSON = b"application/json"


class _Reply(Exception):
    """Answer the client with this JSON error instead of forwarding (``route``: the route it
    was for, counted in the metrics; None for a request that named none)."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        route: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.route = route
        self.retry_after_s = retry_after_s


def refusal(reply: _Reply, *, keep_alive: bool, eject_s: float) -> bytes:
    """The error response for ``reply``; a 429 or 503 says when to come back."""
    extra = b""
    if reply.retry_after_s is not None:
        extra = b"retry-after: %d\r\n" % max(1, math.ceil(reply.retry_after_s))
    elif reply.status == 503:
        extra = b"retry-after: %d\r\n" % max(1, round(eject_s))
    return response_bytes(
        reply.status,
        error_body(reply.message, reply.kind),
        keep_alive=keep_alive,
        extra_headers=extra,
    )


def shed_if_busy(route: str, balancer: Balancer, priority: str, shed: ShedConfig) -> None:
    """Refuse (429) a request of ``priority`` while the route is busier than that priority may
    add to: requests in flight over the in-service backends' ``max_in_flight``."""
    now = time.monotonic()
    in_flight = capacity = 0
    for backend in balancer.backends:
        if backend.in_service(now):
            capacity += backend.config.max_in_flight
            in_flight += backend.outstanding
    if capacity == 0:
        return  # every backend is out: the forward answers 503
    share = in_flight / capacity
    limit = 1.0 if priority == "high" else getattr(shed, priority)
    if share >= limit:
        wait = max(b.ewma_s for b in balancer.backends)
        raise _Reply(
            429,
            f"the model {route!r} is busy ({in_flight} requests in flight, {share:.0%} of what "
            f"its backends take); {priority}-priority requests are refused until it is less busy",
            "rate_limit_error",
            route,
            retry_after_s=max(1.0, wait),
        )


def local_answer(request: Request, proxy: Proxy) -> tuple[bytes, bytes] | None:
    """What the gateway answers itself (body, content type): its health, its metrics and
    the models it routes."""
    path = request.path
    if path in ("/health", "/v2/health/live", "/v2/health/ready"):
        return proxy.health, JSON
    if path == "/metrics":
        body, content_type = proxy.metrics.exposition()
        return body, content_type.encode()
    if path == "/gateway/spend":
        return _spend(request, proxy), JSON
    if path == "/gateway/feedback":
        return _feedback(request, proxy), JSON
    if path == "/v1/models":
        if request.method != "GET":
            raise _Reply(405, f"{path} takes GET")
        data = [
            {"id": model, "object": "model", "owned_by": "modelmeter-gateway"}
            for model in proxy.routes
        ]
        return json.dumps({"object": "list", "data": data}).encode(), JSON
    return None


def _spend(request: Request, proxy: Proxy) -> bytes:
    """``GET /gateway/spend``: spend, reservations and requests in flight per key and
    route, for admin keys."""
    access = proxy.access
    if access is None:
        raise _Reply(404, "this gateway has no keys or prices to report", "not_found_error")
    try:
        key = access.identify(request.headers)
    except AccessDenied as denied:
        raise _Reply(denied.status, denied.message, denied.kind) from None
    if key is None or not key.limits.admin:
        raise _Reply(403, "only an admin key may read the spend", "permission_error")
    return json.dumps(access.spend_report()).encode()


def _feedback(request: Request, proxy: Proxy) -> bytes:
    """``POST /gateway/feedback {"request_id", "value"}``: a client's score (a number, such
    as 1 for a thumbs-up and 0 for a thumbs-down) for an answer an experiment logged."""
    if request.method != "POST":
        raise _Reply(405, "/gateway/feedback takes POST")
    if proxy.access is not None:
        try:
            proxy.access.identify(request.headers)
        except AccessDenied as denied:
            raise _Reply(denied.status, denied.message, denied.kind) from None
    if proxy.experiments is None:
        raise _Reply(404, "this gateway runs no experiment to take feedback for")
    try:
        given = json.loads(request.body)
    except (ValueError, RecursionError):
        raise _Reply(400, "the request body is not valid JSON") from None
    request_id = given.get("request_id") if isinstance(given, dict) else None
    value = given.get("value") if isinstance(given, dict) else None
    if not isinstance(request_id, str) or not request_id:
        raise _Reply(400, "'request_id' must be the x-request-id of an answer (a string)")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Reply(400, "'value' must be a finite number, e.g. 1 (good) or 0 (bad)")
    proxy.experiments.feedback(request_id, float(value))
    return b'{"accepted":true}'
