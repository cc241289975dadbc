"""Sentence embeddings from a sentence-transformers model folder, computed with NumPy.

A folder as sentence-transformers saves it (``config.json`` of a BERT model, ``model.safetensors``,
``tokenizer.json``, ``modules.json`` and ``1_Pooling/config.json``; all-MiniLM-L6-v2 is one)
becomes an `Encoder`: texts in, one vector each out, the same vectors sentence-transformers
computes (to float32 rounding; ``tests/artefacts`` compares them). Weights are read with
``safetensors`` and tokens cut by ``tokenizers`` (the ``llm`` extra); nothing else is needed, so a
gateway's semantic cache or a test can have a real embeddings endpoint without PyTorch.

Only the BERT family (``model_type`` bert) with absolute positions is supported, which covers
all-MiniLM and the BERT-based BGE and E5 models; another architecture is refused
with a `ModelError` naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf

from modelmeter._exceptions import ModelError

__all__ = ["Encoder", "is_encoder_folder", "load_encoder"]

_BATCH = 32  # texts per forward pass: pads less than one batch of all, and bounds memory
_FILES = ("config.json", "model.safetensors", "tokenizer.json")


def is_encoder_folder(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in _FILES)


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class Encoder:
    """A loaded BERT sentence encoder; `encode` is synchronous and CPU-bound (NumPy releases
    the GIL in its matrix products, so threads help)."""

    def __init__(
        self,
        path: Path,
        config: dict[str, Any],
        weights: dict[str, np.ndarray],
        tokenizer: Any,
        pooling: str,
        normalize: bool,
        max_tokens: int,
    ) -> None:
        self.path = path
        self.dimensions = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.pooling = pooling
        self.normalize = normalize
        self.max_tokens = max_tokens
        self._tokenizer = tokenizer
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

        def weight(name: str) -> np.ndarray:
            try:
                return np.ascontiguousarray(weights[prefix + name], dtype=np.float32)
            except KeyError:
                raise ModelError(
                    f"{path}: model.safetensors has no tensor {prefix + name}"
                ) from None

        self._words = weight("embeddings.word_embeddings.weight")
        self._positions = weight("embeddings.position_embeddings.weight")
        self._types = weight("embeddings.token_type_embeddings.weight")
        self._norm = (weight("embeddings.LayerNorm.weight"), weight("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(int(config["num_hidden_layers"])):
            at = f"encoder.layer.{i}."
            parts = [f"{at}attention.self.{p}" for p in ("query", "key", "value")]
            self._layers.append(
                _Layer(
                    qkv=np.concatenate([weight(p + ".weight").T for p in parts], axis=1),
                    qkv_bias=np.concatenate([weight(p + ".bias") for p in parts]),
                    out=weight(at + "attention.output.dense.weight").T.copy(),
                    out_bias=weight(at + "attention.output.dense.bias"),
                    norm1=(
                        weight(at + "attention.output.LayerNorm.weight"),
                        weight(at + "attention.output.LayerNorm.bias"),
                    ),
                    up=weight(at + "intermediate.dense.weight").T.copy(),
                    up_bias=weight(at + "intermediate.dense.bias"),
                    down=weight(at + "output.dense.weight").T.copy(),
                    down_bias=weight(at + "output.dense.bias"),
                    norm2=(
                        weight(at + "output.LayerNorm.weight"),
                        weight(at + "output.LayerNorm.bias"),
                    ),
                )
            )

    def count_tokens(self, texts: list[str]) -> int:
        return sum(len(e.ids) for e in self._tokenizer.encode_batch(texts))

    def encode(self, texts: list[str]) -> np.ndarray:
        """One float32 vector per text, shape ``(len(texts), dimensions)``."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        # Sorted by length so each batch pads to texts of about its own length.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), _BATCH):
            chosen = order[start : start + _BATCH]
            result[chosen] = self._encode_batch([texts[i] for i in chosen])
        return result

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        batch, length = ids.shape
        x = self._words[ids] + self._positions[:length][None] + self._types[types]
        x = _layer_norm(x, *self._norm, self.eps)
        heads, size = self.heads, self.dimensions // self.heads
        scale = 1.0 / math.sqrt(size)
        # Padding is never attended to: a large negative score before the softmax.
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for layer in self._layers:
            qkv = x @ layer.qkv + layer.qkv_bias
            q, k, v = (
                qkv[..., i * self.dimensions : (i + 1) * self.dimensions]
                .reshape(batch, length, heads, size)
                .transpose(0, 2, 1, 3)
                for i in range(3)
            )
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dimensions)
            x = _layer_norm(x + context @ layer.out + layer.out_bias, *layer.norm1, self.eps)
            hidden = _gelu(x @ layer.up + layer.up_bias)
            x = _layer_norm(x + hidden @ layer.down + layer.down_bias, *layer.norm2, self.eps)
        if self.pooling == "cls":
            pooled = x[:, 0]
        else:
            pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        if self.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32, copy=False)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    normed: np.ndarray = centred / np.sqrt(variance + eps) * weight + bias
    return normed


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU, x·Φ(x), through erf (scipy's is vectorised; math.erf is not).
    result: np.ndarray = 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    return result


def load_encoder(path: Path) -> Encoder:
    """Load the sentence-transformers folder at ``path``; `ModelError` says what is missing."""
    path = Path(path)
    missing = [name for name in _FILES if not (path / name).is_file()]
    if missing:
        raise ModelError(
            f"{path}: not a sentence-transformers model folder; missing {', '.join(missing)}"
        )
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelError(
            f"serving the embeddings model at {path} needs the 'safetensors' and 'tokenizers' "
            f"packages ({exc}); install them with: pip install 'modelmeter[llm]'"
        ) from None
    config = _json(path / "config.json")
    if config.get("model_type") != "bert":
        raise ModelError(
            f"{path / 'config.json'}: model_type {config.get('model_type')!r} is not supported; "
            "only BERT sentence encoders (model_type 'bert') are"
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ModelError(f"{path / 'config.json'}: only absolute position embeddings are supported")
    pooling, normalize = _pooling(path)
    max_tokens = int(config.get("max_position_embeddings", 512))
    settings = path / "sentence_bert_config.json"
    if settings.is_file():
        max_tokens = min(max_tokens, int(_json(settings).get("max_seq_length", max_tokens)))
    try:
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        weights = load_file(str(path / "model.safetensors"))
    except Exception as exc:  # the libraries raise their own kinds for damaged files
        raise ModelError(f"{path}: cannot load the tokenizer or the weights: {exc}") from None
    tokenizer.enable_truncation(max_tokens)
    tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))  # to the longest
    return Encoder(path, config, weights, tokenizer, pooling, normalize, max_tokens)


def _pooling(path: Path) -> tuple[str, bool]:
    """Mean or CLS pooling, and whether vectors are normalised, from ``modules.json``; a
    folder without it is pooled by mean and normalised, as sentence-transformers does."""
    modules_file = path / "modules.json"
    if not modules_file.is_file():
        return "mean", True
    modules = _json(modules_file)
    normalize = any(str(m.get("type", "")).endswith(".Normalize") for m in modules)
    pooling = "mean"
    for module in modules:
        if str(module.get("type", "")).endswith(".Pooling"):
            settings = _json(path / module.get("path", "1_Pooling") / "config.json")
            if settings.get("pooling_mode_cls_token"):
                pooling = "cls"
            elif not settings.get("pooling_mode_mean_tokens", True):
                raise ModelError(f"{path}: only mean or CLS pooling is supported, not {settings}")
    return pooling, normalize


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read it as JSON: {exc}") from None
