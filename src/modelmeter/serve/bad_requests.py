"""Malformed requests: one JSON answer with the status HTTP has for it, and one log line.

aiohttp answers a request it cannot parse (a line or header over 8,190 bytes, too many headers,
not HTTP at all) with a plain-text 400 that quotes the client's bytes back, and logs the
parser's traceback at ERROR level: a client sending junk could fill the log with tracebacks
that say nothing about the server. Here each gets:

* the status that says what was wrong: 414 for a request target over the limit, 431 for a
  header line over it or too many headers, 400 for anything else; and a JSON body like every
  other error of the server, ``{"error": "..."}``, that names the limit and quotes nothing;
* one WARNING line that names the client and what was wrong. Errors in our own handlers keep
  their tracebacks, since those are bugs to fix.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

__all__ = ["JsonErrorRunner", "OneLinePerBadRequest", "one_line_bad_requests"]

AIOHTTP_SERVER_LOGGER = "aiohttp.server"
_SHOWN = 200  # characters of the parser's message kept (it quotes the offending bytes)


class OneLinePerBadRequest(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            what = " ".join(str(exc).split())
            record.args = (record.getMessage(), what[:_SHOWN])
            record.msg = "%s: %s"
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def one_line_bad_requests() -> None:
    """Install the filter on aiohttp's server logger (once per process)."""
    logger = logging.getLogger(AIOHTTP_SERVER_LOGGER)
    if not any(isinstance(item, OneLinePerBadRequest) for item in logger.filters):
        logger.addFilter(OneLinePerBadRequest())


def _status_and_message(status: int, exc: BaseException | None) -> tuple[int, str]:
    """The status and the words for a request aiohttp's parser refused."""
    if isinstance(exc, LineTooLong):
        # The parser quotes the start of the offending line: the request target starts with
        # "/" (or a scheme, in absolute form); a header line with its name.
        text = str(exc)
        if "b'/" in text or "b'http" in text.lower():
            return 414, "request target over 8,190 bytes"
        return 431, "a header line over 8,190 bytes"
    if isinstance(exc, BadHttpMessage) and "Too many headers" in str(exc):
        return 431, "too many headers"
    if status == 400:
        return 400, "malformed HTTP request"
    return status, "the request could not be handled"


class _JsonErrorHandler(RequestHandler):
    __slots__ = ()  # the same layout as RequestHandler, so a handler's class can be switched

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's own logs the error (one line, through the filter above) and checks that
        # nothing of an answer went out yet; its plain-text answer is replaced.
        super().handle_error(request, status, exc, message)
        code, words = _status_and_message(status, exc)
        response = web.Response(
            body=json.dumps({"error": words}).encode(),
            status=code,
            content_type="application/json",
        )
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        handler = super().__call__()
        # aiohttp makes one RequestHandler per connection and has no setting for its class;
        # the subclass adds no state, only its own error answer.
        handler.__class__ = _JsonErrorHandler
        return handler


class JsonErrorRunner(web.AppRunner):
    """An AppRunner whose connections answer unparsable requests as described above."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server
