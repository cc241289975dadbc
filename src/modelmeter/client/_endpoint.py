"""Where requests go: scheme, host, port and, for https, the TLS context."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One HTTP/1.1 origin that an `HttpClient` keeps connections to.

    ``tls`` is the context passed to ``loop.create_connection(ssl=...)``; ``None`` means plain
    TCP. ``server_hostname`` is the name sent in SNI and checked against the certificate.
    """

    scheme: str
    host: str
    port: int
    tls: ssl.SSLContext | None = None
    server_hostname: str | None = None

    @classmethod
    def from_url(cls, url: str, *, verify_tls: bool = True) -> Endpoint:
        """``http://host[:port]`` or ``https://host[:port]``; IPv6 literals in brackets.

        Only the origin is kept: a path in ``url`` is ignored here and belongs to
        `PreparedRequest.build`. ``verify_tls=False`` accepts any certificate (self-signed test
        servers); the default checks the chain and the host name like a browser.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"URL scheme must be http or https, not {parts.scheme!r}: {url!r}")
        host = parts.hostname
        if not host:
            raise ValueError(f"URL has no host: {url!r}")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"URL has an invalid port: {url!r} ({exc})") from None
        if port is None:
            port = _DEFAULT_PORTS[scheme]
        if scheme == "http":
            return cls(scheme, host, port)
        context = ssl.create_default_context()
        if not verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        # This client speaks HTTP/1.1 only; say so, so that a server offering h2 does not pick it.
        context.set_alpn_protocols(["http/1.1"])
        return cls(scheme, host, port, context, host)

    @property
    def authority(self) -> str:
        """The ``Host`` header value: brackets around IPv6 literals, default ports left out."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS.get(self.scheme):
            return host
        return f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        """``scheme://authority``, as used in error messages."""
        return f"{self.scheme}://{self.authority}"

    def __str__(self) -> str:
        return self.origin
