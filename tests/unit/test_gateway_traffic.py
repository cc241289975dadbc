"""The traffic log's rows, its sample, and what it does while the store is down."""

from __future__ import annotations

import pytest

from modelmeter.gateway.config import RequestLogConfig
from modelmeter.gateway.relay import Record
from modelmeter.gateway.traffic import TrafficLog


class _FlakyStore:
    def __init__(self) -> None:
        self.down = True
        self.written: list[dict[str, object]] = []

    def append_gateway_log(self, rows: list[dict[str, object]], max_rows: int) -> None:
        if self.down:
            raise OSError("the store is down")
        self.written.extend(rows)


def _record(n: int) -> Record:
    return Record(status=200, usage=(3, n), request_id=f"r{n}", answer=b'{"a": 1}')


def test_rows_wait_while_the_store_is_down_and_are_written_once_it_is_back() -> None:
    store = _FlakyStore()
    log = TrafficLog(store, RequestLogConfig(sample=1.0, bodies=True, max_body_kb=1))  # type: ignore[arg-type]
    log.record("chat", _record(1), 0, b'{"q": 1}', "team-a", 42)
    with pytest.raises(OSError):
        log.flush()
    log.record("chat", _record(2), 0, b"x" * 2000, None, None)  # over max_body_kb: no body
    store.down = False
    log.flush()
    assert [row["request_id"] for row in store.written] == ["r1", "r2"]  # in order, none lost
    first, second = store.written
    assert (first["key_name"], first["cost_pico"], first["output_tokens"]) == ("team-a", 42, 1)
    assert (first["request_body"], first["response_body"]) == ('{"q": 1}', '{"a": 1}')
    assert second["request_body"] is None and second["response_body"] == '{"a": 1}'


def test_without_bodies_no_text_is_kept() -> None:
    store = _FlakyStore()
    store.down = False
    log = TrafficLog(store, RequestLogConfig(sample=1.0))  # type: ignore[arg-type]
    log.record("chat", _record(1), 0, b'{"q": "private"}', None, None)
    log.flush()
    assert store.written[0]["request_body"] is None and store.written[0]["response_body"] is None


def test_the_sample_is_drawn_at_the_configured_rate() -> None:
    log = TrafficLog(_FlakyStore(), RequestLogConfig(sample=0.1))  # type: ignore[arg-type]
    drawn = sum(log.sampled() for _ in range(100_000))
    # binomial(100000, 0.1): standard deviation 95; 8 of them either side
    assert 10_000 - 760 < drawn < 10_000 + 760
