"""The claude-code-router and LiteLLM exports: written files, their schemas, and the checks."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from modelmeter._exceptions import ModelmeterError, SpecError
from modelmeter.routing import (
    ROUTES,
    Candidate,
    RoutingDecision,
    build_claude_code_router,
    build_litellm_config,
    chat_completions_url,
    check_claude_code_router,
    check_litellm_config,
    choose_routes,
    litellm_model,
    load_candidates,
    validate_claude_code_router,
    validate_litellm_config,
    write_claude_code_router,
    write_litellm_config,
)
from tests.unit.test_routing_choose import cand, study

FAKE_KEY = "sk-or-v1-0123456789abcdef0123456789abcdef"


def schema(name: str) -> dict[str, Any]:
    text = resources.files("modelmeter.routing").joinpath("schemas", name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema_errors(instance: Any, name: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema(name))
    return [error.message for error in validator.iter_errors(instance)]


@pytest.fixture
def candidates() -> list[Candidate]:
    return study()


@pytest.fixture
def decision(candidates: list[Candidate]) -> RoutingDecision:
    return choose_routes(candidates)


@pytest.mark.parametrize("name", ["claude_code_router.schema.json", "litellm_config.schema.json"])
def test_the_schemas_are_valid_draft_2020_12_and_cite_their_docs(name: str) -> None:
    loaded = schema(name)
    jsonschema.Draft202012Validator.check_schema(loaded)
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "https://" in loaded["$comment"]


# --- claude-code-router ----------------------------------------------------------------------


def test_claude_code_router_file_follows_the_readme_layout(
    tmp_path: Path,
    candidates: list[Candidate],
    decision: RoutingDecision,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", FAKE_KEY)
    path = write_claude_code_router(
        decision, candidates, tmp_path / ".claude-code-router" / "config.json"
    )
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert text.startswith('{\n  "Providers"')
    assert FAKE_KEY not in text
    config = json.loads(text)
    assert schema_errors(config, "claude_code_router.schema.json") == []
    assert validate_claude_code_router(config) == []
    assert config["Router"] == {
        "default": "openrouter,lab/coder-big",
        "background": "openrouter,lab/mid",
        "think": "openrouter,lab/reasoner",
        "longContext": "openrouter,lab/coder-big",
        "longContextThreshold": 60000,
        "webSearch": "openrouter,lab/coder-big",
    }
    assert config["Providers"] == [
        {
            "name": "openrouter",
            "api_base_url": "https://openrouter.ai/api/v1/chat/completions",
            "api_key": "$OPENROUTER_API_KEY",
            "models": ["lab/coder-big", "lab/mid", "lab/reasoner"],
            "transformer": {"use": ["openrouter"]},
        }
    ]
    assert "API_TIMEOUT_MS" not in config
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temporary left


def test_claude_code_router_lists_every_candidate_on_request(
    candidates: list[Candidate], decision: RoutingDecision
) -> None:
    config = build_claude_code_router(
        decision, candidates, include_all=True, api_timeout_ms=600_000
    )
    assert config["API_TIMEOUT_MS"] == 600_000
    names = [p["name"] for p in config["Providers"]]
    assert names == ["openrouter", "vllm"]
    vllm = config["Providers"][1]
    assert vllm["api_base_url"] == "http://127.0.0.1:8000/v1/chat/completions"
    assert vllm["api_key"] == "$VLLM_API_KEY"
    assert "transformer" not in vllm
    assert "lab/leaky" in config["Providers"][0]["models"]
    assert validate_claude_code_router(config) == []


def test_two_servers_of_one_provider_get_distinct_names() -> None:
    models = [
        cand(
            "a",
            provider="vllm",
            api_base="http://127.0.0.1:8000/v1/",
            api_key_env="VLLM_KEY",
            quality_by_task={"code": 0.7},
            context_window=8192,
        ),
        cand(
            "b",
            provider="vllm",
            api_base="http://127.0.0.1:8001/v1/chat/completions",
            api_key_env="VLLM_KEY",
            quality_by_task={"code": 0.5},
            cost_per_1m_tokens=0.0,
            context_window=131072,
        ),
    ]
    config = build_claude_code_router(choose_routes(models), models)
    assert [(p["name"], p["api_base_url"]) for p in config["Providers"]] == [
        ("vllm", "http://127.0.0.1:8000/v1/chat/completions"),
        ("vllm-2", "http://127.0.0.1:8001/v1/chat/completions"),
    ]
    assert config["Router"]["longContext"] == "vllm-2,lab/b"
    assert validate_claude_code_router(config) == []


def test_chat_completions_url_is_not_doubled() -> None:
    assert chat_completions_url("https://x.test/v1") == "https://x.test/v1/chat/completions"
    assert chat_completions_url("https://x.test/v1/") == "https://x.test/v1/chat/completions"
    assert (
        chat_completions_url("https://x.test/v1/chat/completions")
        == "https://x.test/v1/chat/completions"
    )


@pytest.fixture
def ccr_config(candidates: list[Candidate], decision: RoutingDecision) -> dict[str, Any]:
    return build_claude_code_router(decision, candidates)


def test_a_literal_key_fails_the_secret_check(ccr_config: dict[str, Any]) -> None:
    broken = copy.deepcopy(ccr_config)
    broken["Providers"][0]["api_key"] = FAKE_KEY
    problems = check_claude_code_router(broken)
    assert problems == [
        "Providers[0].api_key: holds a literal value; write a reference to an environment "
        'variable instead, such as "$OPENROUTER_API_KEY" or "${OPENROUTER_API_KEY}"'
    ]
    assert all(FAKE_KEY not in problem for problem in problems)
    # The layout itself is fine: only the secret check can catch this.
    assert schema_errors(broken, "claude_code_router.schema.json") == []


@pytest.mark.parametrize("reference", ["$OPENROUTER_API_KEY", "${OPENROUTER_API_KEY}", ""])
def test_env_references_and_empty_keys_pass(ccr_config: dict[str, Any], reference: str) -> None:
    ccr_config["Providers"][0]["api_key"] = reference
    assert check_claude_code_router(ccr_config) == []


def test_a_key_anywhere_else_is_found(ccr_config: dict[str, Any]) -> None:
    ccr_config["PROXY_URL"] = "http://127.0.0.1:7890"
    ccr_config["Providers"][0]["transformer"] = {"use": [["openrouter", {"token": FAKE_KEY}]]}
    assert check_claude_code_router(ccr_config) == [
        "Providers[0].transformer.use[0][1].token: looks like an API key; keep keys in "
        'environment variables and write "$NAME" here'
    ]


def test_a_route_to_a_model_not_in_providers_fails_the_cross_check(
    ccr_config: dict[str, Any],
) -> None:
    broken = copy.deepcopy(ccr_config)
    broken["Router"]["think"] = "openrouter,lab/not-listed"
    broken["Router"]["background"] = "deepseek,deepseek-chat"
    assert check_claude_code_router(broken) == [
        "Router.background: 'deepseek,deepseek-chat' names provider 'deepseek', which is not "
        "in Providers (defined: openrouter)",
        "Router.think: 'openrouter,lab/not-listed' names model 'lab/not-listed', which "
        "provider 'openrouter' does not list in its models (lab/coder-big, lab/mid, "
        "lab/reasoner)",
    ]
    assert schema_errors(broken, "claude_code_router.schema.json") == []


def test_the_schema_catches_layout_errors(ccr_config: dict[str, Any]) -> None:
    broken = copy.deepcopy(ccr_config)
    broken["Router"]["default"] = "no-comma"
    broken["Router"]["longContextThreshold"] = "60000"
    del broken["Providers"][0]["models"]
    problems = validate_claude_code_router(broken)
    assert "Providers[0]: 'models' is a required property" in problems
    assert "Router.default: 'no-comma' does not match '^[^,]+,[^,]+$'" in problems
    assert "Router.longContextThreshold: '60000' is not of type 'integer'" in problems
    assert "Router.default: expected \"provider,model\", got 'no-comma'" in problems
    assert validate_claude_code_router([]) == [
        "(top level): [] is not of type 'object'",
        "(top level): expected a JSON object with Providers and Router",
    ]


# --- LiteLLM ---------------------------------------------------------------------------------


def test_litellm_file_follows_the_proxy_layout(
    tmp_path: Path,
    candidates: list[Candidate],
    decision: RoutingDecision,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", FAKE_KEY)
    path = write_litellm_config(decision, candidates, tmp_path / "config.yaml")
    text = path.read_text(encoding="utf-8")
    assert FAKE_KEY not in text
    assert text.startswith("# LiteLLM proxy config written by modelmeter")
    assert "# default → coder-big: its mean score over code and multiple_choice" in text
    config = yaml.safe_load(text)
    assert schema_errors(config, "litellm_config.schema.json") == []
    assert validate_litellm_config(config) == []
    names = [entry["model_name"] for entry in config["model_list"]]
    assert names == [*ROUTES, "reasoner", "mid", "small", "coder-big"]
    default = config["model_list"][0]
    assert default == {
        "model_name": "default",
        "litellm_params": {
            "model": "openrouter/lab/coder-big",
            "api_base": "https://openrouter.ai/api/v1",
            "api_key": "os.environ/OPENROUTER_API_KEY",
        },
        "model_info": {"max_input_tokens": 131072},
    }
    small = config["model_list"][names.index("small")]
    assert small["litellm_params"] == {
        "model": "openai/lab/small",
        "api_base": "http://127.0.0.1:8000/v1",
        "api_key": "os.environ/VLLM_API_KEY",
    }
    settings = config["router_settings"]
    assert settings["routing_strategy"] == "simple-shuffle"
    assert settings["num_retries"] == 2
    assert settings["timeout"] == 600.0
    assert settings["fallbacks"][0] == {"default": ["reasoner", "mid", "small"]}
    assert {"background": ["coder-big", "reasoner", "small"]} in settings["fallbacks"]
    assert settings["context_window_fallbacks"] == [
        {"background": ["small", "reasoner", "coder-big"]},
        {"think": ["coder-big"]},
    ]


def test_litellm_model_prefix() -> None:
    assert litellm_model(cand("a", model="qwen/qwen-2.5-coder-32b-instruct")) == (
        "openrouter/qwen/qwen-2.5-coder-32b-instruct"
    )
    vllm = cand("b", provider="vllm", api_base="http://127.0.0.1:8000/v1", model="Qwen/Qwen3-8B")
    assert litellm_model(vllm) == "openai/Qwen/Qwen3-8B"


def test_litellm_settings_can_be_chosen(
    candidates: list[Candidate], decision: RoutingDecision
) -> None:
    config = build_litellm_config(
        decision,
        candidates,
        routing_strategy="latency-based-routing",
        num_retries=0,
        timeout_s=30,
    )
    assert config["router_settings"]["routing_strategy"] == "latency-based-routing"
    assert validate_litellm_config(config) == []
    with pytest.raises(SpecError, match="routing_strategy: unknown strategy 'fastest'"):
        build_litellm_config(decision, candidates, routing_strategy="fastest")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="timeout_s: must be a positive number"):
        build_litellm_config(decision, candidates, timeout_s=0)


@pytest.fixture
def litellm_config(candidates: list[Candidate], decision: RoutingDecision) -> dict[str, Any]:
    return build_litellm_config(decision, candidates)


def test_litellm_literal_key_fails_the_secret_check(litellm_config: dict[str, Any]) -> None:
    litellm_config["model_list"][1]["litellm_params"]["api_key"] = FAKE_KEY
    problems = check_litellm_config(litellm_config)
    assert problems == [
        "model_list[1].litellm_params.api_key: holds a literal value; write a reference to an "
        "environment variable instead, such as os.environ/OPENROUTER_API_KEY"
    ]
    assert schema_errors(litellm_config, "litellm_config.schema.json") == []


def test_litellm_fallback_to_an_undefined_model_fails(litellm_config: dict[str, Any]) -> None:
    litellm_config["router_settings"]["fallbacks"].append({"ghost": ["default"]})
    litellm_config["router_settings"]["context_window_fallbacks"][0]["background"].append("huge")
    problems = check_litellm_config(litellm_config)
    assert problems == [
        "router_settings.fallbacks[5]: 'ghost' is not a model_name in model_list (defined: "
        "background, coder-big, default, longContext, mid, reasoner, small, think, webSearch)",
        "router_settings.context_window_fallbacks[0].background: fallback 'huge' is not a "
        "model_name in model_list",
    ]


def test_litellm_schema_catches_layout_errors(litellm_config: dict[str, Any]) -> None:
    litellm_config["router_settings"]["routing_strategy"] = "round-robin"
    litellm_config["model_list"][0]["litellm_params"]["model"] = "coder-big"
    litellm_config["unknown_section"] = {}
    problems = validate_litellm_config(litellm_config)
    assert "(top level): Additional properties are not allowed ('unknown_section' was " in (
        "\n".join(problems)
    )
    assert any(
        p.startswith("router_settings.routing_strategy: 'round-robin' is not one of")
        for p in problems
    )
    assert (
        "model_list[0].litellm_params.model: 'coder-big' does not match '^[A-Za-z0-9_.-]+/.+'"
        in problems
    )
    assert (
        "model_list[0].litellm_params.model: expected '<provider>/<model id>', such as "
        "openrouter/qwen/qwen-2.5-coder-32b-instruct, got 'coder-big'"
    ) in problems


def test_a_candidate_named_like_a_route_is_refused() -> None:
    models = [cand("default", quality_by_task={"code": 0.5}), cand("b")]
    with pytest.raises(SpecError, match=r"candidates\[0\]\.name: the name 'default' is also"):
        build_litellm_config(choose_routes(models), models)


def test_a_decision_for_other_candidates_is_refused(decision: RoutingDecision) -> None:
    others = [cand("someone-else")]
    with pytest.raises(SpecError, match="the routing decision names 'coder-big', which is not"):
        build_claude_code_router(decision, others)
    with pytest.raises(SpecError, match="the routing decision names 'coder-big', which is not"):
        build_litellm_config(decision, others)


def test_writers_refuse_to_write_an_invalid_config(tmp_path: Path) -> None:
    # A provider id that itself looks like a key would put a key-shaped string in the file.
    models = [cand("a", model="sk-0123456789abcdefghij", quality_by_task={"code": 0.5})]
    decision = choose_routes(models)
    with pytest.raises(ModelmeterError, match="looks like an API key"):
        write_claude_code_router(decision, models, tmp_path / "config.json")
    with pytest.raises(ModelmeterError, match="looks like an API key"):
        write_litellm_config(decision, models, tmp_path / "config.yaml")
    assert list(tmp_path.iterdir()) == []


def test_writing_replaces_an_existing_file(
    tmp_path: Path, candidates: list[Candidate], decision: RoutingDecision
) -> None:
    path = tmp_path / "config.json"
    path.write_text("old", encoding="utf-8")
    write_claude_code_router(decision, candidates, path)
    assert json.loads(path.read_text(encoding="utf-8"))["Router"]["default"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


def test_the_product_does_not_import_jsonschema() -> None:
    result = _python("import sys, modelmeter.routing\nprint('jsonschema' in sys.modules)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_validation_without_jsonschema_says_how_to_install_it() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['jsonschema'] = None\n"
        "from modelmeter._exceptions import ModelmeterError\n"
        "from modelmeter.routing import check_litellm_config, validate_litellm_config\n"
        "config = {'model_list': [{'model_name': 'a', 'litellm_params': {'model': 'openai/a'}}]}\n"
        "print(check_litellm_config(config))\n"
        "try:\n"
        "    validate_litellm_config(config)\n"
        "except ModelmeterError as exc:\n"
        "    print(exc)\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "[]"
    assert "needs the jsonschema package: pip install jsonschema" in lines[1]


@pytest.mark.parametrize(
    "model",
    [
        "meta-llama/Llama-2-7b-chat-hf",
        "qwen/qwen-2.5-coder-32b-instruct",
        "deepseek/deepseek-r1-distill-qwen-32b",
        "org/task-specific-adapter-2024-11-01-final",
        "anthropic/claude-3.7-sonnet:thinking",
    ],
)
def test_model_ids_are_not_mistaken_for_keys(model: str) -> None:
    models = [cand("a", model=model, quality_by_task={"code": 0.5})]
    decision = choose_routes(models)
    assert check_claude_code_router(build_claude_code_router(decision, models)) == []
    assert check_litellm_config(build_litellm_config(decision, models)) == []


@pytest.mark.parametrize(
    "secret",
    [
        FAKE_KEY,
        "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "gsk_abcdefghijklmnopqrstuvwxyz",
        "AIzaSyA1234567890abcdefghijklmnopqrstu",
        "Bearer abc.def",
        "https://example.test/v1?key=sk-abcdefghijklmnopqrstuv",
    ],
)
def test_key_shapes_are_found_wherever_they_are(
    litellm_config: dict[str, Any], secret: str
) -> None:
    litellm_config["model_list"][0]["litellm_params"]["api_base"] = secret
    (problem,) = check_litellm_config(litellm_config)
    assert problem.startswith("model_list[0].litellm_params.api_base: looks like an API key")
    assert secret not in problem


# --- docs/routing.md stays in sync with the code ------------------------------------------

DOC = (Path(__file__).resolve().parents[2] / "docs" / "routing.md").read_text(encoding="utf-8")


def doc_example(name: str) -> str:
    marker = f"<!-- example: {name} -->\n```"
    start = DOC.index(marker) + len(marker)
    start = DOC.index("\n", start) + 1
    return DOC[start : DOC.index("```", start)]


def test_the_doc_examples_are_what_the_code_writes(tmp_path: Path) -> None:
    path = tmp_path / "candidates.yaml"
    path.write_text(doc_example("candidates"), encoding="utf-8")
    candidates = load_candidates(path)
    decision = choose_routes(candidates)
    for sentence in decision.explain():
        assert f"- {sentence}\n" in DOC
    ccr = json.loads(doc_example("claude-code-router"))
    assert ccr == build_claude_code_router(decision, candidates)
    assert validate_claude_code_router(ccr) == []
    litellm = yaml.safe_load(doc_example("litellm"))
    assert litellm == build_litellm_config(decision, candidates)
    assert validate_litellm_config(litellm) == []


def test_every_candidate_field_is_documented() -> None:
    for name in Candidate.model_fields:
        assert f"| `{name}` |" in DOC, f"docs/routing.md has no row for {name}"
