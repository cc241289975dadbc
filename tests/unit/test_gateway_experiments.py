"""A/B assignment in the gateway: sticky, by weight, independent of the shadow share."""

from __future__ import annotations

from collections import Counter

from modelmeter.gateway.config import RouteConfig
from modelmeter.gateway.experiments import assign, in_share, unit_of


def _route(**extra: object) -> RouteConfig:
    arms = [{"route": "control", "weight": 90}, {"route": "treatment", "weight": 10}]
    return RouteConfig.model_validate({"model": "chat", "split": arms, **extra})


def test_units_split_by_weight_and_stay_where_they_were_put() -> None:
    route = _route(experiment="e1")
    placed = {f"user-{n}": assign(route, f"user-{n}") for n in range(20_000)}
    share = Counter(placed.values())["treatment"] / len(placed)
    assert 0.09 < share < 0.11  # 10%, within 5 standard errors (0.2 points each)
    assert all(assign(route, unit) == arm for unit, arm in list(placed.items())[:500])


def test_a_new_experiment_name_reshuffles_the_units() -> None:
    first, second = _route(experiment="e1"), _route(experiment="e2")
    units = [f"user-{n}" for n in range(2000)]
    moved = sum(assign(first, u) != assign(second, u) for u in units) / len(units)
    assert 0.1 < moved < 0.25  # independent draws disagree on 2 × 0.9 × 0.1 = 18%


def test_the_shadow_share_is_drawn_apart_from_the_split() -> None:
    route = _route(experiment="e1")
    units = [f"user-{n}" for n in range(20_000)]
    copied = [u for u in units if in_share(route, u, 0.5)]
    assert 0.48 < len(copied) / len(units) < 0.52
    treated = Counter(assign(route, u) for u in copied)["treatment"] / len(copied)
    assert 0.085 < treated < 0.115  # the copied half holds the same 10% of treatment


def test_the_unit_comes_from_the_key_a_header_or_a_body_field() -> None:
    headers = {"authorization": "Bearer k", "x-user-id": "u7"}
    assert unit_of(_route(), headers, {}) == "Bearer k"
    assert unit_of(_route(split_by="header:X-User-Id"), headers, {}) == "u7"
    assert unit_of(_route(split_by="body:user"), headers, {"user": "alice"}) == "alice"
    assert unit_of(_route(split_by="body:user"), headers, {"user": 3}) is None
