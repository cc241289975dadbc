"""OpenAI-compatible chat and text completions (vLLM, llama.cpp, Ollama, TGI, OpenRouter, ...).

Streaming answers are timed chunk by chunk as the bytes arrive: the first chunk that carries
output content gives TTFT (a role-only or empty chunk does not count, reasoning content is timed
apart), and the gaps between content chunks, divided among the tokens each carried, give the
inter-token latencies. Output tokens come from the server's ``usage`` (asked for with
``stream_options.include_usage``), else from a tokenizer file the user supplies, else from the
number of content chunks; the outcome says which.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelmeter._exceptions import HTTPStatusFailure, ModelError, ProtocolFailure
from modelmeter.client import Endpoint, HttpClient, PreparedRequest
from modelmeter.client.sse import SseParser
from modelmeter.data.sample import Sample
from modelmeter.spec.targets import OpenAITargetSpec
from modelmeter.targets.base import Prediction, TokenSource
from modelmeter.targets.http_json import fill_template


class TokenCounter:
    """Counts tokens with a Hugging Face ``tokenizer.json`` the user supplies (never downloaded)."""

    def __init__(self, path: Path) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ModelError(
                "counting tokens with a tokenizer file needs the 'tokenizers' package: "
                "pip install 'modelmeter[llm]'"
            ) from None
        try:
            self._tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the library raises its own exception types
            raise ModelError(f"cannot load tokenizer file {path}: {exc}") from None

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


class _StreamState:
    """Collects one streamed answer as its server-sent events arrive.

    The receive path only stamps and keeps the bytes (``on_body``); events are parsed and their
    JSON decoded once the response is complete (``finish``). Decoding as chunks arrive would
    delay the receive stamps of every other stream whose bytes the same loop iteration
    delivers, skewing their inter-token gaps under bursts.
    """

    __slots__ = (
        "chunks",
        "content_times",
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
        self.usage: dict[str, Any] | None = None
        self.chunks = 0

    def on_body(self, data: bytes, received_at: int) -> None:
        # Called from the connection's receive path: keep it to an append.
        self.raw.append((data, received_at))

    def finish(self) -> None:
        """Parse what arrived, in order, with each piece's receive time; never raises."""
        for data, received_at in self.raw:
            if len(self.head) < 2048:
                self.head += data[: 2048 - len(self.head)]
            for event in self.parser.feed(data, received_at):
                if event.data == "[DONE]" or self.error is not None:
                    continue
                try:
                    chunk = json.loads(event.data)
                except json.JSONDecodeError:
                    self.error = f"stream chunk is not JSON: {event.data[:120]!r}"
                    continue
                self._take(chunk, event.received_at)
        self.raw.clear()
        self.parser.close()

    def _take(self, chunk: Any, received_at: int) -> None:
        if not isinstance(chunk, dict):
            self.error = "stream chunk is not a JSON object"
            return
        if "error" in chunk:
            self.error = f"error in stream: {str(chunk['error'])[:200]}"
            return
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
            reasoning = delta.get("reasoning_content") if isinstance(delta, dict) else None
            if reasoning:
                self.reasoning.append(reasoning)
                if self.first_reasoning_at is None:
                    self.first_reasoning_at = received_at
            if text:
                self.pieces.append(text)
                self.content_times.append(received_at)
                self.chunks += 1


def _gaps(times: list[int], tokens_per_chunk: list[int]) -> tuple[int, ...]:
    """One gap per token after the first: each chunk's gap split evenly among its tokens."""
    gaps: list[int] = []
    for index in range(1, len(times)):
        tokens = max(tokens_per_chunk[index], 1)
        share = (times[index] - times[index - 1]) // tokens
        gaps.extend([share] * tokens)
    return tuple(gaps)


class OpenAITarget:
    kind = "openai"

    def __init__(
        self,
        name: str,
        url: str,
        model: str,
        *,
        endpoint: str = "chat",
        stream: bool = True,
        max_tokens: int | None = 256,
        temperature: float | None = 0.0,
        system_prompt: str | None = None,
        prompt_template: str = "{{input}}",
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        extra_body: dict[str, Any] | None = None,
        tokenizer: Path | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.name = name
        base = Endpoint.from_url(url)
        self._endpoint = base
        prefix = url.split("://", 1)[1].partition("/")[2].rstrip("/")
        self._path = f"/{prefix}/{'chat/completions' if endpoint == 'chat' else 'completions'}"
        self._path = self._path.replace("//", "/")
        self._chat = endpoint == "chat"
        self._stream = stream
        self._model = model
        self._max_tokens = max_tokens
        self._temperature = temperature
        self._system_prompt = system_prompt
        self._template = prompt_template
        self._extra = extra_body or {}
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._tokenizer_path = tokenizer
        self._counter: TokenCounter | None = None
        self._timeout_s = timeout_s
        self._client: HttpClient | None = None
        self._requests: dict[str, PreparedRequest] = {}

    async def start(self) -> None:
        if self._tokenizer_path is not None and self._counter is None:
            self._counter = TokenCounter(self._tokenizer_path)
        if self._client is None:
            self._client = HttpClient(self._endpoint, timeout_s=self._timeout_s)

    def _body(self, text: str) -> dict[str, Any]:
        prompt = fill_template(self._template, text)
        body: dict[str, Any] = {"model": self._model}
        if self._chat:
            messages = []
            if self._system_prompt:
                messages.append({"role": "system", "content": self._system_prompt})
            messages.append({"role": "user", "content": prompt})
            body["messages"] = messages
        else:
            body["prompt"] = prompt
        if self._max_tokens is not None:
            body["max_tokens"] = self._max_tokens
        if self._temperature is not None:
            body["temperature"] = self._temperature
        if self._stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(self._extra)
        return body

    def _prepared(self, sample: Sample) -> PreparedRequest:
        prepared = self._requests.get(sample.id)
        if prepared is None:
            prepared = PreparedRequest.build(
                "POST",
                self._endpoint,
                self._path,
                headers=self._headers,
                body=json.dumps(self._body(sample.input)).encode(),
            )
            self._requests[sample.id] = prepared
        return prepared

    async def predict(self, sample: Sample) -> Prediction:
        if self._client is None:
            await self.start()
        assert self._client is not None
        if self._stream:
            return await self._predict_stream(self._client, sample)
        return await self._predict_whole(self._client, sample)

    async def _predict_whole(self, client: HttpClient, sample: Sample) -> Prediction:
        response = await client.request(self._prepared(sample))
        if response.status >= 400:
            raise HTTPStatusFailure(response.status, response.body.decode("utf-8", "replace"))
        try:
            answer = json.loads(response.body)
            choice = answer["choices"][0]
            text = choice["message"]["content"] if self._chat else choice["text"]
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise ProtocolFailure(f"not an OpenAI completion: {exc}") from None
        usage = answer.get("usage") if isinstance(answer, dict) else None
        output_tokens, source = self._count(text or "", usage, chunks=None)
        return Prediction(
            label=(text or "").strip(),
            input_tokens=_usage_int(usage, "prompt_tokens"),
            output_tokens=output_tokens,
            token_source=source,
            reasoning_tokens=_detail(usage, "completion_tokens_details", "reasoning_tokens"),
            cached_input_tokens=_detail(usage, "prompt_tokens_details", "cached_tokens"),
            sent_at=response.sent_at,
            first_byte_at=response.first_byte_at,
            done_at=response.done_at,
        )

    async def _predict_stream(self, client: HttpClient, sample: Sample) -> Prediction:
        state = _StreamState()
        response = await client.request(self._prepared(sample), on_body=state.on_body)
        state.finish()
        if response.status >= 400:
            raise HTTPStatusFailure(response.status, state.head.decode("utf-8", "replace"))
        if state.error is not None:
            raise ProtocolFailure(state.error)
        if state.parser.malformed:
            raise ProtocolFailure(f"malformed server-sent events ({state.parser.malformed})")
        text = "".join(state.pieces)
        output_tokens, source = self._count(text, state.usage, chunks=state.chunks)
        tokens_per_chunk = self._tokens_per_chunk(state, output_tokens)
        return Prediction(
            label=text.strip(),
            input_tokens=_usage_int(state.usage, "prompt_tokens"),
            output_tokens=output_tokens,
            token_source=source,
            reasoning_tokens=_detail(state.usage, "completion_tokens_details", "reasoning_tokens"),
            cached_input_tokens=_detail(state.usage, "prompt_tokens_details", "cached_tokens"),
            sent_at=response.sent_at,
            first_byte_at=response.first_byte_at,
            first_token_at=state.content_times[0] if state.content_times else None,
            first_reasoning_at=state.first_reasoning_at,
            done_at=response.done_at,
            token_gaps_ns=_gaps(state.content_times, tokens_per_chunk),
        )

    def _count(
        self, text: str, usage: dict[str, Any] | None, *, chunks: int | None
    ) -> tuple[int | None, TokenSource | None]:
        from_usage = _usage_int(usage, "completion_tokens")
        if from_usage is not None:
            reasoning = _usage_int(
                (usage or {}).get("completion_tokens_details") or {}, "reasoning_tokens"
            )
            # Reasoning tokens are billed as output but are not in the visible answer.
            return from_usage - (reasoning or 0), "usage"
        if self._counter is not None:
            return self._counter.count(text), "tokenizer"
        if chunks is not None:
            return chunks, "chunks"
        return None, None

    def _tokens_per_chunk(self, state: _StreamState, total: int | None) -> list[int]:
        """Tokens each content chunk carried: counted per chunk where we can, else spread evenly."""
        if self._counter is not None:
            return [self._counter.count(piece) for piece in state.pieces]
        chunks = len(state.pieces)
        if not chunks or total is None or total <= chunks:
            return [1] * chunks
        share, extra = divmod(total, chunks)
        return [share + (1 if index < extra else 0) for index in range(chunks)]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _detail(usage: Any, section: str, key: str) -> int | None:
    """A count from a usage detail section (``completion_tokens_details.reasoning_tokens``)."""
    return _usage_int(usage.get(section) if isinstance(usage, dict) else None, key)


def _usage_int(usage: Any, key: str) -> int | None:
    if not isinstance(usage, dict):
        return None
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def from_spec(spec: OpenAITargetSpec) -> OpenAITarget:
    return OpenAITarget(
        spec.name,
        spec.url,
        spec.model,
        endpoint=spec.endpoint,
        stream=spec.stream,
        max_tokens=spec.max_tokens,
        temperature=spec.temperature,
        system_prompt=spec.system_prompt,
        prompt_template=spec.prompt_template,
        api_key=spec.api_key.get_secret_value() if spec.api_key else None,
        headers={key: value.get_secret_value() for key, value in spec.headers.items()},
        extra_body=spec.extra_body,
        tokenizer=spec.tokenizer,
        timeout_s=spec.timeout_s,
    )
