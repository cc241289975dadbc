"""The gateway's traffic log as columns to compare: what production asked and how it went.

Each logged request gives its route, status (a category, not a number: 404 is not "more" than
200), cache outcome, latency, token counts and, where the log keeps bodies, the text the user
sent (the last user message of a chat, a completion's prompt, an embedding's input).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

__all__ = ["gateway_columns", "prompt_text"]

_COLUMNS = ("route", "status", "cache", "latency_ms", "input_tokens", "output_tokens")


def _status_label(status: int) -> str:
    """'200 OK': a word keeps a status a category (a bare number would be compared as one)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} (status)"


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI's content parts
        texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        joined = " ".join(t for t in texts if isinstance(t, str))
        return joined or None
    return None


def prompt_text(body: str | None) -> str | None:
    """The user's text in a logged request body; None when there is none or it is not JSON."""
    if not body:
        return None
    try:
        request = json.loads(body)
    except ValueError:
        return None
    if not isinstance(request, dict):
        return None
    messages = request.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return _content_text(message.get("content"))
        return None
    for key in ("prompt", "input"):
        value = request.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return " ".join(value)
    return None


def gateway_columns(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Columns of the logged rows (``RunStore.gateway_log``), in the shape drift compares;
    ``prompt`` only when some row kept its request body."""
    columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    prompts: list[str | None] = []
    for row in rows:
        columns["route"].append(row.get("route"))
        status = row.get("status")
        columns["status"].append(None if status is None else _status_label(int(status)))
        columns["cache"].append(row.get("cache"))
        latency_ns = row.get("latency_ns")
        columns["latency_ms"].append(None if latency_ns is None else latency_ns / 1e6)
        columns["input_tokens"].append(row.get("input_tokens"))
        columns["output_tokens"].append(row.get("output_tokens"))
        prompts.append(prompt_text(row.get("request_body")))
    if any(p is not None for p in prompts):
        columns["prompt"] = prompts
    return columns
