"""The gateway file's checks on keys, prices and budgets: one message naming the line and
what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelmeter._exceptions import SpecError
from modelmeter.gateway import load_gateway_config

BACKENDS = "backends:\n  - {name: a, url: 'http://127.0.0.1:8001'}\n"


def _problem(tmp_path: Path, text: str) -> str:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_gateway_config(path)
    return " ".join(str(caught.value).split())


def test_a_budget_needs_a_price(tmp_path: Path) -> None:
    text = BACKENDS + "routes:\n  - {model: m, backends: [a], budget: 10}\n"
    assert "route 'm' has a budget but no pricing" in _problem(tmp_path, text)


def test_prices_must_be_in_the_gateways_currency(tmp_path: Path) -> None:
    text = (
        BACKENDS
        + "currency: eur\nroutes:\n  - model: m\n    backends: [a]\n"
        + "    pricing: {kind: api, currency: USD, per_1m_output_tokens: 1}\n"
    )
    assert "priced in USD but the gateway's currency is EUR" in _problem(tmp_path, text)


def test_a_catalogue_price_needs_a_catalogue(tmp_path: Path) -> None:
    text = (
        BACKENDS + "routes:\n  - {model: m, backends: [a], pricing: {kind: catalogue, model: x}}\n"
    )
    assert "set 'catalogue: builtin'" in _problem(tmp_path, text)


def test_a_budget_above_what_the_ledger_holds_is_refused_on_its_line(tmp_path: Path) -> None:
    text = (
        BACKENDS
        + "routes:\n  - model: m\n    backends: [a]\n"
        + "    pricing: {kind: api, currency: USD, per_1m_output_tokens: 1}\n"
        + "    budget: 5000000\n"
    )
    problem = _problem(tmp_path, text)
    assert "line 7" in problem and "budget" in problem and "1000000" in problem


def test_keys_and_shedding_read_with_their_defaults(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(BACKENDS + "keys: {}\nroutes:\n  - {model: m, backends: [a]}\n")
    config = load_gateway_config(path)
    assert config.keys is not None and config.keys.required and config.keys.period == "month"
    assert (config.shed.low, config.shed.normal) == (0.5, 0.8)
    assert config.backends[0].max_in_flight == 256


LITELLM = """model_list:
  - model_name: default
    litellm_params:
      model: openai/qwen
      api_base: http://127.0.0.1:8001/v1
      api_key: {key}
router_settings:
  fallbacks:
    - default: [{fallback}]
"""


def test_a_litellm_config_is_read_as_routes(tmp_path: Path) -> None:
    path = tmp_path / "litellm-config.yaml"
    path.write_text(LITELLM.format(key="os.environ/QWEN_KEY", fallback="default"))
    with pytest.raises(SpecError, match="falls back to itself"):
        load_gateway_config(path)
    path.write_text(LITELLM.format(key="os.environ/QWEN_KEY", fallback=""))
    config = load_gateway_config(path)
    assert config.routes[0].model == "default" and config.routes[0].fallbacks == []
    backend = config.backends[0]
    assert (backend.url, backend.model, backend.api_key_env) == (
        "http://127.0.0.1:8001/v1",
        "qwen",
        "QWEN_KEY",
    )


def test_a_key_written_in_a_litellm_config_is_refused_without_repeating_it(
    tmp_path: Path,
) -> None:
    problem = _problem(tmp_path, LITELLM.format(key="sk-live-123456", fallback="default"))
    assert "line 6, model_list[0].litellm_params.api_key: must be os.environ/NAME" in problem
    assert "sk-live-123456" not in problem


def test_a_litellm_fallback_to_an_unknown_name_names_its_line(tmp_path: Path) -> None:
    problem = _problem(tmp_path, LITELLM.format(key="os.environ/K", fallback="nowhere"))
    assert "line 9, router_settings.fallbacks[0]: must list model_names of model_list" in problem
