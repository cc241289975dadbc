"""OpenAI's ``POST /v1/embeddings`` for the encoders `serve` loads (sentence-transformers folders).

The request is ``{"model", "input": str | [str, ...], "encoding_format"?: "float" | "base64",
"dimensions"?}``; the answer ``{"object": "list", "data": [{"object": "embedding", "index",
"embedding"}], "model", "usage": {"prompt_tokens", "total_tokens"}}``. The official SDK asks for
base64 by default: little-endian float32 bytes, base64-encoded. Token ids as input are refused
(there is no tokenizer contract to check them against), as is a ``dimensions`` other than the
model's. Errors are OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

__all__ = ["BadEmbeddingsRequest", "EmbeddingsRequest", "embeddings_answer", "openai_error"]


class BadEmbeddingsRequest(Exception):
    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.status = status


class EmbeddingsRequest:
    __slots__ = ("base64", "model", "texts")

    def __init__(self, payload: Any, max_texts: int) -> None:
        if not isinstance(payload, dict):
            raise BadEmbeddingsRequest('the body must be a JSON object with "model" and "input"')
        model = payload.get("model")
        if not isinstance(model, str):
            raise BadEmbeddingsRequest('"model" must be the name of a served model', "model")
        self.model = model
        given = payload.get("input")
        if isinstance(given, str):
            texts = [given]
        elif isinstance(given, list) and given and all(isinstance(t, str) for t in given):
            texts = given
        else:
            raise BadEmbeddingsRequest(
                '"input" must be a string or a non-empty list of strings (token ids are not taken)',
                "input",
            )
        if len(texts) > max_texts:
            raise BadEmbeddingsRequest(
                f'"input" holds {len(texts):,} texts; at most {max_texts:,} per request',
                "input",
                413,
            )
        self.texts = texts
        encoding = payload.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise BadEmbeddingsRequest(
                f'"encoding_format" is {str(encoding)[:40]!r}; "float" or "base64"',
                "encoding_format",
            )
        self.base64 = encoding == "base64"

    def check_dimensions(self, payload: dict[str, Any], dimensions: int) -> None:
        wanted = payload.get("dimensions")
        if wanted is not None and wanted != dimensions:
            raise BadEmbeddingsRequest(
                f'"dimensions" is {str(wanted)[:20]}; {self.model!r} answers {dimensions} only',
                "dimensions",
            )


def embeddings_answer(request: EmbeddingsRequest, vectors: np.ndarray, tokens: int) -> Any:
    data: list[dict[str, Any]] = []
    for index, row in enumerate(np.asarray(vectors, dtype="<f4")):
        encoded: Any = base64.b64encode(row.tobytes()).decode() if request.base64 else row.tolist()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def openai_error(message: str, kind: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}
