"""The HTTP/1.1 server side shared by ``simulate`` and ``gateway``: one asyncio Protocol per
connection on httptools, bounded request line, headers and body, JSON errors, keep-alive and
pipelining in order. See ``connection`` for the limits and why it is not aiohttp."""

from modelmeter.httpserver.connection import (
    MAX_BODY_BYTES,
    SERVER_HEADER,
    Connection,
    Handler,
    Request,
    error_body,
    response_bytes,
    status_line,
)

__all__ = [
    "MAX_BODY_BYTES",
    "SERVER_HEADER",
    "Connection",
    "Handler",
    "Request",
    "error_body",
    "response_bytes",
    "status_line",
]
