"""Outcomes stored as compressed column blocks, not one database row per request.

A row per request cost about 134 bytes in SQLite: a 60 s run at 30,000 requests/s added 260 MB
to the store, 10 minutes at 20,000/s about 1.6 GB. A block holds up to ``BLOCK_ROWS`` requests
of one target and phase as columns, delta-encoded and deflated (zlib): timestamps that grow
steadily become small numbers, and repeated sample ids, error kinds and flags are codes into a
table kept once per block. ``benchmarks/store_size.py`` measures the bytes per request of both.

Layout of ``data`` (after inflating): a 4-byte little-endian length, a UTF-8 JSON header
``{"version": 1, "rows": N, "samples": [...], "errors": [...], "predictions": [...] | null}``,
then five little-endian arrays of N values each: ``intended_at`` as differences from the
previous request's (the first from 0; int64), ``sent_at − intended_at`` (int64),
``done_at − sent_at`` (int64), the sample's index in ``samples`` (uint32), and a byte per
request holding the error's index in ``errors`` (0: none) times 4 plus the flags
(1: warm-up, 2: cool-down).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from modelmeter.load.outcome import Outcome

__all__ = ["BLOCK_ROWS", "DecodedBlock", "blocks_of", "decode_block", "encode_block"]

BLOCK_ROWS = 10_000
VERSION = 1
_HEADER_LENGTH = struct.Struct("<I")
_MAX_ERROR_KINDS = 63  # the code shares a byte with two flag bits


@dataclass(frozen=True)
class DecodedBlock:
    """One block's requests as columns; ``error_kind`` holds None where a request succeeded."""

    intended_at: npt.NDArray[np.int64]
    sent_at: npt.NDArray[np.int64]
    done_at: npt.NDArray[np.int64]
    sample_id: list[str]
    error_kind: list[str | None]
    prediction: list[str | None]
    warmup: npt.NDArray[np.bool_]
    cooldown: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.intended_at.size)


def blocks_of(items: Iterable[Outcome], rows: int = BLOCK_ROWS) -> Iterator[list[Outcome]]:
    """``items`` in lists of at most ``rows``: only one block's outcomes in memory at a time."""
    block: list[Outcome] = []
    for item in items:
        block.append(item)
        if len(block) == rows:
            yield block
            block = []
    if block:
        yield block


def encode_block(items: Sequence[Outcome]) -> bytes:
    """The stored form of ``items`` (one target and phase, at most a few thousand)."""
    count = len(items)
    samples: dict[str, int] = {}
    errors: dict[str, int] = {"": 0}
    sample_codes = np.empty(count, dtype="<u4")
    flags = np.empty(count, dtype=np.uint8)
    intended = np.empty(count, dtype="<i8")
    sent = np.empty(count, dtype="<i8")
    done = np.empty(count, dtype="<i8")
    predictions: list[str | None] = []
    for i, item in enumerate(items):
        sample_codes[i] = samples.setdefault(item.sample_id, len(samples))
        error = 0 if item.error is None else errors.setdefault(str(item.error), len(errors))
        if error > _MAX_ERROR_KINDS:
            raise ValueError(f"more than {_MAX_ERROR_KINDS} error kinds in one block")
        flags[i] = error * 4 + item.warmup + 2 * item.cooldown
        intended[i], sent[i], done[i] = item.intended_at, item.sent_at, item.done_at
        predictions.append(item.prediction)
    header = {
        "version": VERSION,
        "rows": count,
        "samples": list(samples),
        "errors": list(errors)[1:],
        "predictions": predictions if any(p is not None for p in predictions) else None,
    }
    encoded = json.dumps(header, separators=(",", ":")).encode()
    steps = np.diff(intended, prepend=np.int64(0)).astype("<i8")
    body = b"".join(
        (
            _HEADER_LENGTH.pack(len(encoded)),
            encoded,
            steps.tobytes(),
            (sent - intended).astype("<i8").tobytes(),
            (done - sent).astype("<i8").tobytes(),
            sample_codes.tobytes(),
            flags.tobytes(),
        )
    )
    return zlib.compress(body, 6)


def decode_block(data: bytes) -> DecodedBlock:
    """The requests of a stored block; ``ValueError`` if it is not one this version wrote."""
    try:
        body = zlib.decompress(data)
        (length,) = _HEADER_LENGTH.unpack_from(body)
        header = json.loads(body[4 : 4 + length])
        count = int(header["rows"])
        if header.get("version") != VERSION or count < 0:
            raise ValueError(f"unknown block version {header.get('version')!r}")
        offset = 4 + length
        arrays = []
        for dtype in ("<i8", "<i8", "<i8", "<u4", "u1"):
            array = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
            offset += array.nbytes
            arrays.append(array)
        if offset != len(body):
            raise ValueError("the block's length does not match its row count")
        steps, lag, service, sample_codes, flags = arrays
        samples: list[str] = header["samples"]
        errors: list[str | None] = [None, *header["errors"]]
        predictions = header["predictions"] or [None] * count
        if len(predictions) != count:
            raise ValueError("the block's predictions do not match its row count")
        intended = np.cumsum(steps, dtype=np.int64)
        sent = intended + lag
        return DecodedBlock(
            intended_at=intended,
            sent_at=sent,
            done_at=sent + service,
            sample_id=[samples[code] for code in sample_codes.tolist()],
            error_kind=[errors[code] for code in (flags >> 2).tolist()],
            prediction=list(predictions),
            warmup=(flags & 1).astype(bool),
            cooldown=(flags & 2).astype(bool),
        )
    except (zlib.error, struct.error, KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"not a stored outcome block: {exc}") from None
