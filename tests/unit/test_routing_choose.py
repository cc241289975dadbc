"""Choosing a model per route from measured candidates, and the reasons in figures."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modelmeter._exceptions import SpecError
from modelmeter.routing.choose import (
    ROUTES,
    Candidate,
    RoutingDecision,
    choose_routes,
    load_candidates,
)


def cand(name: str, **overrides: Any) -> Candidate:
    fields: dict[str, Any] = {
        "name": name,
        "provider": "openrouter",
        "api_base": "https://openrouter.ai/api/v1",
        "model": f"lab/{name}",
        "api_key_env": "OPENROUTER_API_KEY",
    }
    fields.update(overrides)
    return Candidate(**fields)


def study() -> list[Candidate]:
    """Four models that met the SLA and one that did not (and would otherwise win everything)."""
    return [
        cand(
            "coder-big",
            quality_by_task={"code": 0.71, "multiple_choice": 0.68},
            quality_ci_by_task={"code": (0.62, 0.79), "multiple_choice": (0.62, 0.74)},
            cost_per_1m_tokens=0.90,
            cost_per_correct=0.0031,
            p95_ms=820,
            ttft_p95_ms=210,
            context_window=131072,
        ),
        cand(
            "reasoner",
            quality_by_task={"code": 0.74, "multiple_choice": 0.72},
            quality_ci_by_task={"code": (0.66, 0.82), "multiple_choice": (0.66, 0.78)},
            cost_per_1m_tokens=2.50,
            p95_ms=2400,
            context_window=65536,
            supports_reasoning=True,
        ),
        cand(
            "small",
            provider="vllm",
            api_base="http://127.0.0.1:8000/v1",
            api_key_env="VLLM_API_KEY",
            quality_by_task={"code": 0.45, "multiple_choice": 0.58},
            quality_ci_by_task={"code": (0.36, 0.54), "multiple_choice": (0.52, 0.64)},
            cost_per_1m_tokens=0.10,
            p95_ms=300,
            context_window=32768,
        ),
        cand(
            "mid",
            quality_by_task={"code": 0.60, "multiple_choice": 0.64},
            quality_ci_by_task={"code": (0.50, 0.70), "multiple_choice": (0.56, 0.72)},
            cost_per_1m_tokens=0.30,
            p95_ms=500,
            context_window=16384,
        ),
        cand(
            "leaky",
            quality_by_task={"code": 0.95, "multiple_choice": 0.95},
            quality_ci_by_task={"code": (0.93, 0.97), "multiple_choice": (0.93, 0.97)},
            cost_per_1m_tokens=0.01,
            p95_ms=9000,
            context_window=1_000_000,
            supports_reasoning=True,
            sla_met=False,
        ),
    ]


@pytest.fixture
def decision() -> RoutingDecision:
    return choose_routes(study())


def test_one_choice_per_route_in_router_order(decision: RoutingDecision) -> None:
    assert [c.route for c in decision.routes] == list(ROUTES)
    assert decision.long_context_threshold == 60000


def test_default_is_the_cheapest_model_tied_with_the_best(decision: RoutingDecision) -> None:
    # reasoner has the best mean (0.73, interval 0.66–0.80); coder-big's 0.695 lies inside it
    # and costs 0.90 instead of 2.50 per 1M tokens.
    default = decision.choice("default")
    assert default.model_name == "coder-big"
    assert (
        "its mean score over code and multiple_choice 0.695 [0.62–0.765] lies inside the "
        "interval of the best, reasoner's 0.73 [0.66–0.80], and it is cheaper "
        "(0.90 USD vs 2.50 USD per 1M tokens)"
    ) in default.reason
    assert "code pass@1 0.71 (0.62–0.79)" in default.reason
    assert "multiple_choice accuracy 0.68 (0.62–0.74)" in default.reason
    assert "0.90 USD per 1M tokens" in default.reason
    assert "0.0031 USD per correct answer" in default.reason
    assert "P95 820 ms" in default.reason
    assert "TTFT P95 210 ms" in default.reason


def test_without_intervals_only_equal_scores_tie() -> None:
    models = [
        cand("a", quality_by_task={"code": 0.70}, cost_per_1m_tokens=3.0),
        cand("b", quality_by_task={"code": 0.69}, cost_per_1m_tokens=0.1),
    ]
    default = choose_routes(models).choice("default")
    assert default.model_name == "a"
    assert "highest quality, code pass@1 0.70, with no other model" in default.reason


def test_background_is_the_cheapest_whose_interval_reaches_the_best(
    decision: RoutingDecision,
) -> None:
    # mid's interval of the mean (0.53–0.71) reaches the best's low end (0.66); small's
    # (0.44–0.59) does not, so the cheaper small is not acceptable.
    background = decision.choice("background")
    assert background.model_name == "mid"
    assert (
        "cheapest model whose interval reaches the best's: mean score over code and "
        "multiple_choice 0.62 [0.53–0.71] against reasoner's 0.73 [0.66–0.80]"
    ) in background.reason
    assert "0.30 USD per 1M tokens" in background.reason


def test_background_with_a_quality_floor() -> None:
    chosen = choose_routes(study(), background_min_quality=0.5).choice("background")
    assert chosen.model_name == "small"
    assert "cheapest model with quality at least 0.50: mean score" in chosen.reason
    too_high = choose_routes(study(), background_min_quality=0.9).choice("background")
    assert too_high.model_name == "reasoner"
    assert "no model reaches the required quality 0.90" in too_high.reason


def test_think_prefers_a_reasoning_model_tied_on_the_hardest_task(
    decision: RoutingDecision,
) -> None:
    # Mean code score 0.625 < mean multiple_choice 0.655: code is the hardest task type.
    think = decision.choice("think")
    assert think.model_name == "reasoner"
    assert (
        "best code pass@1 on the hardest task type measured (mean score 0.625 across models), "
        "a reasoning model; code pass@1 0.74 (0.66–0.82)"
    ) in think.reason


def test_think_keeps_the_best_when_the_reasoning_model_is_clearly_worse() -> None:
    models = [
        cand(
            "plain",
            quality_by_task={"code": 0.80},
            quality_ci_by_task={"code": (0.75, 0.85)},
            cost_per_1m_tokens=1.0,
        ),
        cand(
            "thinker",
            quality_by_task={"code": 0.60},
            quality_ci_by_task={"code": (0.50, 0.70)},
            cost_per_1m_tokens=1.0,
            supports_reasoning=True,
        ),
    ]
    think = choose_routes(models).choice("think")
    assert think.model_name == "plain"
    assert think.reason.startswith("best code pass@1 on the hardest task type measured")
    assert "not a reasoning model" in think.reason
    assert think.fallbacks == ("thinker",)


def test_think_task_can_be_named_and_must_exist() -> None:
    think = choose_routes(study(), think_task="multiple_choice").choice("think")
    assert think.model_name == "reasoner"
    assert "multiple_choice accuracy" in think.reason
    assert "the task type asked for" in think.reason
    with pytest.raises(SpecError, match=r"think_task: no candidate was measured on 'math'"):
        choose_routes(study(), think_task="math")


def test_long_context_takes_the_largest_window(decision: RoutingDecision) -> None:
    long = decision.choice("longContext")
    assert long.model_name == "coder-big"
    assert "largest context window, 131,072 tokens (threshold 60,000 tokens)" in long.reason
    assert long.fallbacks == ("reasoner", "small", "mid")


def test_long_context_below_the_threshold_is_said() -> None:
    long = choose_routes(study(), long_context_threshold=200_000).choice("longContext")
    assert long.model_name == "coder-big"
    assert "no model reaches the 200,000-token threshold" in long.reason
    assert "largest window, 131,072 tokens" in long.reason


def test_long_context_without_any_window_follows_default() -> None:
    models = [cand("a", quality_by_task={"code": 0.5}), cand("b", quality_by_task={"code": 0.4})]
    decision = choose_routes(models)
    long = decision.choice("longContext")
    assert long.model_name == decision.choice("default").model_name == "a"
    assert "no model's context window is known" in long.reason


def test_web_search_follows_default_and_says_it_is_not_measured(
    decision: RoutingDecision,
) -> None:
    web = decision.choice("webSearch")
    assert web.model_name == decision.choice("default").model_name
    assert web.measured is False
    assert all(c.measured for c in decision.routes if c.route != "webSearch")
    assert "web search was not measured" in web.reason
    assert "':online' suffix" in web.reason


def test_models_that_broke_the_sla_are_never_chosen(decision: RoutingDecision) -> None:
    assert decision.excluded_by_sla == ("leaky",)
    assert not decision.sla_met_by_none
    for choice in decision.routes:
        named = {choice.model_name, *choice.fallbacks, *choice.context_window_fallbacks}
        assert "leaky" not in named
    assert "leaky" not in decision.model_names()


def test_when_no_model_met_the_sla_all_are_considered_and_it_is_said() -> None:
    models = [m.model_copy(update={"sla_met": False}) for m in study()]
    decision = choose_routes(models)
    assert decision.sla_met_by_none
    assert decision.choice("default").model_name == "leaky"
    for choice in decision.routes:
        assert "no model met the SLA" in choice.reason


def test_fallbacks_follow_each_route_rule(decision: RoutingDecision) -> None:
    assert decision.choice("default").fallbacks == ("reasoner", "mid", "small")
    assert decision.choice("webSearch").fallbacks == ("reasoner", "mid", "small")
    assert decision.choice("think").fallbacks == ("coder-big", "mid", "small")
    # Background: mid first; then, without mid, coder-big (inside the best's interval, cheaper
    # than reasoner); then reasoner, whose own interval is the only one left reaching itself.
    assert decision.choice("background").fallbacks == ("coder-big", "reasoner", "small")


def test_context_window_fallbacks_grow_the_window_step_by_step(
    decision: RoutingDecision,
) -> None:
    assert decision.choice("background").context_window_fallbacks == (
        "small",
        "reasoner",
        "coder-big",
    )
    assert decision.choice("think").context_window_fallbacks == ("coder-big",)
    assert decision.choice("default").context_window_fallbacks == ()


def test_explain_gives_one_sentence_per_route(decision: RoutingDecision) -> None:
    lines = decision.explain()
    assert len(lines) == len(ROUTES)
    assert lines[0].startswith("default → coder-big: ")
    for line in lines:
        assert line.endswith(".")
        assert "\n" not in line


def test_models_measured_on_different_tasks_are_compared_on_their_own() -> None:
    models = [
        cand("coder", quality_by_task={"code": 0.8}, cost_per_1m_tokens=1.0),
        cand("quizzer", quality_by_task={"multiple_choice": 0.6}, cost_per_1m_tokens=0.5),
    ]
    default = choose_routes(models).choice("default")
    assert default.model_name == "coder"
    assert "measured on different task types" in default.reason


def test_no_quality_at_all_means_cheapest_and_said() -> None:
    models = [cand("dear", cost_per_1m_tokens=5.0), cand("cheap", cost_per_1m_tokens=0.2)]
    decision = choose_routes(models)
    assert decision.choice("default").model_name == "cheap"
    assert "no quality was measured" in decision.choice("default").reason
    assert "no quality was measured" in decision.choice("think").reason


def test_bad_arguments_are_refused_with_the_field() -> None:
    with pytest.raises(SpecError, match="candidates: no candidate models"):
        choose_routes([])
    with pytest.raises(SpecError, match=r"candidates\[1\]\.name: two candidates are named 'a'"):
        choose_routes([cand("a"), cand("a")])
    with pytest.raises(SpecError, match="more than one currency"):
        choose_routes([cand("a"), cand("b", currency="EUR")])
    with pytest.raises(SpecError, match="long_context_threshold: must be a positive"):
        choose_routes([cand("a")], long_context_threshold=0)
    with pytest.raises(SpecError, match="background_min_quality: must be between 0 and 1"):
        choose_routes([cand("a")], background_min_quality=1.5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"api_key_env": "sk-or-v1-abcdef0123456789"}, "never the key itself"),
        ({"model": "a,b"}, "may not contain a comma"),
        ({"provider": "open router"}, "is not a provider name"),
        ({"api_base": "openrouter.ai/api/v1"}, "is not an http"),
        ({"quality_by_task": {"code": 1.2}}, "less than or equal to 1"),
        (
            {"quality_by_task": {"code": 0.5}, "quality_ci_by_task": {"code": (0.6, 0.7)}},
            "must hold the score 0.5",
        ),
        ({"quality_ci_by_task": {"code": (0.1, 0.2)}}, "no score for 'code'"),
        ({"context_window": 0}, "greater than 0"),
        ({"api_key": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_candidate_says_what_is_allowed(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        cand("m", **overrides)


def test_the_choice_does_not_depend_on_input_order() -> None:
    models = study()
    expected = choose_routes(models)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = models[:]
        rng.shuffle(shuffled)
        assert choose_routes(shuffled) == expected


_score = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def _candidates(draw: st.DrawFn) -> list[Candidate]:
    count = draw(st.integers(min_value=1, max_value=6))
    out = []
    for index in range(count):
        score = draw(_score)
        width = draw(st.floats(min_value=0.0, max_value=0.2))
        out.append(
            cand(
                f"m{index}",
                quality_by_task={"code": score},
                quality_ci_by_task={"code": (max(0.0, score - width), min(1.0, score + width))},
                cost_per_1m_tokens=draw(st.floats(min_value=0.0, max_value=20.0)),
                context_window=draw(st.one_of(st.none(), st.integers(1000, 300_000))),
                supports_reasoning=draw(st.booleans()),
                sla_met=draw(st.booleans()),
            )
        )
    return out


@settings(max_examples=80, deadline=None)
@given(_candidates())
def test_rules_hold_for_any_measurements(models: list[Candidate]) -> None:
    decision = choose_routes(models)
    by_name = {m.name: m for m in models}
    met = {m.name for m in models if m.sla_met}
    default = by_name[decision.choice("default").model_name]
    background = by_name[decision.choice("background").model_name]
    # Background is never dearer than default: its acceptable set contains default's ties.
    assert (background.cost_per_1m_tokens or 0.0) <= (default.cost_per_1m_tokens or 0.0)
    # No model that broke the SLA is named while any met it.
    if met:
        assert set(decision.model_names()) <= met
    # Fallbacks never repeat the chosen model and cover the rest of the pool once.
    pool = met or set(by_name)
    for choice in decision.routes:
        assert choice.model_name not in choice.fallbacks
        if choice.route != "webSearch":
            assert sorted({choice.model_name, *choice.fallbacks}) == sorted(pool)
        for name in choice.context_window_fallbacks:
            window = by_name[name].context_window
            assert window is not None
            assert window > (by_name[choice.model_name].context_window or 0)


# --- candidates from a file ------------------------------------------------------------------


def test_load_candidates_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "candidates.yaml"
    path.write_text(
        "candidates:\n"
        "  - name: coder\n"
        "    provider: openrouter\n"
        "    api_base: https://openrouter.ai/api/v1\n"
        "    model: qwen/qwen-2.5-coder-32b-instruct\n"
        "    api_key_env: OPENROUTER_API_KEY\n"
        "    context_window: 32768\n"
        "    quality_by_task: {code: 0.71}\n"
        "    quality_ci_by_task: {code: [0.62, 0.79]}\n"
        "    cost_per_1m_tokens: 0.9\n",
        encoding="utf-8",
    )
    (loaded,) = load_candidates(path)
    assert loaded.quality_ci_by_task == {"code": (0.62, 0.79)}
    assert loaded.context_window == 32768


def test_load_candidates_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "candidates.yaml"
    path.write_text(
        "- name: a\n"
        "  provider: openrouter\n"
        "  api_base: https://openrouter.ai/api/v1\n"
        "  model: x/a\n"
        "  api_key_env: OPENROUTER_API_KEY\n"
        "- name: b\n"
        "  provider: openrouter\n"
        "  api_base: https://openrouter.ai/api/v1\n"
        "  model: x/b\n"
        "  api_key_env: sk-live-123\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        load_candidates(path)
    text = str(caught.value)
    assert str(path) in text
    assert "line 10, candidates[1].api_key_env: must be the NAME of an environment variable" in (
        text
    )
    assert "sk-live-123" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: [unclosed\n", "line 2, column 1: not valid YAML"),
        ("{}\n", "expected a non-empty list of candidates"),
        ("candidates: []\nextra: 1\n", "unknown key(s) extra"),
    ],
)
def test_load_candidates_refuses_malformed_files(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "candidates.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(message)):
        load_candidates(path)


def test_load_candidates_refuses_duplicates_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "candidates.json"
    entry = (
        '{"name": "a", "provider": "vllm", "api_base": "http://127.0.0.1:8000/v1", '
        '"model": "m", "api_key_env": "VLLM_API_KEY"}'
    )
    path.write_text(f"[{entry}, {entry}]", encoding="utf-8")
    with pytest.raises(SpecError, match=r"candidates\[1\]\.name: two candidates are named 'a'"):
        load_candidates(path)
    with pytest.raises(SpecError, match="candidates file not found"):
        load_candidates(tmp_path / "missing.yaml")
