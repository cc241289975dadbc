"""Loopback checks and URLs fit to show."""

from __future__ import annotations

import pytest

from modelmeter._net import display_url, is_loopback_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://user:s3cret@api.example.com/v1?x=1", "https://api.example.com/v1?x=1"),
        ("http://token@[::1]:9000/", "http://[::1]:9000/"),
    ],
)
def test_display_url_drops_credentials(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_loopback_urls() -> None:
    assert is_loopback_url("http://localhost:1/x")
    assert not is_loopback_url("http://10.0.0.1/")
