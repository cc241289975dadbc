"""The simulator's configuration, pseudo-text, answer book, wire format pieces, pacer and accuracy
summary."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modelmeter._exceptions import DatasetError
from modelmeter.simulate import (
    AnswerBook,
    AnswerRule,
    ChunkTiming,
    Delay,
    RequestTiming,
    SimulatorConfig,
    load_answer_book,
    send_accuracy,
    split_tokens,
    write_answer_book,
)
from modelmeter.simulate._openai import (
    BadRequest,
    StreamFormat,
    parse_completion_request,
)
from modelmeter.simulate._pacer import Pacer
from modelmeter.simulate._text import VOCABULARY, prompt_rng


def test_a_number_is_a_fixed_delay() -> None:
    config = SimulatorConfig(ttft_ms=25, itl_ms=2.5)
    assert config.ttft_ms == Delay(mean_ms=25.0)
    assert config.itl_ms.sample_ns(random.Random(0)) == 2_500_000


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        ({"mean_ms": -1}, "greater than or equal to 0"),
        ({"mean_ms": 5, "kind": "normal"}, "needs sd_ms"),
        ({"mean_ms": 5, "kind": "lognormal"}, "needs sigma"),
        ({"mean_ms": 5, "sd_ms": 1}, "sd_ms applies to kind 'normal' only"),
        ({"mean_ms": 5, "kind": "normal", "sd_ms": 1, "sigma": 1}, "sigma applies"),
        ({"mean_ms": 0, "kind": "exponential"}, "needs mean_ms above 0"),
        ({"mean_ms": 5, "kind": "uniform"}, "Input should be 'fixed'"),
    ],
)
def test_bad_delays_say_what_is_wrong(delay: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        SimulatorConfig(ttft_ms=delay)
    assert caught.value.errors()[0]["loc"][0] == "ttft_ms"


@pytest.mark.parametrize(
    ("delay", "sd_ms"),
    [
        ({"mean_ms": 20, "kind": "normal", "sd_ms": 4}, 4.0),
        ({"mean_ms": 20, "kind": "lognormal", "sigma": 0.3}, None),
        ({"mean_ms": 20, "kind": "exponential"}, 20.0),
    ],
)
def test_drawn_delays_have_the_configured_mean(
    delay: dict[str, object], sd_ms: float | None
) -> None:
    parsed = Delay.model_validate(delay)
    rng = random.Random(1)
    draws = [parsed.sample_ns(rng) / 1e6 for _ in range(20_000)]
    assert min(draws) >= 0
    assert statistics.fmean(draws) == pytest.approx(20.0, rel=0.03)
    if sd_ms is not None:
        assert statistics.stdev(draws) == pytest.approx(sd_ms, rel=0.05)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("output_tokens", 0, "at least 1"),
        ("output_tokens", (10, 5), "is empty"),
        ("tokens_per_chunk", 0, "greater than or equal to 1"),
        ("slots", 0, "greater than or equal to 1"),
        ("error_rate", 1.5, "less than or equal to 1"),
        ("error_statuses", (200,), "400..599"),
        ("error_statuses", (), "at least 1 item"),
        ("unknown", 1, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        SimulatorConfig.model_validate({field: value})
    assert caught.value.errors()[0]["loc"][0] == field


def test_the_config_round_trips_through_json() -> None:
    config = SimulatorConfig(
        ttft_ms={"mean_ms": 40, "kind": "lognormal", "sigma": 0.4},
        output_tokens=(8, 16),
        error_statuses=(503,),
    )
    assert SimulatorConfig.model_validate_json(config.model_dump_json()) == config
    assert config.output_range() == (8, 16)
    assert SimulatorConfig(output_tokens=5).output_range() == (5, 5)


def test_answers_depend_only_on_seed_and_prompt_in_any_process() -> None:
    here = prompt_rng(3, "a prompt").choices(VOCABULARY, k=6)
    code = (
        "from modelmeter.simulate._text import VOCABULARY, prompt_rng;"
        "print(' '.join(prompt_rng(3, 'a prompt').choices(VOCABULARY, k=6)))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert here == there
    assert prompt_rng(4, "a prompt").choices(VOCABULARY, k=6) != here
    assert prompt_rng(3, "another").choices(VOCABULARY, k=6) != here


def test_stream_format_chunks_are_json_events() -> None:
    fmt = StreamFormat('chat"cmpl-1', 1700000000, "m", chat=True, include_usage=True)
    events = [
        fmt.role(),
        fmt.tokens("content", ' say "hi"\n'),
        fmt.tokens("reasoning", " hmm"),
        fmt.finish("length"),
        fmt.usage({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
    ]
    parsed = []
    for event in events:
        assert event.startswith(b"data: ")
        assert event.endswith(b"\n\n")
        parsed.append(json.loads(event[6:]))
    assert {p["id"] for p in parsed} == {'chat"cmpl-1'}
    assert parsed[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert parsed[1]["choices"][0]["delta"] == {"content": ' say "hi"\n'}
    assert parsed[2]["choices"][0]["delta"] == {"reasoning_content": " hmm"}
    assert parsed[3]["choices"][0]["finish_reason"] == "length"
    assert [p.get("usage", "absent") for p in parsed[:4]] == [None] * 4
    assert parsed[4]["choices"] == []
    assert parsed[4]["usage"]["total_tokens"] == 3

    text = StreamFormat("cmpl-2", 1, "m", chat=False, include_usage=False)
    chunk = json.loads(text.tokens("content", "word")[6:])
    assert chunk["object"] == "text_completion"
    assert chunk["choices"][0]["text"] == "word"
    assert "usage" not in chunk
    assert json.loads(text.finish("stop")[6:])["choices"][0]["text"] == ""


def test_completion_requests_are_read_as_vllm_does() -> None:
    request = parse_completion_request(
        json.dumps(
            {
                "model": "x",
                "messages": [{"role": "user", "content": [{"type": "text", "text": "abcdefgh"}]}],
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": 9,
                "max_completion_tokens": 4,
            }
        ).encode(),
        chat=True,
    )
    assert request.stream
    assert request.include_usage
    assert request.max_tokens == 4
    assert request.prompt_tokens == 2  # eight characters, about four per token
    assert request.model == "x"
    ids = parse_completion_request(b'{"prompt": [1, 2, 3]}', chat=False)
    assert ids.prompt_tokens == 3
    assert not ids.include_usage  # only with stream=true
    with pytest.raises(BadRequest, match="Batched prompts"):
        parse_completion_request(b'{"prompt": ["a", "b"]}', chat=False)


def test_the_pacer_never_runs_early_and_keeps_order() -> None:
    async def scenario(busy_wait_ns: int) -> list[tuple[int, int, int]]:
        pacer = Pacer(asyncio.get_running_loop(), busy_wait_ns)
        ran: list[tuple[int, int, int]] = []
        finished = asyncio.Event()
        start = time.monotonic_ns()
        dues = [start + offset * 300_000 for offset in (9, 3, 3, 0, 12, 1, 7, 20, 5)]
        for index, due in enumerate(dues):

            def record(due_ns: int, index: int = index) -> None:
                ran.append((due_ns, time.monotonic_ns(), index))
                if len(ran) == len(dues):
                    finished.set()

            pacer.at(due, record)
        deferred: list[bool] = []
        pacer.defer(lambda: deferred.append(True))
        await asyncio.wait_for(finished.wait(), 10)
        await asyncio.sleep(0.01)
        assert deferred == [True]
        assert len(pacer) == 0
        return ran

    for busy_wait_ns in (0, 2_000_000):
        ran = asyncio.run(scenario(busy_wait_ns))
        assert all(actual >= due for due, actual, _ in ran)
        assert [due for due, _, _ in ran] == sorted(due for due, _, _ in ran)
        ties = [index for due, _, index in ran if due == ran[1][0]]
        assert ties == sorted(ties)  # equal due times run in the order they were added


def test_send_accuracy_summarises_lateness_of_token_chunks() -> None:
    def chunk(kind: str, late_us: int) -> ChunkTiming:
        return ChunkTiming(kind, 1, 1_000_000, 1_000_000 + late_us * 1000)

    timing = RequestTiming(
        request_id="r",
        completion_id="c",
        path="/v1/chat/completions",
        stream=True,
        status=200,
        arrived_ns=0,
        slot_started_ns=0,
        headers_written_ns=0,
        finished_ns=0,
        ttft_ns=0,
        prompt_tokens=1,
        output_tokens=4,
        reasoning_tokens=0,
        finish_reason="stop",
        cancelled=False,
        chunks=(chunk("role", 999), *(chunk("content", us) for us in (1, 2, 3, 4, 100))),
    )
    accuracy = send_accuracy([timing])
    assert accuracy.count == 5
    assert accuracy.p50_us == 3.0
    assert accuracy.max_us == 100.0
    assert accuracy.p99_us == pytest.approx(96.16)
    assert send_accuracy([timing], kinds=("role",)).max_us == 999.0
    with pytest.raises(ValueError, match="no chunks"):
        send_accuracy([timing], kinds=("usage",))


# -- the answer book ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_tokens_join_back_into_exactly_the_text(text: str) -> None:
    tokens = split_tokens(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_tokens_are_word_ish() -> None:
    assert split_tokens("The answer is (B), isn't it?") == [
        "The",
        " answer",
        " is",
        " (",
        "B",
        "),",
        " isn",
        "'t",
        " it",
        "?",
    ]
    assert split_tokens("x = 1234567") == ["x", " =", " 123", "456", "7"]
    assert split_tokens("") == []


def test_the_first_matching_rule_wins_and_regexes_search() -> None:
    book = AnswerBook(
        (
            AnswerRule(match="capital", answer="first"),
            AnswerRule(regex=r"(?i)capital of \w+", answer="second"),
            AnswerRule(regex=r"^Q\d+:", answer="third"),
        )
    )
    assert book.find("The capital of Peru?") == book.rules[0]
    assert book.find("The CAPITAL of Peru?") == book.rules[1]
    assert book.find("Q12: what?") == book.rules[2]
    assert book.find("about Q12: what?") is None
    assert book.find("Capital") is None  # match is case-sensitive
    assert book.find("The capital of Peru?") == book.rules[0]  # remembered, same answer
    assert len(book) == 3


def test_rule_tokens_are_the_answer_and_reasoning_split() -> None:
    rule = AnswerRule(match="x", answer="Paris, France.", reasoning="Think.")
    assert rule.answer_tokens == ("Paris", ",", " France", ".")
    assert rule.reasoning_tokens == ("Think", ".")
    assert AnswerRule(match="x", answer="").answer_tokens == ()
    assert AnswerRule(match="x", answer="A").reasoning_tokens == ()


def test_a_book_round_trips_through_its_file(tmp_path: Path) -> None:
    rules = [
        AnswerRule(match="Frage über Köln", answer='Ja — "sicher".\nZeile zwei'),
        AnswerRule(regex="[Ww]hich", answer="C", reasoning="Not A, not B."),
    ]
    path = tmp_path / "book.jsonl"
    write_answer_book(path, rules)

    book = load_answer_book(path)

    assert list(book.rules) == rules
    assert book.source == path
    assert '"reasoning"' not in path.read_text(encoding="utf-8").splitlines()[0]


def test_blank_lines_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "book.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"match": "a", "answer": "1"}\n\n   \n{"match": "b", "answer": "2"}'
    )
    assert [rule.answer for rule in load_answer_book(path).rules] == ["1", "2"]


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (['{"match": "a", "answer": "1"}', "{oops"], 2, "not valid JSON"),
        (['["match", "answer"]'], 1, "must be a JSON object"),
        (['{"match": "a"}'], 1, "field 'answer': missing"),
        (['{"answer": "1"}'], 1, "give either 'match' (a substring) or 'regex'"),
        (['{"match": "a", "regex": "a", "answer": "1"}'], 1, "not both"),
        (
            ['{"regex": "(unclosed", "answer": "1"}'],
            1,
            "field 'regex': not a valid regular expression",
        ),
        (['{"match": "", "answer": "1"}'], 1, "field 'match'"),
        (['{"match": "a", "answer": 7}'], 1, "field 'answer': Input should be a valid string"),
        (
            ['{"match": "a", "answer": "1", "probability": 0.5}'],
            1,
            "field 'probability': unknown field (the fields are: match or regex, answer, "
            "reasoning)",
        ),
        (["", '{"match": "a", "answer": "1"}', "", '{"match": "b"}'], 4, "missing"),
    ],
)
def test_bad_lines_name_path_and_line(
    tmp_path: Path, lines: list[str], line: int, message: str
) -> None:
    path = tmp_path / "book.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(DatasetError) as caught:
        load_answer_book(path)

    assert caught.value.path == path
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_bad_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="answer book not found"):
        load_answer_book(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="has no rules") as caught:
        load_answer_book(empty)
    assert caught.value.path == empty
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"match": "a", "answer": "1"}\n{"match": "\xe9", "answer": "2"}\n')
    with pytest.raises(DatasetError, match="not UTF-8") as caught:
        load_answer_book(latin)
    assert caught.value.line == 2


def test_the_config_takes_an_answer_book_and_a_default_answer(tmp_path: Path) -> None:
    config = SimulatorConfig(answers=tmp_path / "book.jsonl", default_answer="I do not know.")
    assert SimulatorConfig.model_validate_json(config.model_dump_json()) == config
    assert SimulatorConfig().answers is None
    assert SimulatorConfig().default_answer is None


def test_the_match_text_is_the_last_user_message_or_the_prompt() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "part"}],
        },
        {"role": "assistant", "content": "prefill"},
    ]
    chat = parse_completion_request(json.dumps({"messages": messages}).encode(), chat=True)
    assert chat.match_text == "second\npart"
    system_only = json.dumps({"messages": [{"role": "system", "content": "x"}]}).encode()
    assert parse_completion_request(system_only, chat=True).match_text is None
    text = parse_completion_request(b'{"prompt": ["Once upon"]}', chat=False)
    assert text.match_text == "Once upon"
    assert parse_completion_request(b'{"prompt": [1, 2]}', chat=False).match_text is None


def test_the_example_book_in_the_docs_is_valid(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "simulate.md").read_text("utf-8")
    example = doc.split("```jsonl\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "book.jsonl"
    path.write_text(example, encoding="utf-8")

    book = load_answer_book(path)

    assert len(book) == 3
    rule = book.find("Quick: WHAT IS 17 + 25?")
    assert rule is not None
    assert rule.answer == "42"
    assert rule.reasoning
    assert book.rules[2].answer == ""
    assert "`The`, ` answer`, ` is`, ` (`, `C`, `).`" in doc
    assert split_tokens("The answer is (C).") == ["The", " answer", " is", " (", "C", ")."]
