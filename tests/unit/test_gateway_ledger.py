"""The gateway's ledger and what it is fed: reservations against budgets, rate buckets, shared
cells across forked processes, usage read from answers."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
import yaml

from modelmeter._exceptions import AccessDenied
from modelmeter.gateway import GatewayConfig
from modelmeter.gateway.access import Access, Price, period_of, pico, usage_of
from modelmeter.gateway.ledger import Claim, Ledger
from modelmeter.spec.pricing import ApiPricing

MINUTE_NS = 60_000_000_000


def test_a_budget_admits_while_its_worst_case_fits_and_settles_to_the_real_cost() -> None:
    ledger = Ledger(64)
    slot = ledger.slot("key:1")
    claim = Claim(slot, cost=40, budget=100)
    assert ledger.admit([claim], period=1) is None
    assert ledger.admit([claim], period=1) is None
    refusal = ledger.admit([claim], period=1)  # 40 + 40 reserved: 40 more would be 120
    assert refusal is not None and refusal.kind == "budget"
    ledger.settle([claim], cost=10, tokens=0)  # the first answer cost 10 of its 40
    assert ledger.spent(slot, 1) == 10 and ledger.reserved(slot) == 40
    assert ledger.admit([claim], period=1) is None  # 10 + 40 + 40 <= 100
    assert ledger.in_flight(slot) == 2


def test_a_request_under_two_budgets_reserves_in_both_or_neither() -> None:
    ledger = Ledger(64)
    key, model = ledger.slot("key:1"), ledger.slot("model:big")
    claims = [Claim(key, cost=30, budget=1000), Claim(model, cost=30, budget=50)]
    assert ledger.admit(claims, period=1) is None
    refusal = ledger.admit(claims, period=1)
    assert refusal is not None and (refusal.kind, refusal.claim) == ("budget", 1)
    assert ledger.reserved(key) == 30  # the refused request left nothing behind


def test_a_new_period_starts_the_spend_again() -> None:
    ledger = Ledger(64)
    slot = ledger.slot("key:1")
    claim = Claim(slot, cost=60, budget=100)
    assert ledger.admit([claim], period=1) is None
    ledger.settle([claim], cost=60, tokens=0)
    assert ledger.admit([claim], period=1) is not None
    assert ledger.admit([claim], period=2) is None
    assert ledger.spent(slot, 2) == 0 and ledger.spent(slot, 1) == 0  # period 1 is over


def test_requests_per_minute_refill_exactly_and_say_when_to_come_back() -> None:
    ledger = Ledger(64)
    claim = Claim(ledger.slot("key:1"), requests_per_minute=6)
    start = 10 * MINUTE_NS
    for n in range(6):
        assert ledger.admit([claim], 1, now_ns=start + n) is None
    refusal = ledger.admit([claim], 1, now_ns=start + 6)
    assert refusal is not None and refusal.kind == "requests_per_minute"
    assert refusal.retry_after_s == pytest.approx(10.0, abs=1e-6)  # one in 60/6 s
    assert ledger.admit([claim], 1, now_ns=start + 6 + 10 * 10**9) is None


def test_tokens_per_minute_are_reserved_then_given_back_by_the_usage() -> None:
    ledger = Ledger(64)
    claim = Claim(ledger.slot("key:1"), tokens=600, tokens_per_minute=1000)
    now = MINUTE_NS
    assert ledger.admit([claim], 1, now_ns=now) is None
    assert ledger.admit([claim], 1, now_ns=now) is not None  # 400 left, 600 asked
    ledger.settle([claim], cost=0, tokens=100)  # it used 100 of its 600
    assert ledger.admit([claim], 1, now_ns=now) is None


def test_concurrency_counts_requests_in_flight() -> None:
    ledger = Ledger(64)
    claim = Claim(ledger.slot("key:1"), max_concurrent=2)
    assert ledger.admit([claim], 1) is None
    assert ledger.admit([claim], 1) is None
    refusal = ledger.admit([claim], 1)
    assert refusal is not None and refusal.kind == "concurrency"
    ledger.settle([claim], 0, 0)
    assert ledger.admit([claim], 1) is None


def test_slots_are_found_again_and_a_full_ledger_says_so() -> None:
    ledger = Ledger(4)
    slots = [ledger.slot(f"key:{n}") for n in range(4)]
    assert len(set(slots)) == 4
    assert ledger.slot("key:2") == slots[2]
    with pytest.raises(RuntimeError, match="ledger is full"):
        ledger.slot("key:99")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_processes_forked_after_a_shared_ledger_never_pass_its_budget_together() -> None:
    """Four processes admit and settle 2,000 requests each against one budget: the spend of
    what they admitted together stays within it."""
    ledger = Ledger(64, shared=True)
    slot = ledger.slot("model:big")
    budget = 5_000
    children = []
    for worker in range(4):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: admit, settle, report how many it admitted
            os.close(read)
            admitted = 0
            claim = Claim(slot, cost=3, budget=budget)
            for _ in range(2000):
                if ledger.admit([claim], period=1) is None:
                    admitted += 1
                    ledger.settle([claim], cost=2 + worker % 2, tokens=0)
            os.write(write, str(admitted).encode())
            os._exit(0)
        os.close(write)
        children.append((pid, read))
    admitted = []
    for pid, read in children:
        admitted.append(int(os.read(read, 64)))
        os.close(read)
        os.waitpid(pid, 0)
    assert ledger.spent(slot, 1) <= budget
    assert ledger.spent(slot, 1) >= budget - 12  # used up, to within a request per process
    assert ledger.reserved(slot) == 0 and ledger.in_flight(slot) == 0
    assert sum(admitted) >= budget // 3


def test_prices_become_exact_picounits() -> None:
    pricing = ApiPricing(
        currency="USD",
        per_request=Decimal("0.001"),
        per_1m_input_tokens=Decimal("0.15"),
        per_1m_output_tokens=Decimal("0.6"),
    )
    price = Price.of(pricing)
    assert price == Price(request=10**9, input_token=150_000, output_token=600_000)
    assert price.cost(1000, 500) == 10**9 + 150_000_000 + 300_000_000
    assert pico(Decimal("0.0000000000001")) == 1  # rounded up, never down


def test_budget_periods_are_calendar_months_and_days_in_utc() -> None:
    when = dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC)
    assert period_of("month", when)[1] == "2026-12"
    assert period_of("day", when)[1] == "2026-12-31"
    assert period_of("month", when + dt.timedelta(minutes=2))[0] > period_of("month", when)[0]
    assert period_of("total", when) == (1, "total")


def test_usage_is_read_from_a_body_and_from_a_stream_tail() -> None:
    body = b'{"id":"x","usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}'
    assert usage_of(body, streamed=False) == (12, 5)
    stream = (
        b'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'
        b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}\n\n'
        b"data: [DONE]\n\n"
    )
    assert usage_of(stream, streamed=True) == (3, 9)
    embeddings = b'{"data":[],"usage":{"prompt_tokens":7,"total_tokens":7}}'
    assert usage_of(embeddings, streamed=False) == (7, 0)
    for broken in (b"", b"{", b'{"usage":{"prompt_tokens":-1}}', b'{"usage":[1]}', b"[1]"):
        assert usage_of(broken, streamed=False) is None
    assert usage_of(b'data: {"choices":[],"usage":null}\n\n', streamed=True) is None


def _access(keys_section: str) -> Access:
    text = (
        "backends: [{name: a, url: 'http://127.0.0.1:8001'}]\n"
        + keys_section
        + "routes:\n  - model: m\n    backends: [a]\n"
        + "    pricing: {kind: api, currency: USD, per_1m_output_tokens: 1}\n    budget: 1\n"
    )
    config = GatewayConfig.model_validate(yaml.safe_load(text))
    prices = {"m": config.routes[0].pricing}
    return Access(config, [], Ledger(16), prices)  # type: ignore[dict-item]


def test_without_keys_a_clients_own_authorization_is_not_checked() -> None:
    """A gateway with prices and budgets but no keys: the OpenAI SDK's header passes."""
    assert _access("").identify({"authorization": "Bearer sk-for-someone-else"}) is None
    with pytest.raises(AccessDenied) as refused:
        _access("keys: {required: false}\n").identify({"authorization": "Bearer sk-x"})
    assert refused.value.status == 401
