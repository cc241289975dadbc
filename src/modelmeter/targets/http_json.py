"""Any JSON HTTP API: a body template with '{{input}}' and a dotted path to the answer."""

from __future__ import annotations

import json
from typing import Any

from modelmeter._exceptions import ProtocolFailure
from modelmeter.client import DEFAULT_MAX_BODY_BYTES, PreparedRequest
from modelmeter.data.sample import Sample
from modelmeter.spec.targets import HttpTargetSpec
from modelmeter.targets._answers import token_count
from modelmeter.targets._http import JsonHttpClient, dig, path_of
from modelmeter.targets.base import Prediction

PLACEHOLDER = "{{input}}"


def fill_template(template: Any, text: str) -> Any:
    """Replace the placeholder in every string of a JSON template (keys left alone)."""
    if isinstance(template, str):
        return template.replace(PLACEHOLDER, text)
    if isinstance(template, list):
        return [fill_template(item, text) for item in template]
    if isinstance(template, dict):
        return {key: fill_template(value, text) for key, value in template.items()}
    return template


def _token_count(answer: Any, path: str | None) -> int | None:
    if path is None:
        return None
    return token_count(dig(answer, path), f"at '{path}'")


class HttpJsonTarget:
    kind = "http"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        method: str = "POST",
        headers: dict[str, str] | None = None,
        body: Any = None,
        response_path: str = "prediction",
        input_tokens_path: str | None = None,
        output_tokens_path: str | None = None,
        timeout_s: float = 30.0,
        max_response_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.name = name
        self._path = path_of(url)
        self._method = method
        self._template = body if body is not None else {"input": PLACEHOLDER}
        self._response_path = response_path
        self._input_tokens_path = input_tokens_path
        self._output_tokens_path = output_tokens_path
        self._client = JsonHttpClient(url, timeout_s, headers, max_response_bytes)
        self._requests: dict[str, PreparedRequest] = {}

    async def start(self) -> None:
        await self._client.open()

    async def predict(self, sample: Sample) -> Prediction:
        prepared = self._requests.get(sample.id)
        if prepared is None:
            body = json.dumps(fill_template(self._template, sample.input)).encode()
            prepared = self._client.prepare(self._method, self._path, body)
            self._requests[sample.id] = prepared
        response, answer = await self._client.send(prepared)
        label, input_tokens, output_tokens = self.read_answer(answer)
        return Prediction(
            label=label,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            token_source="usage" if self._output_tokens_path else None,
            sent_at=response.sent_at,
            first_byte_at=response.first_byte_at,
            done_at=response.done_at,
        )

    def read_answer(self, answer: Any) -> tuple[str, int | None, int | None]:
        """The label and the token counts (input, output) in a decoded answer."""
        label = dig(answer, self._response_path)
        if isinstance(label, dict | list) or label is None:
            raise ProtocolFailure(
                f"value at '{self._response_path}' is a {type(label).__name__}, expected text"
            )
        return (
            str(label),
            _token_count(answer, self._input_tokens_path),
            _token_count(answer, self._output_tokens_path),
        )

    async def close(self) -> None:
        await self._client.close()


def from_spec(spec: HttpTargetSpec) -> HttpJsonTarget:
    return HttpJsonTarget(
        spec.name,
        spec.url,
        method=spec.method,
        headers={key: value.get_secret_value() for key, value in spec.headers.items()},
        body=spec.body,
        response_path=spec.response_path,
        input_tokens_path=spec.input_tokens_path,
        output_tokens_path=spec.output_tokens_path,
        timeout_s=spec.timeout_s,
        max_response_bytes=spec.max_response_bytes,
    )
