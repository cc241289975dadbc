"""One completion request while it is served: the record of its timings, the schedule of its
tokens, and the bytes around its answer (chunk frames, stream headers, injected errors).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from modelmeter.httpserver import SERVER_HEADER, Connection, error_body
from modelmeter.simulate._openai import CompletionRequest, StreamFormat


@dataclass(slots=True)
class _Record:
    """The timings of one completion request while it is under way."""

    request_id: str
    completion_id: str | None
    path: str
    stream: bool
    status: int
    arrived_ns: int
    slot_started_ns: int | None = None
    headers_written_ns: int | None = None
    finished_ns: int | None = None
    ttft_ns: int | None = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    finish_reason: str | None = None
    cancelled: bool = False
    kinds: list[str] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    scheduled: list[int] = field(default_factory=list)
    written: list[int] = field(default_factory=list)

    def add(self, kind: str, tokens: int, scheduled_ns: int, written_ns: int) -> None:
        self.kinds.append(kind)
        self.tokens.append(tokens)
        self.scheduled.append(scheduled_ns)
        self.written.append(written_ns)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "request_id": self.request_id,
                "completion_id": self.completion_id,
                "path": self.path,
                "stream": self.stream,
                "status": self.status,
                "arrived_ns": self.arrived_ns,
                "slot_started_ns": self.slot_started_ns,
                "headers_written_ns": self.headers_written_ns,
                "finished_ns": self.finished_ns,
                "ttft_ns": self.ttft_ns,
                "prompt_tokens": self.prompt_tokens,
                "output_tokens": self.output_tokens,
                "reasoning_tokens": self.reasoning_tokens,
                "finish_reason": self.finish_reason,
                "cancelled": self.cancelled,
                "chunks": {
                    "kind": self.kinds,
                    "tokens": self.tokens,
                    "scheduled_ns": self.scheduled,
                    "written_ns": self.written,
                },
            },
            separators=(",", ":"),
        ).encode()


class _Generation:
    """One answer being produced: its token schedule, counted from the start of its slot."""

    __slots__ = (
        "cancelled",
        "chunked",
        "completion_id",
        "connection",
        "created",
        "done",
        "format",
        "keep_alive",
        "model",
        "next_chunk",
        "offsets",
        "plan",
        "record",
        "request",
        "started_ns",
        "texts",
    )

    def __init__(
        self,
        connection: Connection,
        request: CompletionRequest,
        record: _Record,
        *,
        model: str,
        texts: list[str],
        plan: list[tuple[int, int, str]],
        offsets: list[int],
        keep_alive: bool,
        chunked: bool,
    ) -> None:
        self.connection = connection
        self.request = request
        self.record = record
        self.completion_id = record.completion_id or ""
        self.created = int(time.time())
        self.model = model
        self.texts = texts  # one per output token
        self.plan = plan  # chunks: (first token, end token, kind)
        self.offsets = offsets  # ns from the slot start at which each token is ready
        self.keep_alive = keep_alive
        self.chunked = chunked
        self.format = (
            StreamFormat(
                self.completion_id,
                self.created,
                model,
                chat=request.chat,
                include_usage=request.include_usage,
            )
            if request.stream
            else None
        )
        self.next_chunk = 0
        self.started_ns = 0
        self.cancelled = False
        self.done = False


def _frame(payload: bytes, chunked: bool) -> bytes:
    """``payload`` as one HTTP/1.1 chunk, or as is for HTTP/1.0 (the connection then closes)."""
    if not chunked:
        return payload
    return b"%x\r\n%b\r\n" % (len(payload), payload)


def _stream_headers(id_header: bytes, *, chunked: bool, keep_alive: bool) -> bytes:
    return b"".join(
        (
            b"HTTP/1.1 200 OK\r\n"
            b"content-type: text/event-stream; charset=utf-8\r\n"
            b"cache-control: no-cache\r\n",
            SERVER_HEADER,
            id_header,
            b"transfer-encoding: chunked\r\n" if chunked else b"",
            b"" if keep_alive else b"connection: close\r\n",
            b"\r\n",
        )
    )


def _injected_error(status: int) -> bytes:
    if status == 429:
        return error_body(
            "Rate limit reached for requests (injected by the simulator).",
            "requests",
            code="rate_limit_exceeded",
        )
    if status >= 500:
        return error_body(
            "The server had an error while processing your request (injected by the simulator).",
            "server_error",
        )
    return error_body(f"Injected error {status}.", "invalid_request_error")


def _client_request_id(headers: dict[str, str]) -> str | None:
    """The client's ``x-request-id`` when it is safe to echo: printable ASCII, 1–256 chars."""
    value = headers.get("x-request-id")
    if value and len(value) <= 256 and all(" " <= char <= "~" for char in value):
        return value.strip() or None
    return None


def _url(host: str, port: int) -> str:
    connect = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in connect:
        connect = f"[{connect}]"
    return f"http://{connect}:{port}"
