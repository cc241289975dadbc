"""The OpenAI-compatible target against `modelmeter simulate`, whose send times are logged.

Timing checks are causal, so they cannot flake: a byte cannot be received before the server
wrote it, and the server cannot read a request before the client sent it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelmeter._exceptions import ErrorKind
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop
from modelmeter.load.outcome import Outcome
from modelmeter.simulate import SimulatorConfig, SimulatorHandle, start_simulator
from modelmeter.targets.openai import OpenAITarget

MS = 1_000_000
SAMPLES = [Sample(id=f"p{i}", input=f"question number {i}") for i in range(6)]


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    config = SimulatorConfig(ttft_ms=30, itl_ms=4, output_tokens=12, slots=4, seed=1)
    with start_simulator(config) as handle:
        yield handle


def _run(target: OpenAITarget, concurrency: int = 1) -> list[Outcome]:
    async def go() -> list[Outcome]:
        await target.start()
        try:
            return await run_closed_loop(target, SAMPLES, concurrency=concurrency, duration_s=None)
        finally:
            await target.close()

    return asyncio.run(go())


def test_streamed_timing_is_causal_with_the_servers_own_log(simulator: SimulatorHandle) -> None:
    simulator.clear_timings()
    outcomes = _run(OpenAITarget("sim", f"{simulator.url}/v1", "sim"))
    assert all(o.ok for o in outcomes), [o.error_detail for o in outcomes]
    server = sorted(simulator.timings(), key=lambda t: t.arrived_ns)
    assert len(server) == len(outcomes)
    for outcome, logged in zip(sorted(outcomes, key=lambda o: o.sent_at), server, strict=True):
        assert outcome.token_source == "usage" and outcome.output_tokens == 12
        assert outcome.sent_at <= logged.arrived_ns
        first_write = logged.first_token_written_ns
        assert first_write is not None and outcome.first_token_at is not None
        assert outcome.first_token_at >= first_write
        assert logged.finished_ns is not None and outcome.done_at >= logged.finished_ns
        # TTFT counts from the send, so it covers the injected 30 ms (role-only chunk ignored).
        ttft = outcome.ttft_ns
        assert ttft is not None and ttft >= 30 * MS
        assert len(outcome.token_gaps_ns) == 11
        assert sum(outcome.token_gaps_ns) <= outcome.done_at - outcome.first_token_at
        assert outcome.prediction


def test_non_streaming_and_completions_endpoints(simulator: SimulatorHandle) -> None:
    whole = _run(OpenAITarget("sim", f"{simulator.url}/v1", "sim", stream=False))
    assert all(o.ok and o.output_tokens == 12 and o.token_source == "usage" for o in whole)
    assert all(o.first_token_at is None for o in whole)
    text = _run(OpenAITarget("sim", f"{simulator.url}/v1", "sim", endpoint="completions"))
    assert all(o.ok and o.output_tokens == 12 and o.first_token_at is not None for o in text)


def test_max_tokens_caps_the_answer(simulator: SimulatorHandle) -> None:
    outcomes = _run(OpenAITarget("sim", f"{simulator.url}/v1", "sim", max_tokens=3))
    assert {o.output_tokens for o in outcomes} == {3}


def test_reasoning_is_timed_apart_and_left_out_of_the_answer() -> None:
    config = SimulatorConfig(ttft_ms=5, itl_ms=1, output_tokens=10, reasoning_tokens=4, seed=2)
    with start_simulator(config) as handle:
        outcomes = _run(OpenAITarget("think", f"{handle.url}/v1", "sim"))
    for outcome in outcomes:
        assert outcome.ok
        assert outcome.first_reasoning_at is not None and outcome.first_token_at is not None
        assert outcome.first_reasoning_at <= outcome.first_token_at  # may share one TCP read
        assert outcome.output_tokens == 6  # 10 completion tokens, 4 of them reasoning


def test_server_errors_are_counted_by_kind() -> None:
    config = SimulatorConfig(ttft_ms=1, itl_ms=1, output_tokens=2, error_rate=1.0, seed=3)
    with start_simulator(config) as handle:
        outcomes = _run(OpenAITarget("bad", f"{handle.url}/v1", "sim"))
    assert {o.error for o in outcomes} == {ErrorKind.HTTP_STATUS}
    assert all('"error"' in (o.error_detail or "") for o in outcomes)  # the server's own words


def test_counts_fall_back_to_a_tokenizer_file_or_chunks(tmp_path: Path, fault_server) -> None:  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {"[UNK]": 0, "alpha": 1, "beta": 2, "gamma": 3}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    url = f"{fault_server.url}/sse-no-usage"
    counted = _run(OpenAITarget("tok", url, "m", tokenizer=path))
    assert {(o.output_tokens, o.token_source) for o in counted} == {(6, "tokenizer")}
    # Gaps exist between chunks only: chunks 2 and 3 give two tokens a gap each.
    assert all(len(o.token_gaps_ns) == 4 for o in counted)
    chunks = _run(OpenAITarget("chunks", url, "m"))
    assert {(o.output_tokens, o.token_source) for o in chunks} == {(3, "chunks")}


def test_malformed_streams_are_protocol_errors(fault_server) -> None:  # type: ignore[no-untyped-def]
    outcomes = _run(OpenAITarget("bad", f"{fault_server.url}/sse-garbage", "m"))
    assert {o.error for o in outcomes} == {ErrorKind.PROTOCOL}
