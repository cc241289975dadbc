"""One log line per malformed request, not a traceback.

aiohttp answers a request it cannot parse (a line or header over 8,190 bytes, too many headers,
not HTTP at all) with 400 and logs the parser's traceback at ERROR level: a client sending junk
could fill the log with tracebacks that say nothing about the server. This filter turns each
into one WARNING line that names the client and what was wrong; errors in our own handlers keep
their tracebacks, since those are bugs to fix.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["OneLinePerBadRequest", "one_line_bad_requests"]

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
