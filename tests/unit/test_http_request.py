"""Endpoints, prepared request bytes and responses of the load generator's HTTP client."""

from __future__ import annotations

import ssl

import pytest

import modelmeter.client as http
from modelmeter._version import __version__
from modelmeter.client import Endpoint, HttpClient, PreparedRequest, Response

AGENT = f"User-Agent: modelmeter/{__version__}".encode()


def test_facade_is_sorted_and_complete() -> None:
    # Constants first, then the rest, each group in order (ruff's RUF022 order).
    assert http.__all__ == sorted(http.__all__, key=lambda name: (not name.isupper(), name))
    assert set(http.__all__) == {
        "DEFAULT_MAX_BODY_BYTES",
        "BodyListener",
        "Endpoint",
        "HeadListener",
        "HttpClient",
        "PreparedRequest",
        "ReadControl",
        "RequestTemplate",
        "Response",
        "SseEvent",
        "SseParser",
    }
    for name in http.__all__:
        assert getattr(http, name) is not None


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "authority"),
    [
        ("http://127.0.0.1:8080", "http", "127.0.0.1", 8080, "127.0.0.1:8080"),
        ("http://localhost", "http", "localhost", 80, "localhost"),
        ("HTTP://LocalHost:80/v1/models", "http", "localhost", 80, "localhost"),
        ("http://[::1]:9000/", "http", "::1", 9000, "[::1]:9000"),
        ("https://example.com", "https", "example.com", 443, "example.com"),
        ("https://example.com:8443/api", "https", "example.com", 8443, "example.com:8443"),
    ],
)
def test_endpoint_from_url(url: str, scheme: str, host: str, port: int, authority: str) -> None:
    endpoint = Endpoint.from_url(url)
    assert (endpoint.scheme, endpoint.host, endpoint.port) == (scheme, host, port)
    assert endpoint.authority == authority
    assert str(endpoint) == f"{scheme}://{authority}"


def test_endpoint_tls_settings() -> None:
    plain = Endpoint.from_url("http://127.0.0.1:1")
    assert plain.tls is None and plain.server_hostname is None
    checked = Endpoint.from_url("https://example.com")
    assert checked.tls is not None and checked.server_hostname == "example.com"
    assert checked.tls.verify_mode == ssl.CERT_REQUIRED and checked.tls.check_hostname
    trusting = Endpoint.from_url("https://127.0.0.1:8443", verify_tls=False)
    assert trusting.tls is not None
    assert trusting.tls.verify_mode == ssl.CERT_NONE and not trusting.tls.check_hostname


def test_endpoint_is_immutable() -> None:
    endpoint = Endpoint.from_url("http://127.0.0.1:1")
    with pytest.raises(AttributeError):
        endpoint.port = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1", "scheme must be http or https"),
        ("127.0.0.1:8000", "scheme must be http or https"),
        ("http://", "no host"),
        ("http://127.0.0.1:99999", "invalid port"),
        ("http://127.0.0.1:port", "invalid port"),
    ],
)
def test_endpoint_rejects_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Endpoint.from_url(url)


def test_get_bytes() -> None:
    endpoint = Endpoint.from_url("http://127.0.0.1:8000")
    request = PreparedRequest.build("get", endpoint, "/v2/health/ready?x=1")
    assert request.raw == (
        b"GET /v2/health/ready?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n" + AGENT + b"\r\n\r\n"
    )
    assert (request.method, request.path, request.idempotent) == (
        "GET",
        "/v2/health/ready?x=1",
        True,
    )


def test_post_bytes_carry_the_body_and_its_length() -> None:
    endpoint = Endpoint.from_url("http://[::1]:8000")
    body = b'{"inputs": []}'
    request = PreparedRequest.build(
        "POST", endpoint, "/infer", headers={"Content-Type": "application/json"}, body=body
    )
    head, _, sent_body = request.raw.partition(b"\r\n\r\n")
    assert sent_body == body
    assert head.split(b"\r\n") == [
        b"POST /infer HTTP/1.1",
        b"Host: [::1]:8000",
        AGENT,
        b"Content-Type: application/json",
        b"Content-Length: 14",
    ]
    assert not request.idempotent


def test_post_without_body_says_length_zero() -> None:
    endpoint = Endpoint.from_url("http://127.0.0.1:8000")
    assert b"Content-Length: 0\r\n" in PreparedRequest.build("POST", endpoint, "/").raw
    assert b"Content-Length" not in PreparedRequest.build("GET", endpoint, "/").raw


def test_caller_may_replace_host_and_agent_in_any_case() -> None:
    endpoint = Endpoint.from_url("http://127.0.0.1:8000")
    request = PreparedRequest.build(
        "GET", endpoint, "/", headers={"host": "api.example", "USER-AGENT": "bench/1"}
    )
    assert request.raw == b"GET / HTTP/1.1\r\nhost: api.example\r\nUSER-AGENT: bench/1\r\n\r\n"


@pytest.mark.parametrize(
    ("method", "path", "headers", "message"),
    [
        ("G ET", "/", {}, "invalid HTTP method"),
        ("GET", "no-slash", {}, "path must start with '/'"),
        ("GET", "/a b", {}, "path must start with '/'"),
        ("GET", "/a\r\nX: y", {}, "path must start with '/'"),
        ("GET", "/", {"X-Bad": "a\r\nInjected: yes"}, "CR, LF or NUL"),
        ("GET", "/", {"Bad Name": "x"}, "invalid header name"),
        ("GET", "/", {"Content-Length": "3"}, "computed from the body"),
        ("GET", "/", {"Transfer-Encoding": "chunked"}, "computed from the body"),
        ("GET", "/", {"X-Name": "café ☕"}, "Latin-1"),
    ],
)
def test_build_rejects_unsafe_input(
    method: str, path: str, headers: dict[str, str], message: str
) -> None:
    endpoint = Endpoint.from_url("http://127.0.0.1:8000")
    with pytest.raises(ValueError, match=message):
        PreparedRequest.build(method, endpoint, path, headers=headers)


def test_response_helpers() -> None:
    response = Response(
        status=200,
        headers=[(b"Content-Type", b"text/event-stream"), (b"X-A", b"1"), (b"x-a", b"2")],
        body=b"",
        sent_at=100,
        first_byte_at=150,
        done_at=400,
    )
    assert response.header("content-type") == b"text/event-stream"
    assert response.header("X-A") == b"1"
    assert response.header("missing") is None
    assert response.service_time_ns == 300


@pytest.mark.parametrize(
    ("options", "message"),
    [({"timeout_s": 0}, "timeout_s"), ({"max_connections": 0}, "max_connections")],
)
def test_client_rejects_bad_options(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HttpClient(Endpoint.from_url("http://127.0.0.1:1"), **options)  # type: ignore[arg-type]
