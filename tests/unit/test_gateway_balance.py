"""How a route picks its backend: each strategy against what it promises, and ejection."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from modelmeter._exceptions import SpecError
from modelmeter.gateway.balance import Backend, Balancer
from modelmeter.gateway.config import BackendConfig, load_gateway_config


def _backends(*weights: int) -> list[Backend]:
    return [
        Backend.open(BackendConfig(name=f"b{n}", url=f"http://127.0.0.1:{9000 + n}", weight=w), 5)
        for n, w in enumerate(weights)
    ]


def test_round_robin_takes_each_in_turn() -> None:
    backends = _backends(1, 1, 1)
    balancer = Balancer(backends, "round_robin")
    assert [balancer.pick().name for _ in range(6)] == ["b0", "b1", "b2"] * 2  # type: ignore[union-attr]


def test_weighted_gives_each_its_share_smoothly() -> None:
    backends = _backends(5, 1, 1)
    balancer = Balancer(backends, "weighted")
    picks = [balancer.pick().name for _ in range(70)]  # type: ignore[union-attr]
    assert Counter(picks) == {"b0": 50, "b1": 10, "b2": 10}
    # smooth: the others are spread between the heavy one's picks (a a b a c a a, nginx's
    # example), never five of it in a row as plain weighted round-robin gives
    longest = run = 0
    for name in picks:
        run = run + 1 if name == "b0" else 0
        longest = max(longest, run)
    assert longest <= 4
    assert picks[:7] == ["b0", "b0", "b1", "b0", "b2", "b0", "b0"]


def test_least_outstanding_prefers_the_idlest_and_shares_ties() -> None:
    backends = _backends(1, 1, 1)
    balancer = Balancer(backends, "least_outstanding")
    backends[0].outstanding, backends[1].outstanding, backends[2].outstanding = 3, 1, 2
    assert balancer.pick() is backends[1]
    for backend in backends:
        backend.outstanding = 0
    assert {balancer.pick().name for _ in range(3)} == {"b0", "b1", "b2"}  # type: ignore[union-attr]


def test_power_of_two_prefers_the_faster_backend() -> None:
    backends = _backends(1, 1)
    balancer = Balancer(backends, "p2c_ewma", seed=1)
    backends[0].ewma_s, backends[1].ewma_s = 0.200, 0.010
    assert Counter(balancer.pick().name for _ in range(100)) == {"b1": 100}  # type: ignore[union-attr]
    # ... unless it is much busier
    backends[1].outstanding = 30
    assert balancer.pick() is backends[0]


def test_moving_average_follows_latency() -> None:
    backend = _backends(1)[0]
    for _ in range(40):
        backend.succeeded(0.5)
    assert backend.ewma_s == pytest.approx(0.5, rel=0.01)


def test_tried_and_ejected_backends_are_skipped() -> None:
    backends = _backends(1, 1)
    balancer = Balancer(backends, "round_robin")
    assert balancer.pick({backends[0]}) is backends[1]
    assert balancer.pick(set(backends)) is None
    for _ in range(3):
        backends[0].failed_once(eject_after=3, eject_s=60)
    assert not backends[0].in_service(time.monotonic())
    assert {balancer.pick() for _ in range(4)} == {backends[1]}
    backends[0].back_in_service()
    assert backends[0] in {balancer.pick() for _ in range(4)}


def test_an_ejected_backend_gets_one_try_after_its_time_and_goes_out_again_on_failure() -> None:
    backend = _backends(1)[0]
    for _ in range(3):
        backend.failed_once(eject_after=3, eject_s=0.01)
    time.sleep(0.02)
    assert backend.in_service(time.monotonic())  # half-open
    backend.failed_once(eject_after=3, eject_s=60)
    assert not backend.in_service(time.monotonic())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "backends:\n  - {name: a, url: 'http://127.0.0.1:8001'}\n"
            "routes:\n  - {model: m, backends: [a, b]}\n",
            "route 'm' names unknown backends b",
        ),
        (
            "backends:\n  - {name: a, url: 'http://127.0.0.1:8001'}\n"
            "routes:\n  - {model: m, backends: [a], fallback: n}\n",
            "falls back to unknown route 'n'",
        ),
        (
            "backends:\n  - {name: a, url: 'http://127.0.0.1:8001'}\n"
            "routes:\n  - {model: m, backends: [a], balance: fastest}\n",
            "line 4, routes[0].balance: Input should be 'least_outstanding'",
        ),
        ("- just a list\n", "must be a YAML mapping"),
    ],
    ids=["unknown-backend", "unknown-fallback", "unknown-balance", "not-a-mapping"],
)
def test_config_mistakes_name_the_place(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as raised:
        load_gateway_config(path)
    assert expected in " ".join(str(raised.value).split())
    assert str(path) in str(raised.value)
