"""The OpenAI wire format: reading completion requests, writing answers, chunks and errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from modelmeter.httpserver import error_body
from modelmeter.simulate._text import (
    count_prompt_tokens,
    last_user_text,
    prompt_identity,
    prompt_text,
)

DONE_EVENT = b"data: [DONE]\n\n"


class BadRequest(Exception):
    """The request cannot be answered; carries the status and OpenAI-style error fields."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        error_type: str = "invalid_request_error",
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.error_type = error_type
        self.code = code

    def body(self) -> bytes:
        return error_body(self.message, self.error_type, self.param, self.code)


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """What the simulator needs from a chat or text completion request."""

    chat: bool
    stream: bool
    include_usage: bool
    max_tokens: int | None
    model: str | None
    identity: str  # the prompt as canonical JSON: the same prompt gives the same answer
    prompt_tokens: int
    match_text: str | None  # what an answer book is matched against: the last user message


def parse_completion_request(body: bytes, *, chat: bool) -> CompletionRequest:
    """Read and check a ``/v1/chat/completions`` (``chat``) or ``/v1/completions`` body."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(
            f"We could not parse the JSON body of your request ({exc}). The OpenAI API "
            "expects a JSON payload."
        ) from None
    if not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object.")
    if chat:
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("'messages' must be a non-empty array.", param="messages")
        if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
            raise BadRequest("Each message must be an object with a 'role'.", param="messages")
        text = prompt_text(messages)
        prompt_tokens = count_prompt_tokens(text)
        identity = prompt_identity(payload, "messages")
        match_text = last_user_text(messages)
    else:
        prompt = payload.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str | list):
            prompt = prompt[0]  # a batch of one
        match_text = prompt if isinstance(prompt, str) else None
        if isinstance(prompt, str):
            prompt_tokens = count_prompt_tokens(prompt)
        elif isinstance(prompt, list) and prompt and all(_is_int(t) for t in prompt):
            prompt_tokens = len(prompt)  # token ids
        elif isinstance(prompt, list) and len(prompt) > 1:
            raise BadRequest("Batched prompts are not supported by the simulator.", param="prompt")
        else:
            raise BadRequest("'prompt' must be a string or an array of token ids.", param="prompt")
        identity = prompt_identity({"prompt": prompt}, "prompt")
    stream = payload.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise BadRequest("'stream' must be a boolean.", param="stream")
    include_usage = False
    options = payload.get("stream_options")
    if isinstance(options, dict):
        flag = options.get("include_usage", False)
        if not isinstance(flag, bool):
            raise BadRequest(
                "'stream_options.include_usage' must be a boolean.",
                param="stream_options.include_usage",
            )
        include_usage = flag
    elif options is not None:
        raise BadRequest("'stream_options' must be an object.", param="stream_options")
    limits = [
        _positive_int(payload, name) for name in ("max_completion_tokens", "max_tokens")
    ]  # vLLM's precedence: max_completion_tokens first
    max_tokens = next((limit for limit in limits if limit is not None), None)
    n = payload.get("n", 1)
    if n is not None and n != 1:
        raise BadRequest("Only n=1 is supported by the simulator.", param="n")
    model = payload.get("model")
    return CompletionRequest(
        chat=chat,
        stream=stream,
        include_usage=include_usage and stream,
        max_tokens=max_tokens,
        model=model if isinstance(model, str) and model else None,
        identity=identity,
        prompt_tokens=prompt_tokens,
        match_text=match_text,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise BadRequest(f"'{name}' must be an integer of at least 1.", param=name)
    result: int = value
    return result


def usage(
    prompt_tokens: int, completion_tokens: int, reasoning_tokens: int | None
) -> dict[str, Any]:
    """The ``usage`` object; ``reasoning_tokens`` None leaves out the details."""
    result: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if reasoning_tokens is not None:
        result["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return result


class StreamFormat:
    """Server-sent events of one streamed answer, built from byte templates (cheap per token)."""

    __slots__ = ("_chat", "_head", "_prefix", "_suffix", "_tail")

    def __init__(
        self, completion_id: str, created: int, model: str, *, chat: bool, include_usage: bool
    ) -> None:
        self._chat = chat
        obj = "chat.completion.chunk" if chat else "text_completion"
        self._head = (
            f'data: {{"id":{json.dumps(completion_id)},"object":"{obj}",'
            f'"created":{created},"model":{json.dumps(model)},'
        ).encode()
        self._tail = (b',"usage":null' if include_usage else b"") + b"}\n\n"
        self._prefix = {
            "content": self._head
            + (
                b'"choices":[{"index":0,"delta":{"content":'
                if chat
                else b'"choices":[{"index":0,"text":'
            ),
            "reasoning": self._head + b'"choices":[{"index":0,"delta":{"reasoning_content":',
        }
        self._suffix = (
            b'},"logprobs":null,"finish_reason":null}]'
            if chat
            else b',"logprobs":null,"finish_reason":null}]'
        ) + self._tail

    def role(self) -> bytes:
        """The first chat chunk: the role and nothing else."""
        return (
            self._head
            + b'"choices":[{"index":0,"delta":{"role":"assistant"},'
            + b'"logprobs":null,"finish_reason":null}]'
            + self._tail
        )

    def tokens(self, kind: str, text: str) -> bytes:
        """A chunk carrying ``text`` as content (or text) or, for chat, as reasoning."""
        return self._prefix[kind] + json.dumps(text).encode() + self._suffix

    def finish(self, reason: str) -> bytes:
        delta = b'"delta":{}' if self._chat else b'"text":""'
        return (
            self._head
            + b'"choices":[{"index":0,'
            + delta
            + b',"logprobs":null,"finish_reason":'
            + json.dumps(reason).encode()
            + b"}]"
            + self._tail
        )

    def usage(self, usage_object: dict[str, Any]) -> bytes:
        """The last chunk when include_usage was asked: no choices, the usage."""
        return (
            self._head
            + b'"choices":[],"usage":'
            + json.dumps(usage_object, separators=(",", ":")).encode()
            + b"}\n\n"
        )


def full_answer(
    *,
    completion_id: str,
    created: int,
    model: str,
    chat: bool,
    content: str,
    reasoning: str | None,
    finish_reason: str,
    usage_object: dict[str, Any],
) -> bytes:
    """A non-streamed chat completion or text completion."""
    choice: dict[str, Any]
    if chat:
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if reasoning is not None:
            message["reasoning_content"] = reasoning
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
    else:
        choice = {"index": 0, "text": content, "logprobs": None, "finish_reason": finish_reason}
    return json.dumps(
        {
            "id": completion_id,
            "object": "chat.completion" if chat else "text_completion",
            "created": created,
            "model": model,
            "choices": [choice],
            "usage": usage_object,
        }
    ).encode()
