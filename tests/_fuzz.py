"""Byte-level mutation for the hypothesis fuzzers: a valid input, slightly broken."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st


@st.composite
def mutated(
    draw: st.DrawFn,
    source: st.SearchStrategy[bytes],
    *,
    hostile: Sequence[bytes] = (),
    min_edits: int = 0,
) -> bytes:
    """``source``'s bytes with up to four edits: bytes flipped, dropped or inserted, and with
    ``hostile`` given, one of those pieces spliced in or the rest cut off."""
    raw = bytearray(draw(source))
    actions = ["flip", "drop", "insert", *(["hostile", "truncate"] if hostile else [])]
    for _ in range(draw(st.integers(min_edits, 4))):
        where = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(actions))
        if action == "hostile":
            raw[where:where] = draw(st.sampled_from(list(hostile)))
        elif action == "truncate":
            del raw[where:]
        elif action == "insert" or not raw or where == len(raw):
            raw[where:where] = draw(st.binary(min_size=1, max_size=3))
        elif action == "flip":
            raw[where] ^= draw(st.integers(1, 255))
        else:
            del raw[where]
    return bytes(raw)
