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

from modelmeter._exceptions import HTTPStatusFailure, ModelError
from modelmeter.client import DEFAULT_MAX_BODY_BYTES, Endpoint, HttpClient, PreparedRequest
from modelmeter.data.sample import Sample
from modelmeter.spec.targets import OpenAITargetSpec
from modelmeter.targets.base import Prediction, TokenSource
from modelmeter.targets.http_json import fill_template
from modelmeter.targets.openai_answer import StreamedAnswer, Usage, read_whole


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
        max_response_bytes: int = DEFAULT_MAX_BODY_BYTES,
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
        self._max_response_bytes = max_response_bytes
        self._client: HttpClient | None = None
        self._requests: dict[str, PreparedRequest] = {}

    async def start(self) -> None:
        if self._tokenizer_path is not None and self._counter is None:
            self._counter = TokenCounter(self._tokenizer_path)
        if self._client is None:
            self._client = HttpClient(
                self._endpoint,
                timeout_s=self._timeout_s,
                max_body_bytes=self._max_response_bytes,
                kernel_stamps=True,  # TTFT and ITL: see modelmeter.client._stamped
            )

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
        text, usage = read_whole(response.body, chat=self._chat, where=self._endpoint.authority)
        output_tokens, source = self._count(text, usage, chunks=None)
        return Prediction(
            label=text.strip(),
            input_tokens=usage.prompt if usage else None,
            output_tokens=output_tokens,
            token_source=source,
            reasoning_tokens=usage.reasoning if usage else None,
            cached_input_tokens=usage.cached if usage else None,
            sent_at=response.sent_at,
            first_byte_at=response.first_byte_at,
            done_at=response.done_at,
        )

    async def _predict_stream(self, client: HttpClient, sample: Sample) -> Prediction:
        answer = StreamedAnswer()
        response = await client.request(self._prepared(sample), on_body=answer.on_body)
        answer.finish()
        if response.status >= 400:
            raise HTTPStatusFailure(response.status, answer.head.decode("utf-8", "replace"))
        answer.check()
        text = "".join(answer.pieces)
        usage = answer.usage
        output_tokens, source = self._count(text, usage, chunks=answer.chunks)
        tokens_per_chunk = self._tokens_per_chunk(answer, output_tokens)
        return Prediction(
            label=text.strip(),
            input_tokens=usage.prompt if usage else None,
            output_tokens=output_tokens,
            token_source=source,
            reasoning_tokens=usage.reasoning if usage else None,
            cached_input_tokens=usage.cached if usage else None,
            sent_at=response.sent_at,
            first_byte_at=response.first_byte_at,
            first_token_at=answer.content_times[0] if answer.content_times else None,
            first_reasoning_at=answer.first_reasoning_at,
            done_at=response.done_at,
            token_gaps_ns=_gaps(answer.content_times, tokens_per_chunk),
        )

    def _count(
        self, text: str, usage: Usage | None, *, chunks: int | None
    ) -> tuple[int | None, TokenSource | None]:
        if usage is not None and usage.visible_output is not None:
            return usage.visible_output, "usage"
        if self._counter is not None:
            return self._counter.count(text), "tokenizer"
        if chunks is not None:
            return chunks, "chunks"
        return None, None

    def _tokens_per_chunk(self, answer: StreamedAnswer, total: int | None) -> list[int]:
        """Tokens each content chunk carried: counted per chunk where we can, else spread evenly."""
        if self._counter is not None:
            return [self._counter.count(piece) for piece in answer.pieces]
        chunks = len(answer.pieces)
        if not chunks or total is None or total <= chunks:
            return [1] * chunks
        share, extra = divmod(total, chunks)
        return [share + (1 if index < extra else 0) for index in range(chunks)]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


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
        max_response_bytes=spec.max_response_bytes,
    )
