"""Fuzz every answer reader: whatever bytes a server sends, only `ProtocolFailure` comes out.

The readers are fed three kinds of input: arbitrary bytes; JSON documents built from the keys
the readers look for, with values of every JSON type in every place; and those documents with
bytes flipped, dropped or inserted. A reader may accept the input or raise `ProtocolFailure`
(which the engine counts as one failed request); any other exception would kill a run.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmeter._exceptions import ProtocolFailure
from modelmeter.targets._answers import decode_json
from modelmeter.targets.http_json import HttpJsonTarget
from modelmeter.targets.oip import OipTarget
from modelmeter.targets.openai_answer import StreamedAnswer, read_whole
from tests._fuzz import mutated

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = [
    "prediction",
    "label",
    "tokens",
    "outputs",
    "name",
    "data",
    "choices",
    "delta",
    "message",
    "content",
    "text",
    "type",
    "reasoning_content",
    "usage",
    "prompt_tokens",
    "completion_tokens",
    "completion_tokens_details",
    "prompt_tokens_details",
    "reasoning_tokens",
    "cached_tokens",
    "error",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["label", "[DONE]", ""])
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=25,
)


# Documents shaped like the answers the readers expect, with any JSON in any place: the shape
# gets the readers past their first checks, so the odd values reach the code deep inside. One
# place in four holds any document instead of the expected shape.
def _odd(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy, documents)


counts = _odd(st.integers(min_value=-(2**40), max_value=2**40))
part = _odd(st.fixed_dictionaries({"type": st.just("text"), "text": _odd(st.text(max_size=4))}))
content = _odd(st.text(max_size=6) | st.lists(part, max_size=3))
usage = _odd(
    st.fixed_dictionaries(
        {"completion_tokens": counts},
        optional={
            "prompt_tokens": counts,
            "completion_tokens_details": _odd(st.fixed_dictionaries({"reasoning_tokens": counts})),
            "prompt_tokens_details": _odd(st.fixed_dictionaries({"cached_tokens": counts})),
        },
    )
)
delta = _odd(
    st.fixed_dictionaries(
        {"content": content}, optional={"reasoning_content": content, "role": documents}
    )
)
choice = _odd(
    st.fixed_dictionaries(
        {"delta": delta, "message": _odd(st.fixed_dictionaries({"content": content}))},
        optional={"text": content},
    )
)
completion = st.fixed_dictionaries(
    {"choices": _odd(st.lists(choice, min_size=1, max_size=3))}, optional={"usage": usage}
) | st.fixed_dictionaries({"error": documents})
oip_answer = st.fixed_dictionaries(
    {
        "outputs": _odd(
            st.lists(
                _odd(st.fixed_dictionaries({"name": _odd(st.just("label")), "data": documents})),
                min_size=1,
                max_size=3,
            )
        )
    }
)
http_answer = st.fixed_dictionaries(
    {"prediction": documents, "tokens": counts}, optional={"choices": documents}
)


def _bodies(shape: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    encoded = (shape | documents).map(lambda document: json.dumps(document).encode())
    return st.binary(max_size=300) | encoded | mutated(encoded)


def _only_protocol_failures(read: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(ProtocolFailure):
        read(*args, **kwargs)


HTTP = HttpJsonTarget("fuzz", "http://127.0.0.1:9/x", output_tokens_path="tokens")
HTTP_NESTED = HttpJsonTarget("fuzz", "http://127.0.0.1:9/x", response_path="choices.0.text")
OIP = OipTarget("fuzz", "http://127.0.0.1:9", "m")
OIP_NAMED = OipTarget("fuzz", "http://127.0.0.1:9", "m", output_name="label")


def _read_json_target(target: HttpJsonTarget | OipTarget, body: bytes) -> None:
    target.read_answer(decode_json(body, "fuzzed answer"))


@FUZZ
@given(body=_bodies(http_answer))
@pytest.mark.parametrize("target", [HTTP, HTTP_NESTED], ids=["prediction", "choices.0.text"])
def test_http_json_answers_of_any_bytes(target: HttpJsonTarget, body: bytes) -> None:
    _only_protocol_failures(_read_json_target, target, body)


@FUZZ
@given(body=_bodies(oip_answer))
@pytest.mark.parametrize("target", [OIP, OIP_NAMED], ids=["first output", "named output"])
def test_oip_answers_of_any_bytes(target: OipTarget, body: bytes) -> None:
    _only_protocol_failures(_read_json_target, target, body)


@FUZZ
@given(body=_bodies(completion), chat=st.booleans())
def test_whole_completions_of_any_bytes(body: bytes, chat: bool) -> None:
    _only_protocol_failures(read_whole, body, chat=chat, where="fuzz")


# Mostly well-formed chunks with odd values, so that a stream gets far enough to meet them.
chunks = completion.map(lambda document: json.dumps(document).encode())
events = st.lists(
    chunks.map(lambda raw: b"data: " + raw)
    | st.just(b"data: [DONE]")
    | _bodies(completion).map(lambda raw: b"data: " + raw),
    max_size=6,
)


@settings(FUZZ, max_examples=1000)
@given(events=events, ended=st.booleans(), cuts=st.lists(st.integers(0, 400), max_size=5))
def test_streams_of_any_events_in_any_pieces(
    events: list[bytes], ended: bool, cuts: list[int]
) -> None:
    body = b"".join(event + b"\n\n" for event in [*events, *[b"data: [DONE]"] * ended])
    answer = StreamedAnswer()
    start = 0
    for at, cut in enumerate(sorted({min(cut, len(body)) for cut in cuts} | {len(body)})):
        answer.on_body(body[start:cut], received_at=at)
        start = cut
    answer.finish()  # never raises, whatever arrived
    _only_protocol_failures(answer.check)
    if answer.error is None and answer.done and not answer.parser.malformed:
        assert all(isinstance(piece, str) for piece in answer.pieces)
        assert answer.chunks == len(answer.content_times) == len(answer.pieces)
        if answer.usage is not None and answer.usage.visible_output is not None:
            assert answer.usage.visible_output >= 0
