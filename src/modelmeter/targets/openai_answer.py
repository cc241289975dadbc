"""Reading an OpenAI-compatible answer, whole or streamed, without trusting the server.

Everything here turns a malformed answer into a `ProtocolFailure` (one counted error with its
message kept as the sample), never into another exception: chunks that are not objects,
``choices`` that is not a list, content that is a number, token counts that are negative. Content
sent as a list of parts (``[{"type": "text", "text": ...}]``), which some providers stream, is
read as the text of its parts. A stream must end with ``data: [DONE]``; one that stops without
it was cut off, whatever it carried, and is not counted as a complete answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelmeter._exceptions import ProtocolFailure
from modelmeter.client.sse import SseParser
from modelmeter.targets._answers import decode_json, shown, text_of, token_count

# No single server-sent event of a chat stream is anywhere near this; a larger one is refused.
MAX_EVENT_BYTES = 1 << 20
_HEAD_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Usage:
    """The token counts of an answer's ``usage``, each checked; None where not reported."""

    prompt: int | None = None
    completion: int | None = None
    reasoning: int | None = None
    cached: int | None = None

    @classmethod
    def read(cls, usage: Any) -> Usage | None:
        if usage is None:
            return None
        if not isinstance(usage, dict):
            raise ProtocolFailure(f"usage is {shown(usage)}, expected an object")
        usage_detail = _section(usage, "completion_tokens_details")
        prompt_detail = _section(usage, "prompt_tokens_details")
        read = cls(
            prompt=token_count(usage.get("prompt_tokens"), "usage.prompt_tokens"),
            completion=token_count(usage.get("completion_tokens"), "usage.completion_tokens"),
            reasoning=token_count(
                usage_detail.get("reasoning_tokens"),
                "usage.completion_tokens_details.reasoning_tokens",
            ),
            cached=token_count(
                prompt_detail.get("cached_tokens"), "usage.prompt_tokens_details.cached_tokens"
            ),
        )
        if read.completion is not None and (read.reasoning or 0) > read.completion:
            raise ProtocolFailure(
                f"usage has {read.reasoning} reasoning tokens, more than its "
                f"{read.completion} completion tokens"
            )
        return read

    @property
    def visible_output(self) -> int | None:
        """Output tokens of the visible answer: reasoning is billed as output but not shown."""
        if self.completion is None:
            return None
        return self.completion - (self.reasoning or 0)


def _section(usage: dict[str, Any], name: str) -> dict[str, Any]:
    section = usage.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ProtocolFailure(f"usage.{name} is {shown(section)}, expected an object")
    return section


def read_whole(body: bytes, *, chat: bool, where: str) -> tuple[str, Usage | None]:
    """The text and usage of a non-streamed completion."""
    answer = decode_json(body, f"answer from {where}")
    if not isinstance(answer, dict):
        raise ProtocolFailure(f"answer from {where} is {shown(answer)}, not an OpenAI completion")
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProtocolFailure(f"answer from {where} has no 'choices' list of objects")
    choice = choices[0]
    if chat:
        message = choice.get("message")
        if not isinstance(message, dict):
            raise ProtocolFailure(f"answer from {where} has no 'choices.0.message' object")
        text = text_of(message.get("content"), "choices.0.message.content")
    else:
        text = text_of(choice.get("text"), "choices.0.text")
    return text, Usage.read(answer.get("usage"))


class StreamedAnswer:
    """Collects one streamed answer as its server-sent events arrive.

    The receive path only stamps and keeps the bytes (`on_body`); events are parsed and their
    JSON decoded once the response is complete (`finish`). Decoding as chunks arrive would
    delay the receive stamps of every other stream whose bytes the same loop iteration
    delivers, skewing their inter-token gaps under bursts.
    """

    __slots__ = (
        "chunks",
        "content_times",
        "done",
        "error",
        "first_reasoning_at",
        "head",
        "parser",
        "pieces",
        "raw",
        "reasoning",
        "usage",
    )

    def __init__(self) -> None:
        self.parser = SseParser()
        self.raw: list[tuple[bytes, int]] = []
        self.pieces: list[str] = []
        self.reasoning: list[str] = []
        self.content_times: list[int] = []
        self.error: str | None = None
        # The first bytes, kept for the message when the server answers with an error status.
        self.head = b""
        self.first_reasoning_at: int | None = None
        self.usage: Usage | None = None
        self.chunks = 0
        self.done = False  # `data: [DONE]` arrived

    def on_body(self, data: bytes, received_at: int) -> None:
        # Called from the connection's receive path: keep it to an append.
        self.raw.append((data, received_at))

    def finish(self) -> None:
        """Parse what arrived, in order, with each piece's receive time; never raises.

        The first thing wrong is kept in ``error``; `check` raises it.
        """
        for data, received_at in self.raw:
            if len(self.head) < _HEAD_BYTES:
                self.head += data[: _HEAD_BYTES - len(self.head)]
            if self.error is not None:
                continue  # the head is still wanted, the rest is not
            for event in self.parser.feed(data, received_at):
                try:
                    self._take(event.data, received_at=event.received_at)
                except ProtocolFailure as exc:
                    self.error = str(exc)
                    break
        self.raw.clear()
        self.parser.close()

    def check(self) -> None:
        """Raise the first problem of a 2xx stream: a bad chunk, malformed events, no end."""
        if self.error is not None:
            raise ProtocolFailure(self.error)
        if self.parser.malformed:
            raise ProtocolFailure(f"malformed server-sent events ({self.parser.malformed})")
        if not self.done:
            raise ProtocolFailure(
                f"stream ended without 'data: [DONE]' after {self.chunks} content chunks"
            )

    def _take(self, data: str, *, received_at: int) -> None:
        if self.done:
            raise ProtocolFailure("stream went on after 'data: [DONE]'")
        if data == "[DONE]":
            self.done = True
            return
        if len(data) > MAX_EVENT_BYTES:
            raise ProtocolFailure(
                f"stream chunk of {len(data):,} characters, more than {MAX_EVENT_BYTES:,}"
            )
        chunk = decode_json(data, "stream chunk")
        if not isinstance(chunk, dict):
            raise ProtocolFailure(f"stream chunk is {shown(chunk)}, not a JSON object")
        if "error" in chunk:
            raise ProtocolFailure(f"error in stream: {shown(chunk['error'])}")
        usage = Usage.read(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        choices = chunk.get("choices")
        if choices is None:
            return
        if not isinstance(choices, list):
            raise ProtocolFailure(f"stream chunk's 'choices' is {shown(choices)}, not a list")
        for choice in choices:
            if not isinstance(choice, dict):
                raise ProtocolFailure(f"stream chunk has a choice that is {shown(choice)}")
            delta = choice.get("delta")
            if delta is None:  # text completions stream 'text', not 'delta'
                text = text_of(choice.get("text"), "choices[].text")
                reasoning = ""
            elif isinstance(delta, dict):
                text = text_of(delta.get("content"), "choices[].delta.content")
                reasoning = text_of(
                    delta.get("reasoning_content"), "choices[].delta.reasoning_content"
                )
            else:
                raise ProtocolFailure(f"stream chunk has a delta that is {shown(delta)}")
            if reasoning:
                self.reasoning.append(reasoning)
                if self.first_reasoning_at is None:
                    self.first_reasoning_at = received_at
            if text:
                self.pieces.append(text)
                self.content_times.append(received_at)
                self.chunks += 1
