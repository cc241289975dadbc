"""The simulator's answer book, served by a real child process and by the real command.

A prompt the book matches must come back with exactly the book's answer, streamed or not, chat
or text completion, with usage that counts the tokens actually streamed; other prompts get the
pseudo-word filler or the default answer; bad books fail naming ``path:line``.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelmeter._exceptions import DatasetError
from modelmeter.simulate import (
    AnswerRule,
    SimulatorConfig,
    SimulatorHandle,
    split_tokens,
    start_simulator,
    write_answer_book,
)
from tests._lines import wait_for_line
from tests.integration.test_simulate_server import CHAT, post

COMMAND = [sys.executable, "-m", "modelmeter", "simulate"]  # as a user runs it
COMPLETIONS = "/v1/completions"
PARIS = "The capital of France is Paris. It has been since 987, more or less."
REASONING = "Option A names a river, not a city; so the answer is B."
RULES = [
    AnswerRule(match="capital of France", answer=PARIS),
    AnswerRule(regex=r"(?i)which letter", answer="B", reasoning=REASONING),
    AnswerRule(match="France", answer="never used: the line above wins"),
    AnswerRule(match="say nothing", answer=""),
    AnswerRule(match="Once upon", answer=" a time, there was a test.", reasoning="unused"),
]


def user(text: str, stream: bool, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], "stream": stream, **extra}


def streamed(chunks: list[dict[str, Any]], key: str) -> list[str]:
    """The token texts of ``key`` (content, reasoning_content or text) in stream order."""
    pieces = []
    for chunk in chunks:
        for choice in chunk["choices"]:
            value = choice["delta"].get(key) if "delta" in choice else choice.get(key)
            if value:
                pieces.append(value)
    return pieces


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("answers") / "book.jsonl"
    write_answer_book(path, RULES)
    return path


@pytest.fixture(scope="module")
def server(book: Path) -> Iterator[SimulatorHandle]:
    config = SimulatorConfig(ttft_ms=3, itl_ms=1, output_tokens=5, seed=11, answers=book)
    with start_simulator(config) as running:
        yield running


def test_a_matched_chat_prompt_streams_exactly_the_answer_token_by_token(
    server: SimulatorHandle,
) -> None:
    answer = post(
        server,
        CHAT,
        user(
            "What is the capital of France, please?", True, stream_options={"include_usage": True}
        ),
        headers={"x-request-id": "paris-stream"},
    )

    chunks = answer.chunks()
    content = streamed(chunks, "content")
    assert "".join(content) == PARIS
    assert content == split_tokens(PARIS)
    assert len(content) > 10  # word-ish tokens, not one blob
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == len(content)
    assert "completion_tokens_details" not in usage
    prompt = "What is the capital of France, please?"
    assert usage["prompt_tokens"] == -(-len(prompt) // 4)
    (timing,) = server.timings("paris-stream")
    assert timing.output_tokens == len(content)
    assert [c.tokens for c in timing.token_chunks] == [1] * len(content)
    assert timing.ttft_ns == 3_000_000


def test_a_matched_chat_prompt_answers_whole_with_the_same_text(server: SimulatorHandle) -> None:
    body = post(server, CHAT, user("capital of France?", False)).json()

    assert body["choices"][0]["message"] == {"role": "assistant", "content": PARIS}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] == len(split_tokens(PARIS))


def test_the_reasoning_preface_streams_before_the_answer_and_counts(
    server: SimulatorHandle,
) -> None:
    chunks = post(
        server, CHAT, user("Which LETTER is right?", True, stream_options={"include_usage": True})
    ).chunks()

    kinds = [next(iter(c["choices"][0]["delta"])) for c in chunks[1:-2]]
    reasoning = streamed(chunks, "reasoning_content")
    assert "".join(reasoning) == REASONING
    assert streamed(chunks, "content") == ["B"]
    assert kinds == ["reasoning_content"] * len(reasoning) + ["content"]
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == len(reasoning) + 1
    assert usage["completion_tokens_details"] == {"reasoning_tokens": len(reasoning)}

    whole = post(server, CHAT, user("which letter?", False)).json()
    assert whole["choices"][0]["message"]["reasoning_content"] == REASONING
    assert whole["choices"][0]["message"]["content"] == "B"


def test_the_last_user_message_is_matched_not_earlier_ones(server: SimulatorHandle) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "Which letter, then?"},
        ],
        "stream": False,
    }
    assert post(server, CHAT, body).json()["choices"][0]["message"]["content"] == "B"


def test_text_completions_get_the_answer_without_reasoning(server: SimulatorHandle) -> None:
    expected = " a time, there was a test."
    chunks = post(
        server,
        COMPLETIONS,
        {"prompt": "Once upon", "stream": True, "stream_options": {"include_usage": True}},
    ).chunks()
    text = streamed(chunks, "text")
    assert "".join(text) == expected
    assert chunks[-1]["usage"]["completion_tokens"] == len(text) == len(split_tokens(expected))
    assert "completion_tokens_details" not in chunks[-1]["usage"]

    whole = post(server, COMPLETIONS, {"prompt": "Once upon"}).json()
    assert whole["choices"][0]["text"] == expected
    assert whole["usage"]["completion_tokens"] == len(text)


def test_max_tokens_truncates_the_answer_with_finish_reason_length(
    server: SimulatorHandle,
) -> None:
    chunks = post(
        server,
        CHAT,
        user("capital of France", True, max_tokens=4, stream_options={"include_usage": True}),
    ).chunks()
    assert "".join(streamed(chunks, "content")) == "The capital of France"
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 4

    capped = post(server, CHAT, user("which letter", False, max_tokens=3)).json()
    assert capped["choices"][0]["message"]["reasoning_content"] == "Option A names"
    assert capped["choices"][0]["message"]["content"] == ""
    assert capped["usage"]["completion_tokens_details"] == {"reasoning_tokens": 3}


def test_an_empty_answer_ends_the_stream_after_the_ttft(server: SimulatorHandle) -> None:
    answer = post(
        server,
        CHAT,
        user("please say nothing", True, stream_options={"include_usage": True}),
        headers={"x-request-id": "empty-1"},
    )
    role, finish, usage = answer.chunks()
    assert role["choices"][0]["delta"] == {"role": "assistant"}
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["usage"]["completion_tokens"] == 0
    (timing,) = server.timings("empty-1")
    assert timing.token_chunks == ()
    assert timing.slot_started_ns is not None
    assert timing.chunks[-1].scheduled_ns == timing.slot_started_ns + 3_000_000

    whole = post(server, CHAT, user("say nothing", False)).json()
    assert whole["choices"][0]["message"]["content"] == ""
    assert whole["usage"]["completion_tokens"] == 0


def test_unmatched_prompts_get_the_pseudo_word_filler(server: SimulatorHandle) -> None:
    chunks = post(
        server, CHAT, user("Tell me a story.", True, stream_options={"include_usage": True})
    ).chunks()
    content = streamed(chunks, "content")
    assert len(content) == 5 == chunks[-1]["usage"]["completion_tokens"]
    assert "".join(content) not in {rule.answer for rule in RULES}
    token_ids = post(server, COMPLETIONS, {"prompt": [1, 2, 3]}).json()  # no text to match
    assert token_ids["usage"]["completion_tokens"] == 5


def test_a_default_answer_replaces_the_filler(book: Path) -> None:
    config = SimulatorConfig(ttft_ms=2, itl_ms=1, answers=book, default_answer="I do not know.")
    with start_simulator(config) as server:
        unmatched = post(server, CHAT, user("Tell me a story.", False)).json()
        matched = post(server, CHAT, user("capital of France", False)).json()
        text = post(server, COMPLETIONS, {"prompt": "Hello", "stream": True}).chunks()

    assert unmatched["choices"][0]["message"]["content"] == "I do not know."
    assert unmatched["usage"]["completion_tokens"] == len(split_tokens("I do not know."))
    assert matched["choices"][0]["message"]["content"] == PARIS
    assert "".join(streamed(text, "text")) == "I do not know."


def test_a_bad_book_fails_before_the_server_starts(tmp_path: Path) -> None:
    path = tmp_path / "book.jsonl"
    path.write_text('{"match": "a", "answer": "1"}\n{"match": "b"}\n', encoding="utf-8")

    with pytest.raises(DatasetError, match=re.escape(f"{path}:2: field 'answer'")):
        start_simulator(SimulatorConfig(answers=path))


def test_the_server_process_names_path_and_line_of_a_bad_book(tmp_path: Path) -> None:
    path = tmp_path / "book.jsonl"
    path.write_text('\n{"regex": "(", "answer": "1"}\n', encoding="utf-8")
    config = tmp_path / "config.json"
    config.write_text(SimulatorConfig(answers=path).model_dump_json(), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "modelmeter.simulate", f"--config={config}", "--port=0"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert f"error: {path}:2: " in result.stderr
    assert "not a valid regular expression" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_serves_the_answer_book(book: Path) -> None:
    process = subprocess.Popen(
        [
            *COMMAND,
            "--port=0",
            "--ttft-ms=2",
            "--itl-ms=1",
            "--answers",
            str(book),
            "--default-answer",
            "No idea.",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stderr is not None
        match = wait_for_line(process.stderr, r"http://127\.0\.0\.1:(\d+)")
        # Read before the process ends: lines already buffered by a reader never reach
        # ``communicate``, so a count read from its output depends on how lines were batched.
        rules = wait_for_line(process.stderr, r"\((\d+) rules\)")
        assert int(rules.group(1)) == len(RULES)

        def ask(text: str) -> str:
            connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=30)
            try:
                connection.request("POST", CHAT, json.dumps(user(text, False)))
                response = connection.getresponse()
                assert response.status == 200
                reply: str = json.loads(response.read())["choices"][0]["message"]["content"]
                return reply
            finally:
                connection.close()

        assert ask("The capital of France?") == PARIS
        assert ask("Something else") == "No idea."
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)

    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_the_command_refuses_a_bad_book_naming_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "book.jsonl"
    path.write_text('{"match": "a", "answer": "1", "probability": 0.3}\n', encoding="utf-8")

    result = subprocess.run(
        [*COMMAND, "--port=0", "--answers", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "500"},
    )

    assert result.returncode == 2
    flat = " ".join(result.stderr.replace("│", " ").split())
    assert f"{path}:1: field 'probability': unknown field" in flat
    assert "--answers" in flat
    assert "Traceback" not in result.stderr
