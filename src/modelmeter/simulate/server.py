"""The simulated model server: slots, generations on a schedule, and the timings log."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import time
from collections import deque
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST

from modelmeter._exceptions import ServerError
from modelmeter.httpserver import Connection, Request, error_body, response_bytes
from modelmeter.simulate._openai import (
    DONE_EVENT,
    BadRequest,
    CompletionRequest,
    full_answer,
    parse_completion_request,
    usage,
)
from modelmeter.simulate._pacer import Pacer
from modelmeter.simulate._request import (
    _client_request_id,
    _frame,
    _Generation,
    _injected_error,
    _Record,
    _stream_headers,
    _url,
)
from modelmeter.simulate._text import VOCABULARY, prompt_rng
from modelmeter.simulate.answers import AnswerBook, load_answer_book, split_tokens
from modelmeter.simulate.config import SimulatorConfig
from modelmeter.simulate.metrics import SimulatorMetrics
from modelmeter.simulate.timings import RequestTiming

_monotonic_ns = time.monotonic_ns
COMPLETION_PATHS = {"/v1/chat/completions": True, "/v1/completions": False}  # path → chat?
TIMINGS_PATH = "/debug/timings"
METRICS_PATH = "/metrics"
METRICS_TYPE = CONTENT_TYPE_LATEST.encode()
LISTEN_BACKLOG = 1024
_CHUNK_END = b"0\r\n\r\n"


class Simulator:
    """An OpenAI-compatible server whose model streams pseudo-words on a known schedule.

    Runs on the current event loop: ``await start()``, then ``await stop()``. Each completion
    request gets a slot (or waits for one, first come first served), then its tokens at
    ``slot start + TTFT + ITL₁ + … + ITLᵢ``; every write is logged with its due time and the
    time it happened (see `modelmeter.simulate.timings`). ``timings_log`` receives the same
    records as JSON lines (the file is replaced).

    With ``config.answers`` the answer book is read here: a `DatasetError` naming its
    ``path:line`` if it is bad.
    """

    def __init__(self, config: SimulatorConfig, *, timings_log: Path | None = None) -> None:
        self.config = config
        self._book: AnswerBook | None = (
            load_answer_book(config.answers) if config.answers is not None else None
        )
        self._default_answer: tuple[str, ...] | None = (
            tuple(split_tokens(config.default_answer))
            if config.default_answer is not None
            else None
        )
        self.metrics = SimulatorMetrics(config.model, (ms / 1000 for ms in config.bucket_ms))
        self._timings_log_path = timings_log
        self._log_file: IO[bytes] | None = None
        self._rng = random.Random(config.seed)
        self._timings: deque[tuple[str, bytes]] = deque(maxlen=config.timings_capacity)
        self._timings_dropped = 0
        self._connections: set[Connection] = set()
        self._active = 0
        self._waiting: deque[_Generation] = deque()
        self._pacer: Pacer | None = None
        self._server: asyncio.Server | None = None
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex()
        self._models_body = json.dumps(
            {
                "object": "list",
                "data": [
                    {
                        "id": config.model,
                        "object": "model",
                        "created": int(time.time()),
                        "owned_by": "modelmeter",
                    }
                ],
            }
        ).encode()
        self.url = ""

    # lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port); the URL clients use."""
        loop = asyncio.get_running_loop()
        self._pacer = Pacer(loop, self.config.busy_wait_us * 1000)
        if self._timings_log_path is not None:
            try:
                self._log_file = self._timings_log_path.open("wb")
            except OSError as exc:
                raise ServerError(
                    f"cannot write the timings log {self._timings_log_path}: {exc.strerror or exc}"
                ) from exc
        try:
            self._server = await loop.create_server(
                lambda: Connection(self, self._connections),
                host,
                port,
                backlog=LISTEN_BACKLOG,
                reuse_address=True,
            )
        except OSError as exc:
            self._close_log()
            raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        bound = self._server.sockets[0].getsockname()
        self.url = _url(host, int(bound[1]))
        return self.url

    async def stop(self) -> None:
        """Stop listening, drop the connections (answers under way are logged as cancelled)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.abort()
        for _ in range(3):  # connection_lost callbacks run on the next loop iterations
            if not self._connections:
                break
            await asyncio.sleep(0)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._pacer is not None:
            self._pacer.close()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # timings

    def timings(self, request_id: str | None = None) -> list[RequestTiming]:
        """The timings kept so far (the last ``timings_capacity``), optionally of one request."""
        self._flush()
        return [
            RequestTiming.from_json(json.loads(raw))
            for rid, raw in self._timings
            if request_id is None or rid == request_id
        ]

    def clear_timings(self) -> None:
        self._flush()
        self._timings.clear()
        self._timings_dropped = 0

    def _log(self, record: _Record) -> None:
        """Keep ``record``: serialised when the pacer is idle, not in the middle of a burst."""
        if self._pacer is None:
            self._store(record)
        else:
            self._pacer.defer(lambda: self._store(record))

    def _flush(self) -> None:
        if self._pacer is not None:
            self._pacer.run_deferred()

    def _store(self, record: _Record) -> None:
        self.metrics.record(record)
        raw = record.to_json()
        if len(self._timings) == self._timings.maxlen:
            self._timings_dropped += 1
        self._timings.append((record.request_id, raw))
        if self._log_file is not None:
            self._log_file.write(raw + b"\n")
            self._log_file.flush()

    # requests (the connection calls these)

    def handle(self, connection: Connection, request: Request) -> None:
        keep_alive = request.keep_alive
        path = request.path
        chat = COMPLETION_PATHS.get(path)
        if chat is not None:
            if request.method != "POST":
                self._reply_error(connection, 405, "Use POST.", keep_alive, allow=b"POST")
            else:
                self._completion(connection, request, chat)
        elif path == "/health":
            self._reply_get(connection, request, b'{"status":"ok"}')
        elif path == "/v1/models":
            self._reply_get(connection, request, self._models_body)
        elif path == TIMINGS_PATH:
            self._timings_endpoint(connection, request)
        elif path == METRICS_PATH:
            self._flush()  # the records the pacer deferred count too
            self._reply_get(
                connection, request, self.metrics.exposition(), content_type=METRICS_TYPE
            )
        else:
            message = f"Unknown path {path!r}."
            self._reply_error(connection, 404, message, keep_alive)

    def connection_lost(self, connection: Connection) -> None:
        generation = connection.context
        if isinstance(generation, _Generation) and not generation.done:
            generation.cancelled = generation.done = True
            record = generation.record
            record.cancelled = True
            record.finished_ns = _monotonic_ns()
            self._log(record)
            if generation.started_ns:
                self._release_slot()

    def _reply_get(
        self,
        connection: Connection,
        request: Request,
        body: bytes,
        *,
        content_type: bytes = b"application/json",
    ) -> None:
        if request.method not in ("GET", "HEAD"):
            self._reply_error(connection, 405, "Use GET.", request.keep_alive, allow=b"GET")
            return
        data = response_bytes(200, body, keep_alive=request.keep_alive, content_type=content_type)
        if request.method == "HEAD":
            data = data[: len(data) - len(body)]
        connection.respond(data, keep_alive=request.keep_alive)

    def _reply_error(
        self,
        connection: Connection,
        status: int,
        message: str,
        keep_alive: bool,
        *,
        allow: bytes = b"",
    ) -> int:
        extra = b"allow: " + allow + b"\r\n" if allow else b""
        error_type = "invalid_request_error" if status < 500 else "server_error"
        body = error_body(message, error_type)
        return connection.respond(
            response_bytes(status, body, keep_alive=keep_alive, extra_headers=extra),
            keep_alive=keep_alive,
        )

    def _timings_endpoint(self, connection: Connection, request: Request) -> None:
        keep_alive = request.keep_alive
        if request.method == "DELETE":
            self.clear_timings()
            connection.respond(
                response_bytes(204, b"", keep_alive=keep_alive), keep_alive=keep_alive
            )
            return
        if request.method != "GET":
            self._reply_error(
                connection, 405, "Use GET or DELETE.", keep_alive, allow=b"GET, DELETE"
            )
            return
        self._flush()
        wanted = parse_qs(request.query).get("request_id")
        body = (
            b"["
            + b",".join(raw for rid, raw in self._timings if wanted is None or rid in wanted)
            + b"]"
        )
        extra = b"x-timings-dropped: " + str(self._timings_dropped).encode() + b"\r\n"
        connection.respond(
            response_bytes(200, body, keep_alive=keep_alive, extra_headers=extra),
            keep_alive=keep_alive,
        )

    def _completion(self, connection: Connection, request: Request, chat: bool) -> None:
        config = self.config
        keep_alive = request.keep_alive
        completion_id = f"{'chatcmpl' if chat else 'cmpl'}-{self._id_prefix}{next(self._ids):08x}"
        request_id = _client_request_id(request.headers) or completion_id
        id_header = b"x-request-id: " + request_id.encode("ascii") + b"\r\n"
        record = _Record(request_id, completion_id, request.path, False, 200, request.arrived_ns)
        try:
            parsed = parse_completion_request(request.body, chat=chat)
        except BadRequest as exc:
            record.status = exc.status
            written = connection.respond(
                response_bytes(
                    exc.status, exc.body(), keep_alive=keep_alive, extra_headers=id_header
                ),
                keep_alive=keep_alive,
            )
            self._finish_error(record, written)
            return
        record.stream = parsed.stream
        record.prompt_tokens = parsed.prompt_tokens
        rng = self._rng
        if config.error_rate > 0 and rng.random() < config.error_rate:
            status = rng.choice(config.error_statuses)
            record.status = status
            extra = id_header + (b"retry-after: 1\r\n" if status == 429 else b"")
            written = connection.respond(
                response_bytes(
                    status, _injected_error(status), keep_alive=keep_alive, extra_headers=extra
                ),
                keep_alive=keep_alive,
            )
            self._finish_error(record, written)
            return

        fixed = self._fixed_answer(parsed)
        if fixed is None:
            text_rng = prompt_rng(config.seed, parsed.identity)
            low, high = config.output_range()
            planned = low if low == high else text_rng.randint(low, high)
            count = planned if parsed.max_tokens is None else min(planned, parsed.max_tokens)
            words = text_rng.choices(VOCABULARY, k=count)
            reasoning = min(config.reasoning_tokens, count) if chat else 0
            texts = [
                word if index in (0, reasoning) else " " + word for index, word in enumerate(words)
            ]
        else:
            reasoning_texts, content_texts = fixed
            planned = len(reasoning_texts) + len(content_texts)
            count = planned if parsed.max_tokens is None else min(planned, parsed.max_tokens)
            texts = [*reasoning_texts, *content_texts][:count]
            reasoning = min(len(reasoning_texts), count)
        per_chunk = config.tokens_per_chunk
        plan = [
            (first, min(first + per_chunk, end), kind)
            for kind, begin, end in (("reasoning", 0, reasoning), ("content", reasoning, count))
            for first in range(begin, end, per_chunk)
        ]
        ttft_ns = config.ttft_ms.sample_ns(rng)
        offsets = [ttft_ns]
        itl = config.itl_ms
        if itl.kind == "fixed":
            gap = itl.sample_ns(rng)
            offsets = [ttft_ns + gap * index for index in range(count)]
        elif count == 0:  # an empty answer: only the end of the stream, after the TTFT
            offsets = []
        else:
            for _ in range(count - 1):
                offsets.append(offsets[-1] + itl.sample_ns(rng))
        record.ttft_ns = ttft_ns
        record.output_tokens = count
        record.reasoning_tokens = reasoning
        record.finish_reason = "length" if count < planned else "stop"
        generation = _Generation(
            connection,
            parsed,
            record,
            model=parsed.model or config.model,
            texts=texts,
            plan=plan,
            offsets=offsets,
            keep_alive=keep_alive and (request.http11 or not parsed.stream),
            chunked=request.http11,
        )
        connection.context = generation
        headers = (
            _stream_headers(id_header, chunked=generation.chunked, keep_alive=generation.keep_alive)
            if parsed.stream
            else b""
        )
        if self._active < config.slots:
            self._start(generation, headers)
        else:
            if headers:  # a streaming server answers at once and sends events when it can
                record.headers_written_ns = connection.write(headers)
            self._waiting.append(generation)

    def _fixed_answer(
        self, request: CompletionRequest
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """(reasoning, answer) tokens from the answer book or the default answer; None: filler."""
        if self._book is not None and request.match_text is not None:
            rule = self._book.find(request.match_text)
            if rule is not None:
                return (rule.reasoning_tokens if request.chat else ()), rule.answer_tokens
        if self._default_answer is not None:
            return (), self._default_answer
        return None

    def _finish_error(self, record: _Record, written: int) -> None:
        record.add("error", 0, record.arrived_ns, written)
        record.finished_ns = written
        self._log(record)

    # generation

    def _start(self, generation: _Generation, headers: bytes = b"") -> None:
        """Give ``generation`` a slot: its schedule counts from now. ``headers`` go out first."""
        assert self._pacer is not None
        self._active += 1
        now = _monotonic_ns()
        generation.started_ns = now
        record = generation.record
        record.slot_started_ns = now
        last_ns = generation.offsets[-1] if generation.offsets else record.ttft_ns or 0
        if generation.format is None:
            response = self._whole_answer(generation)
            self._pacer.at(now + last_ns, lambda due: self._send_whole(generation, response, due))
            return
        role = (
            _frame(generation.format.role(), generation.chunked) if generation.request.chat else b""
        )
        if headers or role:
            written = generation.connection.write(headers + role)
            if headers:
                record.headers_written_ns = written
            if role:
                record.add("role", 0, now, written)
        if not generation.plan:  # an empty answer
            self._pacer.at(now + last_ns, lambda due: self._empty_due(generation, due))
            return
        first_end = generation.plan[0][1]
        self._pacer.at(
            now + generation.offsets[first_end - 1], lambda due: self._due(generation, due)
        )

    def _empty_due(self, generation: _Generation, due: int) -> None:
        if not generation.cancelled:
            self._send_stream_end(generation, due)

    def _due(self, generation: _Generation, due: int) -> None:
        if generation.cancelled:
            return
        assert generation.format is not None
        index = generation.next_chunk
        first, end, kind = generation.plan[index]
        text = "".join(generation.texts[first:end])
        written = generation.connection.write(
            _frame(generation.format.tokens(kind, text), generation.chunked)
        )
        generation.record.add(kind, end - first, due, written)
        index += 1
        generation.next_chunk = index
        if index < len(generation.plan):
            assert self._pacer is not None
            next_due = generation.started_ns + generation.offsets[generation.plan[index][1] - 1]
            self._pacer.at(next_due, lambda due: self._due(generation, due))
        else:
            self._send_stream_end(generation, due)

    def _send_stream_end(self, generation: _Generation, due: int) -> None:
        assert generation.format is not None
        record = generation.record
        events: list[tuple[str, bytes]] = [
            ("finish", generation.format.finish(record.finish_reason or "stop"))
        ]
        if generation.request.include_usage:
            events.append(("usage", generation.format.usage(self._usage(generation))))
        events.append(("done", DONE_EVENT))
        data = b"".join(_frame(payload, generation.chunked) for _, payload in events)
        if generation.chunked:
            data += _CHUNK_END
        written = generation.connection.write(data)
        for kind, _ in events:
            record.add(kind, 0, due, written)
        self._finish(generation, written)

    def _whole_answer(self, generation: _Generation) -> bytes:
        """The complete non-streamed response (built ahead, so that the due write is quick)."""
        record = generation.record
        reasoning = record.reasoning_tokens
        body = full_answer(
            completion_id=generation.completion_id,
            created=generation.created,
            model=generation.model,
            chat=generation.request.chat,
            content="".join(generation.texts[reasoning:]),
            reasoning="".join(generation.texts[:reasoning]) if reasoning else None,
            finish_reason=record.finish_reason or "stop",
            usage_object=self._usage(generation),
        )
        id_header = b"x-request-id: " + record.request_id.encode("ascii") + b"\r\n"
        return response_bytes(200, body, keep_alive=generation.keep_alive, extra_headers=id_header)

    def _send_whole(self, generation: _Generation, response: bytes, due: int) -> None:
        if generation.cancelled:
            return
        record = generation.record
        written = generation.connection.write(response)
        record.headers_written_ns = written
        record.add("response", record.output_tokens, due, written)
        self._finish(generation, written)

    def _usage(self, generation: _Generation) -> dict[str, Any]:
        record = generation.record
        reports_reasoning = self.config.reasoning_tokens or record.reasoning_tokens  # or a book's
        details = record.reasoning_tokens if generation.request.chat and reports_reasoning else None
        return usage(record.prompt_tokens, record.output_tokens, details)

    def _finish(self, generation: _Generation, written: int) -> None:
        generation.done = True
        record = generation.record
        record.finished_ns = written
        self._log(record)
        self._release_slot()
        generation.connection.finish_response(keep_alive=generation.keep_alive)

    def _release_slot(self) -> None:
        self._active -= 1
        while self._waiting and self._active < self.config.slots:
            generation = self._waiting.popleft()
            if not generation.cancelled:
                self._start(generation)
