"""Requests serialised once and sent many times: the load generator replays the same bytes."""

from __future__ import annotations

import re
from collections.abc import Mapping

from modelmeter._version import __version__
from modelmeter.client._endpoint import Endpoint

# RFC 9110 token characters, for methods and header names.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Request target: visible ASCII, no spaces; the origin form starts with "/".
_TARGET = re.compile(r"(/[\x21-\x7e]*|\*)")
_FORBIDDEN_VALUE = re.compile(r"[\x00\r\n]")
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_BODY_EXPECTED = frozenset({"POST", "PUT", "PATCH"})
_COMPUTED = frozenset({"content-length", "transfer-encoding"})
_USER_AGENT = f"modelmeter/{__version__}"


class PreparedRequest:
    """The bytes of one HTTP/1.1 request: request line, headers and body, built once.

    ``Host``, ``Content-Length`` and a ``User-Agent`` are added by `build`; the caller may
    override ``Host`` and ``User-Agent`` but not the framing headers, which are computed from the
    body. Sending the same object many times costs one ``transport.write`` each.
    """

    __slots__ = ("idempotent", "method", "path", "raw")

    def __init__(self, method: str, path: str, raw: bytes) -> None:
        self.method = method
        self.path = path
        self.raw = raw
        # A request that never reached the server may be sent again on a fresh connection.
        self.idempotent = method in _IDEMPOTENT

    @classmethod
    def build(
        cls,
        method: str,
        endpoint: Endpoint,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> PreparedRequest:
        """Serialise ``method path`` for ``endpoint``; raises ValueError on unsafe input.

        Header names and values must not contain CR, LF or NUL (no header injection) and must be
        Latin-1; the path must be in origin form (``/...``, already percent-encoded).
        """
        return cls.template(method, endpoint, path, headers=headers).with_body(body)

    @classmethod
    def template(
        cls,
        method: str,
        endpoint: Endpoint,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> RequestTemplate:
        """The checked head of ``method path`` with its headers, for many bodies: a proxy sends
        the same head with each request's own body (see `build` for what is refused)."""
        method = method.upper()
        if not _TOKEN.fullmatch(method):
            raise ValueError(f"invalid HTTP method: {method!r}")
        if not _TARGET.fullmatch(path):
            raise ValueError(
                f"path must start with '/' and contain no spaces or control characters "
                f"(percent-encode them): {path!r}"
            )
        lines = [f"{method} {path} HTTP/1.1"]
        given = {name.lower() for name in headers} if headers else set()
        if "host" not in given:
            lines.append(f"Host: {endpoint.authority}")
        if "user-agent" not in given:
            lines.append(f"User-Agent: {_USER_AGENT}")
        for name, value in (headers or {}).items():
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"invalid header name: {name!r}")
            if name.lower() in _COMPUTED:
                raise ValueError(f"header {name!r} is computed from the body; do not set it")
            if _FORBIDDEN_VALUE.search(value):
                raise ValueError(f"header {name!r} has CR, LF or NUL in its value")
            lines.append(f"{name}: {value}")
        try:
            prefix = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        except UnicodeEncodeError as exc:
            raise ValueError(f"request head must be Latin-1 text: {exc}") from None
        return RequestTemplate(method, path, prefix)

    def __repr__(self) -> str:
        return f"PreparedRequest({self.method} {self.path}, {len(self.raw)} bytes)"


class RequestTemplate:
    """A request head checked once; `with_body` adds the framing and a body in one copy."""

    __slots__ = ("_prefix", "method", "path")

    def __init__(self, method: str, path: str, prefix: bytes) -> None:
        self.method = method
        self.path = path
        self._prefix = prefix

    def with_body(self, body: bytes | None) -> PreparedRequest:
        if body is not None or self.method in _BODY_EXPECTED:
            data = body or b""
            raw = self._prefix + b"Content-Length: %d\r\n\r\n" % len(data) + data
        else:
            raw = self._prefix + b"\r\n"
        return PreparedRequest(self.method, self.path, raw)
