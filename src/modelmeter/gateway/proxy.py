"""Answering one client request: find its route, pick a backend, stream the answer back.

The answer is passed through as it arrives: the upstream head is turned into the gateway's own
the moment it is read (`HttpClient`'s ``on_head``), each body piece is written to the client as
one HTTP chunk when it is read, nothing is buffered (an HTTP/1.0 client, which cannot take
chunks, is the exception: its answer is sent whole).

A failure that has sent the client nothing yet (no connection, a reset, a timeout, a 5xx head)
is tried again on another backend of the route, up to ``retries`` more; when the route has none
left (all tried or ejected) its ``fallback`` route is tried the same way. A failure after the
first byte went out cannot be retried (the client has part of an answer): the client's
connection is closed, which it sees as a cut answer. Each answer says which backend gave it
(``x-modelmeter-backend``) and, when a fallback did, ``x-modelmeter-fallback``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelmeter._exceptions import (
    AccessDenied,
    ConnectFailed,
    ConnectionReset,
    ProtocolFailure,
    RequestTimeout,
)
from modelmeter.client import PreparedRequest, ReadControl
from modelmeter.gateway.access import Access, Ticket, prompt_tokens_estimate, usage_of
from modelmeter.gateway.balance import Backend, Balancer
from modelmeter.gateway.cache import ResponseCache, cache_key
from modelmeter.gateway.config import GatewayConfig, RouteConfig, ShadowConfig
from modelmeter.gateway.experiments import ExperimentLog, assign, in_share, send_copy, unit_of
from modelmeter.gateway.local import _Reply, local_answer, refusal, shed_if_busy
from modelmeter.gateway.metrics import GatewayMetrics
from modelmeter.gateway.relay import Record, Relay
from modelmeter.gateway.shared_cache import RedisCache, open_cache
from modelmeter.httpserver import (
    Connection,
    Request,
    response_bytes,
)

if TYPE_CHECKING:
    from modelmeter.gateway.semantic import Probe, SemanticCache
    from modelmeter.gateway.traffic import TrafficLog

__all__ = ["Proxy", "Route"]

logger = logging.getLogger(__name__)

OPENAI_POSTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
_FAILURES = (ConnectFailed, ConnectionReset, RequestTimeout, ProtocolFailure)


@dataclass
class Route:
    config: RouteConfig
    balancer: Balancer


class Proxy:
    """The `httpserver` handler of the gateway."""

    def __init__(
        self, config: GatewayConfig, backends: dict[str, Backend], access: Access | None = None
    ) -> None:
        self.metrics = GatewayMetrics(backends, (ms / 1000 for ms in config.bucket_ms))
        self.health = b'{"status":"ok"}'
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self.cache: ResponseCache | RedisCache | None = None
        self.semantic: SemanticCache | None = None
        self.traffic: TrafficLog | None = None  # set by the server, with the store
        self.experiments: ExperimentLog | None = None
        self._copies = 0  # shadow copies in flight
        self.use(config, backends, access)

    def use(
        self, config: GatewayConfig, backends: dict[str, Backend], access: Access | None = None
    ) -> None:
        """Route by ``config`` from now on; requests under way finish as they started."""
        self.access = access
        settings = config.cache
        old = getattr(self, "config", None)
        previous = getattr(self, "cache", None)
        if settings is None:
            self.cache = None
        elif old is None or old.cache != settings or previous is None:
            self.cache = open_cache(settings)
        if isinstance(previous, RedisCache) and previous is not self.cache:
            self._closing.add(asyncio.get_running_loop().create_task(previous.close()))
        semantic = settings.semantic if settings is not None else None
        earlier = self.semantic
        if semantic is None:
            self.semantic = None
        elif earlier is None or earlier.settings != semantic or self.cache is not previous:
            # imported here: NumPy costs a gateway without a semantic cache 10 MiB and 0.1 s
            from modelmeter.gateway.semantic import SemanticCache

            self.semantic = SemanticCache(semantic, self.metrics.semantic)
        if earlier is not None and earlier is not self.semantic:
            self._closing.add(asyncio.get_running_loop().create_task(earlier.close()))
        self.config = config
        self.backends = backends
        self.routes = {
            route.model: Route(
                route, Balancer([backends[name] for name in route.backends], route.balance)
            )
            for route in config.routes
        }
        self.metrics.watch(backends)

    # -- httpserver.Handler ----------------------------------------------------------------

    def handle(self, connection: Connection, request: Request) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(connection, request))
        connection.context = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def connection_lost(self, connection: Connection) -> None:
        task = connection.context
        if isinstance(task, asyncio.Task) and not task.done():
            task.cancel()  # the upstream request is dropped with it

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if isinstance(self.cache, RedisCache):
            await self.cache.close()
        if self.semantic is not None:
            await self.semantic.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # -- one request -----------------------------------------------------------------------

    async def _answer(self, connection: Connection, request: Request) -> None:
        try:
            local = self._local_answer(request)
            if local is not None:
                body, content_type = local
                connection.respond(
                    response_bytes(
                        200, body, keep_alive=request.keep_alive, content_type=content_type
                    ),
                    keep_alive=request.keep_alive,
                )
                return
            route, body = self._route_of(request)
            asked = route.config
            experiment = None
            record = Record()
            traffic = self.traffic
            if traffic is not None and traffic.sampled():
                record.logged, record.keep_answer = True, traffic.keeps_bodies
            if asked.split or asked.shadow or record.logged:
                record.meter = True
                record.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
                request.headers["x-request-id"] = record.request_id  # sent on, and answered
            if asked.split or asked.shadow:
                experiment = asked.experiment_name
                unit = unit_of(asked, request.headers, body)
                if asked.split:
                    route = self.routes[assign(asked, unit)]
                shadow = asked.shadow
                if shadow is not None and in_share(asked, unit, shadow.share):
                    self._copy(request, self.routes[shadow.route], shadow, experiment)
            access = self.access
            client_key = access.identify(request.headers) if access is not None else None
            priority = client_key.limits.priority if client_key is not None else "normal"
            shed_if_busy(route.config.model, route.balancer, priority, self.config.shed)
            key = self._cache_key(request, route, body)
            ticket = None
            if access is not None:
                ticket = access.admit(client_key, route.config, request.path, request.body, body)
            try:
                if key is not None and await self._replayed(connection, request, route, key):
                    record.status, record.cache = 200, "hit"
                    return
                probe = None
                semantic = self.semantic  # the one this request started with, through a reload
                if key is not None and semantic is not None:
                    scope = self._cache_scope(request)
                    probe = await semantic.probe(route.config.model, request.path, body, scope)
                    if probe is not None and await self._replayed_similar(
                        connection, request, route, semantic, probe
                    ):
                        record.status, record.cache = 200, "semantic"
                        return
                if key is not None:
                    record.cache = "miss"
                data = json.dumps(body).encode() if ticket is not None and ticket.rewrote else None
                await self._forward(connection, request, route, body, key, ticket, data, record)
                answered = record.status == 200 and not record.cut  # so its answer is cached
                if answered and semantic is not None and probe is not None and key is not None:
                    semantic.add(probe, key)
            except _Reply as refused:
                record.status = refused.status
                raise
            finally:
                cost = self._cost(route, record) if record.usage is not None else None
                if record.usage is not None:
                    self.metrics.used(route.config.model, *record.usage)
                if cost is not None:
                    self.metrics.spent(route.config.model, self.config.currency, cost)
                if ticket is not None and access is not None:
                    # last: once the ledger shows nothing in flight, the metrics are complete
                    self._settle(access, ticket, route.config.model)
                if experiment is not None and self.experiments is not None and record.status:
                    self._log(experiment, route, request, record)
                if record.logged and traffic is not None and record.status:
                    name = client_key.name if client_key is not None else None
                    traffic.record(
                        route.config.model,
                        record,
                        request.arrived_ns,
                        request.body,
                        name,
                        cost,
                    )
        except asyncio.CancelledError:
            raise
        except AccessDenied as denied:
            self.metrics.refused(route.config.model, denied.kind)
            reply = _Reply(
                denied.status, denied.message, denied.kind, route.config.model, denied.retry_after_s
            )
            self._refuse(connection, request, reply)
        except _Reply as reply:
            if reply.status == 429 and reply.route is not None:
                self.metrics.refused(reply.route, reply.kind)
            self._refuse(connection, request, reply)
        except Exception:
            # A bug of the gateway's, not the client's. Part of an answer may have gone out,
            # so the connection is closed rather than answered: the client sees an error, not
            # a request that hangs.
            logger.exception("the gateway failed on %s %s", request.method, request.path[:200])
            if connection.transport is not None:
                connection.transport.close()
            connection.finish_response(keep_alive=False)

    def _log(self, experiment: str, route: Route, request: Request, record: Record) -> None:
        """One answered request of an experiment, with its tokens and, where the route has a
        price, its cost."""
        assert self.experiments is not None
        cost = self._cost(route, record)
        self.experiments.record(
            experiment,
            route.config.model,
            record.request_id,
            request.arrived_ns,
            time.monotonic_ns(),
            record.status,
            record.cut,
            record.usage,
            cost,
        )

    def _cost(self, route: Route, record: Record) -> int | None:
        """The answer's cost in picounits, where the route has a price and it reported usage."""
        price = self.access.prices.get(route.config.model) if self.access is not None else None
        return price.cost(*record.usage) if price is not None and record.usage else None

    def _refuse(self, connection: Connection, request: Request, reply: _Reply) -> None:
        if reply.route is not None:
            self.metrics.answered(
                reply.route,
                "none",
                reply.status,
                total_s=(time.monotonic_ns() - request.arrived_ns) / 1e9,
                first_byte_s=None,
            )
        data = refusal(reply, keep_alive=request.keep_alive, eject_s=self.config.eject_s)
        connection.respond(data, keep_alive=request.keep_alive)

    def _local_answer(self, request: Request) -> tuple[bytes, bytes] | None:
        return local_answer(request, self)

    def _route_of(self, request: Request) -> tuple[Route, Any]:
        """The route a request asks for, and its JSON body when the model is named there."""
        path = request.path
        if path in OPENAI_POSTS:
            if request.method != "POST":
                raise _Reply(405, f"{path} takes POST")
            try:
                body = json.loads(request.body)
            except (ValueError, RecursionError):
                raise _Reply(400, "the request body is not valid JSON") from None
            model = body.get("model") if isinstance(body, dict) else None
            if not isinstance(model, str) or not model:
                raise _Reply(400, "the request body must name a 'model' (a string)")
            route = self._route(model)
            if route.config.max_input_tokens is not None:
                route = self._long_context(route, body)
            return route, body
        if path.startswith("/v2/models/"):
            model = path.removeprefix("/v2/models/").split("/", 1)[0]
            return self._route(model), None
        raise _Reply(404, f"no route {request.method} {path}", "not_found_error")

    def _copy(self, request: Request, route: Route, shadow: ShadowConfig, experiment: str) -> None:
        """Send a copy of ``request`` to ``route`` in the background (`experiments.send_copy`);
        skipped while ``max_in_flight`` copies are under way or the route has no backend."""
        backend = route.balancer.pick()
        if self._copies >= shadow.max_in_flight or backend is None:
            return
        body = None
        if request.path in OPENAI_POSTS and backend.config.model is not None:
            body = json.loads(request.body)
        prepared = self._prepare(backend, request, body)
        self._copies += 1

        def done(task: asyncio.Task[None]) -> None:
            self._copies -= 1
            self._tasks.discard(task)

        copy = send_copy(
            backend,
            prepared,
            self.experiments,
            experiment,
            route.config.model,
            request.arrived_ns,
            request.headers.get("x-request-id", ""),
        )
        task = asyncio.get_running_loop().create_task(copy)
        self._tasks.add(task)
        task.add_done_callback(done)

    def _settle(self, access: Access, ticket: Ticket, route: str) -> None:
        over = access.settle(ticket)
        if over:
            logger.warning(
                "a backend of %s reported %d tokens more than the request allowed", route, over
            )
            self.metrics.over_reservation(route)

    def _cache_key(self, request: Request, route: Route, body: Any) -> bytes | None:
        settings = self.config.cache
        if self.cache is None or settings is None or body is None or request.method != "POST":
            return None
        return cache_key(route.config.model, request.path, body, self._cache_scope(request))

    def _cache_scope(self, request: Request) -> str | None:
        """The client's key when answers are kept per key (the default), else None."""
        settings = self.config.cache
        if settings is not None and settings.share_across_keys:
            return None
        return request.headers.get("authorization")

    async def _replayed(
        self,
        connection: Connection,
        request: Request,
        route: Route,
        key: bytes,
        similarity: float | None = None,
    ) -> bool:
        """Answer from the cache when it holds the answer under ``key`` (this request's, or,
        with a ``similarity``, that of a request that means the same)."""
        cache = self.cache
        assert cache is not None
        entry = await cache.get(key) if isinstance(cache, RedisCache) else cache.get(key)
        if entry is None:
            return False
        replay = entry.replay(
            keep_alive=request.keep_alive,
            chunked=request.http11,
            request_id=request.headers.get("x-request-id"),  # the client's, or the log's
        )
        if similarity is not None:
            self.metrics.semantic("hit")
            replay = replay.replace(
                b"x-modelmeter-cache: hit\r\n",
                b"x-modelmeter-cache: semantic\r\nx-modelmeter-cache-similarity: %.4f\r\n"
                % similarity,
                1,
            )
        connection.respond(replay, keep_alive=request.keep_alive)
        elapsed = (time.monotonic_ns() - request.arrived_ns) / 1e9
        self.metrics.answered(
            route.config.model, "cache", 200, total_s=elapsed, first_byte_s=elapsed
        )
        return True

    async def _replayed_similar(
        self,
        connection: Connection,
        request: Request,
        route: Route,
        semantic: SemanticCache,
        probe: Probe,
    ) -> bool:
        if probe.match is None:
            return False
        if await self._replayed(connection, request, route, probe.match, probe.similarity):
            return True
        semantic.forget(probe.scope, probe.match)  # its answer has left the cache
        self.metrics.semantic("miss")
        return False

    @staticmethod
    def _prepare(
        backend: Backend, request: Request, body: Any, data: bytes | None = None
    ) -> PreparedRequest:
        try:
            return backend.prepare(request, body, data)
        except ValueError as exc:
            raise _Reply(400, f"cannot forward this request: {exc}") from None

    def _long_context(self, route: Route, body: dict[str, Any]) -> Route:
        """The first of the route's ``context_window_fallbacks`` that takes a prompt too long
        for its window; the route itself when the prompt fits (or nothing larger is known)."""
        window = route.config.max_input_tokens
        estimate = prompt_tokens_estimate(body)
        if window is None or estimate <= window:
            return route
        for name in route.config.context_window_fallbacks:
            larger = self.routes[name]
            if larger.config.max_input_tokens is None or estimate <= larger.config.max_input_tokens:
                return larger
        return route

    def _route(self, model: str) -> Route:
        route = self.routes.get(model)
        if route is None:
            known = ", ".join(self.routes)
            raise _Reply(
                404, f"the model {model!r} is not routed here; routed: {known}", "not_found_error"
            )
        return route

    async def _forward(
        self,
        connection: Connection,
        request: Request,
        route: Route,
        body: Any,
        key: bytes | None = None,
        ticket: Ticket | None = None,
        data: bytes | None = None,
        record: Record | None = None,
    ) -> None:
        chain = [route]
        for step in chain:  # breadth-first: the route's own fallbacks in order, then theirs
            for name in step.config.fallbacks:
                if all(r.config.model != name for r in chain):
                    chain.append(self.routes[name])
        problems: list[str] = []
        for step in chain:
            tried: set[Backend] = set()
            for _attempt in range(self.config.retries + 1):
                backend = step.balancer.pick(tried)
                if backend is None:
                    break
                tried.add(backend)
                fallback_of = route.config.model if step is not route else None
                problem = await self._try(
                    connection,
                    request,
                    route.config.model,
                    backend,
                    body,
                    fallback_of,
                    first=not problems,
                    key=key,
                    ticket=ticket,
                    data=data,
                    record=record,
                )
                if problem is None:
                    return
                problems.append(f"{backend.name}: {problem}")
        if not problems:
            raise _Reply(
                503,
                f"every backend of {route.config.model!r} is out of service; try again shortly",
                "overloaded_error",
                route.config.model,
            )
        raise _Reply(
            502,
            f"no backend of {route.config.model!r} answered: " + "; ".join(problems[-4:]),
            "upstream_error",
            route.config.model,
        )

    async def _try(
        self,
        connection: Connection,
        request: Request,
        asked: str,
        backend: Backend,
        body: Any,
        fallback_of: str | None,
        first: bool,
        key: bytes | None = None,
        ticket: Ticket | None = None,
        data: bytes | None = None,
        record: Record | None = None,
    ) -> str | None:
        """Forward to ``backend``; None when the client got its answer (or part of one that
        could not be finished), else what went wrong, for another try."""
        prepared = self._prepare(backend, request, body, data)
        added_ns = time.monotonic_ns() - request.arrived_ns
        if not first:
            # a retry: the time spent on the failed tries is the backends', not the gateway's
            added_ns = 0
        else:
            self.metrics.added(added_ns / 1e9)
        stream = Relay(connection, request, backend, fallback_of, added_ns)
        if (key is not None and self.cache is not None) or (record and record.keep_answer):
            stream.capture = []
        if ticket is not None or (record is not None and record.meter):
            stream.meter = []
        if record is not None and record.request_id:
            stream.request_id = record.request_id.encode()
        backend.outstanding += 1
        started = time.monotonic()
        control = ReadControl()
        # A client that reads slower than the backend writes: stop reading the backend while
        # the client's socket buffer is above its high-water mark, instead of holding the rest
        # of the answer in memory.
        connection.on_pause, connection.on_resume = control.pause, control.resume
        try:
            if connection.writing_paused:
                control.pause()
            await backend.client.request(prepared, stream.body, stream.head, control)
        except _FAILURES as exc:
            backend.failed_once(self.config.eject_after, self.config.eject_s)
            if stream.started:
                logger.warning("%s failed mid-answer: %s", backend.name, exc)
                if ticket is not None:
                    ticket.answered = True
                if record is not None:
                    record.status, record.cut = stream.status, True
                stream.cut()
                return None
            return str(exc)
        except asyncio.CancelledError:
            if ticket is not None:
                # The client left with the request sent: the backend may bill all of it
                # (a budget must never be overrun by requests it cannot see the end of).
                ticket.answered = True
            raise
        finally:
            backend.outstanding -= 1
            connection.on_pause = connection.on_resume = None
        if stream.refused is not None:
            backend.failed_once(self.config.eject_after, self.config.eject_s)
            return f"answered {stream.refused}"
        backend.succeeded(time.monotonic() - started)
        usage = usage_of(b"".join(stream.meter), stream.sse) if stream.meter is not None else None
        if record is not None:
            record.status, record.usage = stream.status, usage
            if record.keep_answer and stream.capture is not None:
                record.answer = b"".join(stream.capture)
        if ticket is not None:
            ticket.answered = True
            ticket.usage = usage
        stream.finish()
        cache = self.cache
        if (
            key is not None
            and cache is not None
            and stream.capture is not None
            and stream.status == 200
        ):
            cache.put(
                key,
                stream.kept,
                stream.capture,
                streamed=stream.framing != "length",
                backend=backend.name,
            )
        done = time.monotonic_ns()
        first_byte = stream.first_byte_ns
        self.metrics.answered(
            asked,
            backend.name,
            stream.status,
            total_s=(done - request.arrived_ns) / 1e9,
            first_byte_s=(first_byte - request.arrived_ns) / 1e9 if first_byte else None,
        )
        return None
