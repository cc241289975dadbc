"""`modelmeter serve` with a sentence-transformers folder speaks OpenAI's /v1/embeddings: the
official SDK (base64 by default, and floats) gets the encoder's own vectors; bad requests get
OpenAI-shaped errors naming the field."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import openai
import pytest

from modelmeter.artefacts.sentence_encoder import load_encoder
from modelmeter.serve import ServerProcess, start_server_process
from tests._embeddings import minilm_folder


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with start_server_process({"minilm": minilm_folder()}) as running:
        yield running


def _post(url: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_official_sdk_gets_the_encoders_vectors(server: ServerProcess) -> None:
    texts = ["What is the capital of France?", "Which city is France's capital?"]
    expected = load_encoder(minilm_folder()).encode(texts)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
    for encoding in ("base64", "float"):
        kwargs = {} if encoding == "base64" else {"encoding_format": "float"}
        answer = client.embeddings.create(model="minilm", input=texts, **kwargs)  # type: ignore[arg-type]
        got = np.array([item.embedding for item in answer.data], dtype=np.float32)
        assert np.abs(got - expected).max() < 1e-6, encoding
        assert [item.index for item in answer.data] == [0, 1]
        assert answer.usage.prompt_tokens == answer.usage.total_tokens > 2 * 2
    models = client.models.list()
    assert [model.id for model in models.data] == ["minilm"]


def test_bad_requests_name_the_field(server: ServerProcess) -> None:
    url = server.url + "/v1/embeddings"
    cases = [
        (b"{not json", 400, None, "not valid JSON"),
        ({"model": "minilm", "input": [1, 2, 3]}, 400, "input", "token ids are not taken"),
        ({"model": "minilm", "input": []}, 400, "input", "non-empty list"),
        ({"model": "nope", "input": "hi"}, 404, "model", "unknown model 'nope'"),
        ({"model": "minilm", "input": "hi", "encoding_format": "int8"}, 400, "encoding_format", ""),
        ({"model": "minilm", "input": "hi", "dimensions": 128}, 400, "dimensions", "384 only"),
    ]
    for body, status, param, message in cases:
        got, answer = _post(url, body)
        assert got == status, body
        assert answer["error"]["param"] == param
        assert message in answer["error"]["message"]
    got, answer = _post(
        server.url + "/v2/models/minilm/infer",
        {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["hi"]}]},
    )
    assert (got, answer) == (400, {"error": "'minilm' is an embeddings model: POST /v1/embeddings"})
