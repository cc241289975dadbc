"""The incremental SSE parser against a literal, character-by-character reading of the standard."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmeter.client.sse import SseEvent, SseParser


@dataclass(frozen=True)
class Expected:
    data: str
    event: str | None
    id: str | None
    end: int  # byte offset of the line end that dispatched the event


def reference_events(text: str) -> list[Expected]:
    """The HTML standard's event stream interpretation, one character at a time.

    Byte offsets are those of ``text`` encoded as UTF-8, so a caller can tell which piece of a
    split stream completed each event.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
        offset = 3
    else:
        offset = 0
    events: list[Expected] = []
    data_buffer = ""
    event_type = ""
    last_id: str | None = None
    line = ""
    index = 0
    while index < len(text):
        char = text[index]
        if char not in "\r\n":
            line += char
            offset += len(char.encode("utf-8", "surrogatepass"))
            index += 1
            continue
        end = offset
        step = 2 if text.startswith("\r\n", index) else 1
        index += step
        offset += step
        if line == "":
            if data_buffer:
                events.append(
                    Expected(data_buffer.removesuffix("\n"), event_type or None, last_id, end)
                )
            data_buffer = ""
            event_type = ""
        elif not line.startswith(":"):
            name, colon, value = line.partition(":")
            if colon and value.startswith(" "):
                value = value[1:]
            if name == "data":
                data_buffer += value + "\n"
            elif name == "event":
                event_type = value
            elif name == "id" and "\0" not in value:
                last_id = value
        line = ""
    return events


def parse_in_pieces(raw: bytes, cuts: list[int]) -> tuple[list[SseEvent], SseParser]:
    parser = SseParser()
    events: list[SseEvent] = []
    bounds = [0, *sorted(set(cuts)), len(raw)]
    for piece_index, (start, stop) in enumerate(itertools.pairwise(bounds)):
        events.extend(parser.feed(raw[start:stop], received_at=piece_index))
    parser.close()
    return events, parser


# A grammar of well-formed streams: fields, comments and blank lines with any line ending.
line_ends = st.sampled_from(["\n", "\r\n", "\r"])
values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
)
field_lines = st.one_of(
    st.builds(lambda v, sp: f"data:{sp}{v}", values, st.sampled_from(["", " ", "  "])),
    st.builds(lambda v: f"event: {v}", values),
    st.builds(lambda v: f"id: {v}", values.filter(lambda v: "\0" not in v)),
    st.builds(lambda v: f":{v}", values),
    st.just("data"),
    st.just("retry: 3000"),
)


def join_stream(events: list[tuple[list[tuple[str, str]], str]]) -> str:
    """Each event's lines with their ends, then the blank line that dispatches it."""
    text = ""
    for lines, blank_line_end in events:
        for line, end in [*lines, ("", blank_line_end)]:
            if text.endswith("\r") and line == "" and end == "\n":
                end = "\r\n"  # a lone LF here would pair with the CR before it
            text += line + end
    return text


events_text = st.lists(
    st.tuples(st.lists(st.tuples(field_lines, line_ends), max_size=4), line_ends), max_size=8
).map(join_stream)


@settings(max_examples=400)
@given(text=events_text, bom=st.booleans(), data=st.data())
def test_any_split_gives_the_events_of_the_whole_stream(
    text: str, bom: bool, data: st.DataObject
) -> None:
    text = ("\ufeff" if bom else "") + text
    raw = text.encode()
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=12), label="cuts")

    whole, whole_parser = parse_in_pieces(raw, [])
    pieces, pieces_parser = parse_in_pieces(raw, cuts)

    expected = reference_events(text)
    assert [(e.data, e.event, e.id) for e in whole] == [(e.data, e.event, e.id) for e in expected]
    assert [e[:3] for e in pieces] == [e[:3] for e in whole]
    assert whole_parser.malformed == pieces_parser.malformed == 0


@settings(max_examples=300)
@given(text=events_text, data=st.data())
def test_each_event_carries_the_receive_time_of_the_piece_that_ended_it(
    text: str, data: st.DataObject
) -> None:
    raw = text.encode()
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(len(raw) - 1, 1)), max_size=12))))
    cuts = [c for c in cuts if 0 < c < len(raw)]
    bounds = [0, *cuts, len(raw)]

    events, _ = parse_in_pieces(raw, cuts)

    expected = reference_events(text)
    assert len(events) == len(expected)
    for event, wanted in zip(events, expected, strict=True):
        piece = next(
            i for i, (a, b) in enumerate(itertools.pairwise(bounds)) if a <= wanted.end < b
        )
        assert event.received_at == piece


@settings(max_examples=500)
@given(raw=st.binary(max_size=200), data=st.data())
def test_arbitrary_bytes_never_raise_and_decode_as_the_standard_says(
    raw: bytes, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=10))

    events, parser = parse_in_pieces(raw, cuts)

    expected = reference_events(raw.decode("utf-8", errors="replace"))
    assert [(e.data, e.event, e.id) for e in events] == [(e.data, e.event, e.id) for e in expected]
    assert parser.malformed >= 0


@settings(max_examples=300)
@given(
    raw=st.lists(
        st.sampled_from(
            [b"data: x", b"data:", b": ping", b"event: e", b"\n", b"\r", b"\r\n", b"\xff", b"id: 1"]
        ),
        max_size=20,
    ).map(b"".join),
    data=st.data(),
)
def test_streams_of_the_usual_tokens_agree_with_the_standard(
    raw: bytes, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=10))
    events, _ = parse_in_pieces(raw, cuts)
    expected = reference_events(raw.decode("utf-8", errors="replace"))
    assert [(e.data, e.event, e.id) for e in events] == [(e.data, e.event, e.id) for e in expected]


def feed_all(*pieces: bytes) -> tuple[list[SseEvent], SseParser]:
    parser = SseParser()
    events = [event for i, piece in enumerate(pieces) for event in parser.feed(piece, i)]
    parser.close()
    return events, parser


def test_an_openai_stream() -> None:
    body = (
        b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'
        b": ping\n\n"
        b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    events, parser = feed_all(body)
    assert [e.data for e in events] == [
        '{"choices":[{"delta":{"role":"assistant"}}]}',
        '{"choices":[{"delta":{"content":"Hi"}}]}',
        "[DONE]",
    ]
    assert parser.malformed == 0
    assert not parser.truncated


def test_mixed_line_endings_and_a_crlf_split_over_two_pieces() -> None:
    events, parser = feed_all(b"data: a\r\n\r", b"\ndata: b\r\rdata: c\n\r", b"\n")
    assert [(e.data, e.received_at) for e in events] == [("a", 0), ("b", 1), ("c", 1)]
    assert parser.malformed == 0


def test_a_cr_ending_a_piece_dispatches_without_waiting_for_the_next() -> None:
    parser = SseParser()
    assert parser.feed(b"data: a\r", 0) == []
    assert [e.data for e in parser.feed(b"\r", 1)] == ["a"]
    assert parser.feed(b"\n", 2) == []  # the LF pairs with the CR before it: no extra blank line
    assert [e.data for e in parser.feed(b"data: b\n\n", 3)] == ["b"]


def test_multi_line_data_fields_without_colon_and_the_one_optional_space() -> None:
    events, parser = feed_all(b"data: one\ndata\ndata:  two\ndata:three\n\n")
    assert events[0].data == "one\n\n two\nthree"
    assert parser.malformed == 0


def test_event_type_resets_and_last_event_id_persists() -> None:
    events, _ = feed_all(b"event: delta\nid: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
    assert [(e.data, e.event, e.id) for e in events] == [
        ("a", "delta", "7"),
        ("b", None, "7"),
        ("c", None, ""),
    ]


def test_an_event_without_data_is_not_dispatched_and_clears_its_type() -> None:
    events, _ = feed_all(b"event: lonely\nid: 1\n\ndata: x\n\n")
    assert [(e.data, e.event, e.id) for e in events] == [("x", None, "1")]


def test_comments_and_keep_alives_are_ignored() -> None:
    events, parser = feed_all(b": ping\n\n:\n: another\ndata: x\n: inside\n\n")
    assert [e.data for e in events] == ["x"]
    assert parser.malformed == 0


def test_a_bom_split_over_pieces_is_stripped_once() -> None:
    events, _ = feed_all(b"\xef", b"\xbb", b"\xbfdata: x\n\n", b"\xef\xbb\xbfdata: y\n\n")
    assert [e.data for e in events] == ["x"]  # a second BOM starts a field named "\ufeffdata"


@pytest.mark.parametrize(
    ("body", "malformed"),
    [
        (b"data: \xff\xfe\n\n", 1),  # not UTF-8
        (b'{"choices": []}\n\n', 1),  # JSON without "data:"
        (b"id: a\x00b\ndata: x\n\n", 1),
        (b"retry: soon\ndata: x\n\n", 1),
        (b"data: complete\n\ndata: cut off", 1),
        (b"data: open event\n", 1),
        (b"retry: 1500\ndata: x\n\n", 0),
    ],
)
def test_malformed_input_is_counted_not_raised(body: bytes, malformed: int) -> None:
    _, parser = feed_all(body)
    assert parser.malformed == malformed


def test_invalid_utf8_becomes_replacement_characters() -> None:
    events, parser = feed_all(b"data: caf\xc3", b"\xa9 \xff ok\n\n")
    assert events[0].data == "café \ufffd ok"
    assert parser.malformed == 1


def test_close_drops_an_unterminated_event() -> None:
    parser = SseParser()
    assert parser.feed(b"data: [DONE]", 0) == []
    parser.close()
    assert parser.truncated
    assert parser.malformed == 1
    with pytest.raises(ValueError, match="after close"):
        parser.feed(b"\n\n", 1)


def test_a_trailing_comment_without_line_end_is_no_truncation() -> None:
    _, parser = feed_all(b"data: x\n\n: bye")
    assert not parser.truncated
    assert parser.malformed == 0


def test_retry_is_kept() -> None:
    _, parser = feed_all(b"retry: 2500\n\n")
    assert parser.retry_ms == 2500
