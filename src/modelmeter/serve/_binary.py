"""Triton's binary tensor data extension of the Open Inference Protocol.

A request (or answer) carrying ``Inference-Header-Content-Length: N`` is N bytes of JSON head,
then the tensors' raw bytes, one after another in the order of the head's tensors that say
``"parameters": {"binary_data_size": K}`` (and carry no ``data``). A BYTES tensor's bytes are
its elements, each a 4-byte little-endian length and that many bytes. An answer is binary
when the request asks ``"parameters": {"binary_data_output": true}`` (what tritonclient sends
when it names no outputs) or an output with ``"parameters": {"binary_data": true}`` (its
``InferRequestedOutput`` default).
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = [
    "BadTensorData",
    "bytes_tensor",
    "split_binary",
    "wants_binary_output",
    "with_binary_inputs",
]

_LENGTH = struct.Struct("<I")


class BadTensorData(Exception):
    """The binary part of a request does not match its head; the message says how."""


def split_binary(body: bytes, head_length: str) -> tuple[bytes, bytes]:
    """The JSON head and the tensor bytes of ``body``."""
    if not head_length.isdigit() or int(head_length) > len(body):
        raise BadTensorData(
            f"Inference-Header-Content-Length is {head_length[:20]!r}; it must be the byte "
            f"length of the JSON head, at most the body's {len(body):,} bytes"
        )
    length = int(head_length)
    return body[:length], body[length:]


def with_binary_inputs(payload: Any, tensors: bytes) -> None:
    """Put each binary input's elements in its ``data``, as if it had been sent as JSON."""
    inputs = payload.get("inputs") if isinstance(payload, dict) else None
    if not isinstance(inputs, list):
        return  # the JSON checks say what is missing
    offset = 0
    for index, tensor in enumerate(inputs):
        parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
        size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
        if size is None:
            continue
        if type(size) is not int or size < 0:
            raise BadTensorData(f"inputs[{index}].parameters.binary_data_size must be a count")
        chunk = tensors[offset : offset + size]
        if len(chunk) < size:
            raise BadTensorData(
                f"inputs[{index}] says {size:,} bytes of binary data but "
                f"{len(tensors) - offset:,} are left"
            )
        offset += size
        if tensor.get("datatype") == "BYTES":
            tensor["data"] = _bytes_elements(chunk, index)
        else:
            tensor["data"] = None  # the datatype check names what this server takes
    if offset != len(tensors):
        raise BadTensorData(
            f"{len(tensors) - offset:,} bytes of binary data follow the last tensor; the "
            "binary_data_size of the inputs add up to fewer"
        )


def _bytes_elements(chunk: bytes, index: int) -> list[str]:
    texts = []
    at = 0
    while at < len(chunk):
        if at + 4 > len(chunk):
            raise BadTensorData(f"inputs[{index}]: a BYTES element's 4-byte length is cut short")
        (length,) = _LENGTH.unpack_from(chunk, at)
        at += 4
        if at + length > len(chunk):
            raise BadTensorData(f"inputs[{index}]: a BYTES element is longer than its data")
        try:
            texts.append(chunk[at : at + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise BadTensorData(f"inputs[{index}]: an element is not UTF-8 text") from None
        at += length
    return texts


def wants_binary_output(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    parameters = payload.get("parameters")
    if isinstance(parameters, dict) and parameters.get("binary_data_output") is True:
        return True
    outputs = payload.get("outputs")
    return isinstance(outputs, list) and any(
        isinstance(out, dict)
        and isinstance(out.get("parameters"), dict)
        and out["parameters"].get("binary_data") is True
        for out in outputs
    )


def bytes_tensor(texts: list[str]) -> bytes:
    """``texts`` as a BYTES tensor's raw bytes."""
    parts = []
    for text in texts:
        encoded = text.encode("utf-8")
        parts.append(_LENGTH.pack(len(encoded)))
        parts.append(encoded)
    return b"".join(parts)
