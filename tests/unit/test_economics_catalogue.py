"""Price catalogues (LiteLLM and OpenRouter layouts), catalogue pricing and the spec section."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from modelmeter._exceptions import SpecError
from modelmeter.economics import (
    BUILTIN_CATALOGUE_FILE,
    CatalogueError,
    builtin_catalogue,
    load_catalogue,
    load_litellm_catalogue,
    load_openrouter_catalogue,
    resolve_pricing,
    resolve_target_pricing,
)
from modelmeter.economics.catalogue import open_catalogue
from modelmeter.spec.economics import EconomicsSpec, Workload
from modelmeter.spec.pricing import ApiPricing, CataloguePricing, InstancePricing, Pricing

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OPENROUTER = FIXTURES / "openrouter-models.json"
CATALOGUES = Path(__file__).resolve().parents[2] / "src" / "modelmeter" / "economics" / "catalogues"

PRICING: TypeAdapter[InstancePricing | ApiPricing | CataloguePricing] = TypeAdapter(Pricing)

# A LiteLLM-layout file written for these tests (figures invented), in LiteLLM's own spelling.
LITELLM: dict[str, Any] = {
    "sample_spec": {
        "input_cost_per_token": 0.0,
        "max_input_tokens": "max input tokens, if the provider specifies it",
        "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
    },
    "fallback_generalizations": {"rules": [{"name": "a rule, not a model"}]},
    "acme/chat-small": {
        "input_cost_per_token": 1.1e-07,
        "output_cost_per_token": 4.4e-07,
        "cache_read_input_token_cost": 1.1e-08,
        "cache_creation_input_token_cost": 1.375e-07,
        "max_input_tokens": 64000,
        "max_output_tokens": 8192,
        "litellm_provider": "acme",
        "mode": "chat",
    },
    "acme/thinker": {
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 8e-06,
        "output_cost_per_reasoning_token": 1e-05,
        "input_cost_per_request": 0.005,
        "max_tokens": 32768,
        "litellm_provider": "acme",
        "mode": "chat",
    },
    "acme/hosted-by-second": {
        "input_cost_per_second": 0.0002,
        "output_cost_per_second": 0.0009,
        "litellm_provider": "acme",
        "mode": "chat",
    },
    "acme/free-preview": {
        "input_cost_per_token": 0,
        "output_cost_per_token": 0,
        "litellm_provider": "acme",
        "mode": "chat",
    },
}


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data, "utf-8")
    return path


@pytest.fixture
def litellm_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "prices.json", LITELLM)


# --- LiteLLM layout ---------------------------------------------------------------------------


def test_litellm_prices_become_exact_per_million(litellm_file: Path) -> None:
    catalogue = load_litellm_catalogue(litellm_file, date=dt.date(2026, 1, 15))

    small = catalogue.models["acme/chat-small"]
    # 1.1e-07 USD/token × 1,000,000 = 0.11 exactly (as a float product it is 0.11000000000000001)
    assert small.input_per_1m == Decimal("0.11")
    assert str(small.input_per_1m) == "0.11"
    assert small.output_per_1m == Decimal("0.44")  # 4.4e-07 × 1e6
    assert small.cached_input_per_1m == Decimal("0.011")  # 1.1e-08 × 1e6
    assert small.cache_write_per_1m == Decimal("0.1375")  # 1.375e-07 × 1e6
    assert small.reasoning_per_1m is None  # not listed: billed as output
    assert small.per_request is None
    assert (small.context_window, small.max_output_tokens) == (64000, 8192)
    assert (small.provider, small.mode, small.currency) == ("acme", "chat", "USD")

    thinker = catalogue.models["acme/thinker"]
    assert thinker.input_per_1m == Decimal(2)  # 2e-06 × 1e6
    assert str(thinker.output_per_1m) == "8"  # no exponent noise such as 8E+0
    assert thinker.reasoning_per_1m == Decimal(10)  # 1e-05 × 1e6
    assert thinker.per_request == Decimal("0.005")  # per request: not scaled
    assert thinker.context_window is None
    assert thinker.max_output_tokens == 32768  # LiteLLM's legacy max_tokens

    # One rate per second of request duration, input_cost_per_second first, as LiteLLM does.
    assert catalogue.models["acme/hosted-by-second"].per_second == Decimal("0.0002")
    assert catalogue.models["acme/hosted-by-second"].input_per_1m is None

    free = catalogue.models["acme/free-preview"]
    assert (free.input_per_1m, free.output_per_1m) == (Decimal(0), Decimal(0))


def test_litellm_documentation_and_rules_are_skipped(litellm_file: Path) -> None:
    catalogue = load_catalogue(litellm_file)
    assert catalogue.format == "litellm"
    assert set(catalogue.models) == {
        "acme/chat-small",
        "acme/thinker",
        "acme/hosted-by-second",
        "acme/free-preview",
    }
    assert set(catalogue.skipped) == {"sample_spec", "fallback_generalizations"}
    assert catalogue.source == "LiteLLM model_prices_and_context_window.json"


def test_the_date_is_given_else_metadata_else_the_file_date(tmp_path: Path) -> None:
    plain = _write(tmp_path / "plain.json", LITELLM)
    noon_utc = dt.datetime(2025, 3, 4, 12, 0, tzinfo=dt.UTC).timestamp()
    os.utime(plain, (noon_utc, noon_utc))

    by_file = load_catalogue(plain)
    assert (by_file.date, by_file.date_basis) == (dt.date(2025, 3, 4), "file date")
    assert by_file.describe() == (
        "LiteLLM model_prices_and_context_window.json, 2025-03-04 (file date)"
    )

    given = load_catalogue(plain, date=dt.date(2025, 1, 31))
    assert (given.date, given.date_basis) == (dt.date(2025, 1, 31), "given")
    assert given.describe() == "LiteLLM model_prices_and_context_window.json, 2025-01-31"

    tagged = _write(
        tmp_path / "tagged.json",
        {"_modelmeter": {"source": "our negotiated prices", "date": "2025-02-28"}, **LITELLM},
    )
    os.utime(tagged, (noon_utc, noon_utc))
    by_metadata = load_catalogue(tagged)
    assert (by_metadata.date, by_metadata.date_basis) == (dt.date(2025, 2, 28), "metadata")
    assert by_metadata.describe() == "our negotiated prices, 2025-02-28"
    assert "_modelmeter" not in by_metadata.models
    assert load_catalogue(tagged, date=dt.date(2025, 1, 1)).date == dt.date(2025, 1, 1)


# --- OpenRouter layout ------------------------------------------------------------------------


def test_openrouter_models_list() -> None:
    catalogue = load_openrouter_catalogue(OPENROUTER, date=dt.date(2026, 11, 20))
    assert catalogue.format == "openrouter"
    assert catalogue.describe() == "OpenRouter /api/v1/models, 2026-11-20"

    qwen = catalogue.models["openrouter/qwen/qwen-2.5-coder-32b-instruct"]
    assert qwen.input_per_1m == Decimal("0.06")  # "0.00000006" × 1e6
    assert qwen.output_per_1m == Decimal("0.15")  # "0.00000015" × 1e6
    assert qwen.reasoning_per_1m is None  # internal_reasoning "0": billed as output
    assert qwen.cached_input_per_1m is None  # no input_cache_read listed
    assert (qwen.context_window, qwen.max_output_tokens) == (32768, 16384)
    assert (qwen.provider, qwen.currency) == ("openrouter", "USD")

    llama = catalogue.models["openrouter/meta-llama/llama-3.2-90b-vision-instruct"]
    assert llama.max_output_tokens is None  # max_completion_tokens: null

    distill = catalogue.models["openrouter/deepseek/deepseek-r1-distill-llama-8b"]
    assert distill.reasoning_per_1m == Decimal("0.08")  # "0.00000008" × 1e6
    assert distill.per_request == Decimal("0.0002")

    cached = catalogue.models["openrouter/example/cached-chat"]
    assert cached.cached_input_per_1m == Decimal("0.3")  # "0.0000003" × 1e6
    assert cached.cache_write_per_1m == Decimal("3.75")  # "0.00000375" × 1e6

    # The auto router's "-1" is no price at all: left out, and said why.
    assert "openrouter/openrouter/auto" not in catalogue.models
    assert "negative" in catalogue.skipped["openrouter/openrouter/auto"]


def test_auto_format_decides_by_content(litellm_file: Path) -> None:
    assert load_catalogue(OPENROUTER).format == "openrouter"
    assert load_catalogue(litellm_file).format == "litellm"


def test_a_declared_format_that_does_not_fit_is_refused(litellm_file: Path) -> None:
    with pytest.raises(CatalogueError, match="not in OpenRouter's layout"):
        load_catalogue(litellm_file, "openrouter")
    with pytest.raises(CatalogueError, match="not in LiteLLM's layout"):
        load_catalogue(OPENROUTER, "litellm")


# --- bad files --------------------------------------------------------------------------------


def _openrouter_with(pricing: Any = None, **item: Any) -> dict[str, Any]:
    model: dict[str, Any] = {"id": "vendor/model-x", "context_length": 8192}
    model["pricing"] = (
        {"prompt": "0.000001", "completion": "0.000002"} if pricing is None else (pricing)
    )
    model.update(item)
    return {"data": [model]}


BAD_FILES = [
    pytest.param('{"gpt-x": {', "line 1 column 12: not JSON", id="not-json"),
    pytest.param("[1, 2]", "a price catalogue is a JSON object", id="top-level-list"),
    pytest.param({"gpt-x": [1]}, "model 'gpt-x': must be an object", id="entry-not-object"),
    pytest.param(
        {"gpt-x": {"input_cost_per_token": "cheap", "litellm_provider": "x"}},
        "model 'gpt-x': input_cost_per_token must be a number (USD per token), got \"cheap\"",
        id="price-text",
    ),
    pytest.param(
        {"gpt-x": {"input_cost_per_token": True, "litellm_provider": "x"}},
        "model 'gpt-x': input_cost_per_token must be a number",
        id="price-bool",
    ),
    pytest.param(
        {"gpt-x": {"output_cost_per_token": -1e-06, "litellm_provider": "x"}},
        "model 'gpt-x': output_cost_per_token must not be negative",
        id="price-negative",
    ),
    pytest.param(
        {"gpt-x": {"input_cost_per_token": 1e-06, "max_input_tokens": "lots"}},
        "model 'gpt-x': max_input_tokens must be a whole number of tokens",
        id="limit-text",
    ),
    pytest.param(
        '{"gpt-x": {"input_cost_per_token": NaN, "litellm_provider": "x"}}',
        "model 'gpt-x': input_cost_per_token must be a number",
        id="price-nan",
    ),
    pytest.param(
        {"_modelmeter": {"date": "last week"}, "gpt-x": {"input_cost_per_token": 1e-06}},
        "_modelmeter: date must be a date as YYYY-MM-DD",
        id="metadata-date",
    ),
    pytest.param(
        _openrouter_with(pricing="free"),
        "data[0] (model 'vendor/model-x'): pricing must be an object",
        id="openrouter-pricing-text",
    ),
    pytest.param(
        _openrouter_with(pricing={"prompt": "0.000001"}),
        "data[0] (model 'vendor/model-x'): pricing.completion is missing",
        id="openrouter-no-completion",
    ),
    pytest.param(
        _openrouter_with(pricing={"prompt": "1 dollar", "completion": "0"}),
        "data[0] (model 'vendor/model-x'): pricing.prompt must be a number or a decimal string",
        id="openrouter-price-text",
    ),
    pytest.param(
        {"data": [{"name": "no id", "pricing": {"prompt": "0", "completion": "0"}}]},
        "data[0]: id must be non-empty text",
        id="openrouter-no-id",
    ),
    pytest.param(
        {"data": [_openrouter_with()["data"][0], _openrouter_with()["data"][0]]},
        "data[1] (model 'vendor/model-x'): id appears twice (first at data[0])",
        id="openrouter-duplicate",
    ),
    pytest.param(
        _openrouter_with(context_length=-5),
        "context_length must be a whole number of tokens",
        id="openrouter-context",
    ),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_bad_files_name_the_file_the_model_and_the_field(
    tmp_path: Path, content: Any, message: str
) -> None:
    path = _write(tmp_path / "bad-prices.json", content)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: "), text
    assert message in text
    assert isinstance(caught.value, SpecError)  # the CLI reports it as a usage error


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="price catalogue not found"):
        load_catalogue(tmp_path / "absent.json")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"caf\xe9": {}}'.encode("latin-1"))
    with pytest.raises(CatalogueError, match="not UTF-8"):
        load_catalogue(latin1)


# --- the built-in catalogue -------------------------------------------------------------------


def test_builtin_catalogue_has_the_study_models_and_its_date() -> None:
    catalogue = builtin_catalogue()
    assert catalogue.describe() == "LiteLLM model_prices_and_context_window.json, 2026-11-12"
    assert catalogue.date_basis == "metadata"
    assert catalogue.path is not None and catalogue.path.name == BUILTIN_CATALOGUE_FILE
    for key in (
        "fireworks_ai/accounts/fireworks/models/deepseek-r1-distill-llama-8b",
        "vertex_ai/meta/llama-3.2-90b-vision-instruct-maas",
        "together_ai/Qwen/Qwen2.5-Coder-32B-Instruct",
        "gpt-4o-mini",
        "gpt-4o",
        "claude-sonnet-4-5",
        "gemini-2.5-flash",
        "deepseek/deepseek-chat",
        "deepseek/deepseek-reasoner",
    ):
        assert key in catalogue.models, key
    mini = catalogue.models["gpt-4o-mini"]
    # LiteLLM: input 1.5e-07, output 6e-07, cache read 7.5e-08 USD per token
    assert (mini.input_per_1m, mini.output_per_1m) == (Decimal("0.15"), Decimal("0.6"))
    assert mini.cached_input_per_1m == Decimal("0.075")
    assert (mini.context_window, mini.max_output_tokens) == (128000, 16384)
    # gemini-2.5-flash: output_cost_per_reasoning_token 2.5e-06 -> 2.5 per 1M
    assert catalogue.models["gemini-2.5-flash"].reasoning_per_1m == Decimal("2.5")


def test_builtin_file_says_where_it_comes_from() -> None:
    raw = json.loads((CATALOGUES / BUILTIN_CATALOGUE_FILE).read_text("utf-8"))
    meta = raw["_modelmeter"]
    assert meta["litellm_version"] == "1.109.1"
    assert meta["date"] == "2026-11-12"
    assert "MIT" in meta["license"]
    assert all("litellm_provider" in entry for key, entry in raw.items() if key != "_modelmeter")
    readme = (CATALOGUES / "README.md").read_text("utf-8")
    assert "1.109.1" in readme and "2026-11-12" in readme and "MIT" in readme
    for key in raw:
        if key != "_modelmeter":
            assert f"`{key}`" in readme, f"{key} is not listed in catalogues/README.md"


# --- catalogue pricing ------------------------------------------------------------------------


def test_catalogue_pricing_is_a_pricing_kind() -> None:
    pricing = PRICING.validate_python({"kind": "catalogue", "model": "gpt-4o-mini"})
    assert isinstance(pricing, CataloguePricing)
    assert pricing.currency == "USD"
    assert pricing.per_1m_input_tokens is None
    with pytest.raises(ValidationError, match="model"):
        PRICING.validate_python({"kind": "catalogue"})
    with pytest.raises(ValidationError, match="price_per_hour"):
        PRICING.validate_python({"kind": "catalogue", "model": "x", "price_per_hour": 1})


def test_every_pricing_field_is_described() -> None:
    models: list[type[BaseModel]] = [CataloguePricing, ApiPricing, EconomicsSpec, Workload]
    for model in models:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


def test_resolve_takes_catalogue_prices_and_overrides_win() -> None:
    catalogue = load_catalogue(OPENROUTER)
    plain = resolve_pricing(CataloguePricing(model="openrouter/example/cached-chat"), catalogue)
    assert plain == ApiPricing(
        currency="USD",
        per_1m_input_tokens=Decimal(3),
        per_1m_output_tokens=Decimal(15),
        per_1m_cached_input_tokens=Decimal("0.3"),
        per_1m_cache_write_tokens=Decimal("3.75"),
    )
    overridden = resolve_pricing(
        CataloguePricing.model_validate(
            {
                "model": "openrouter/example/cached-chat",
                "per_1m_output_tokens": "12.5",
                "per_1m_cached_input_tokens": 0,
                "per_request": "0.001",
            }
        ),
        catalogue,
    )
    assert overridden.per_1m_output_tokens == Decimal("12.5")  # override
    assert overridden.per_1m_cached_input_tokens == Decimal(0)  # an override of 0 still wins
    assert overridden.per_request == Decimal("0.001")
    assert overridden.per_1m_input_tokens == Decimal(3)  # not overridden: the catalogue's
    assert overridden.per_1m_cache_write_tokens == Decimal("3.75")


def test_a_missing_model_is_named_with_close_matches() -> None:
    catalogue = builtin_catalogue()
    with pytest.raises(CatalogueError) as caught:
        resolve_pricing(CataloguePricing(model="gpt-4o-mnii"), catalogue)
    assert "model 'gpt-4o-mnii' is not in the catalogue" in str(caught.value)
    assert caught.value.close_matches[0] == "gpt-4o-mini"
    assert caught.value.key == "gpt-4o-mnii"

    with pytest.raises(CatalogueError) as by_suffix:
        resolve_pricing(CataloguePricing(model="qwen/qwen2.5-coder-32b-instruct"), catalogue)
    # Keys ending in what was asked for come first, case ignored.
    assert set(by_suffix.value.close_matches[:4]) == {
        "together_ai/Qwen/Qwen2.5-Coder-32B-Instruct",
        "hyperbolic/Qwen/Qwen2.5-Coder-32B-Instruct",
        "nscale/Qwen/Qwen2.5-Coder-32B-Instruct",
        "cloudflare/@cf/qwen/qwen2.5-coder-32b-instruct",
    }
    assert "'together_ai/Qwen/Qwen2.5-Coder-32B-Instruct'" in str(by_suffix.value)


def test_currency_must_match_the_catalogue() -> None:
    pricing = CataloguePricing(model="gpt-4o-mini", currency="eur")
    with pytest.raises(CatalogueError, match="in USD but the pricing says EUR"):
        resolve_pricing(pricing, builtin_catalogue())


def test_a_catalogue_entry_without_token_prices_needs_them_given(litellm_file: Path) -> None:
    catalogue = load_catalogue(litellm_file)
    by_second = CataloguePricing(model="acme/hosted-by-second")
    with pytest.raises(CatalogueError, match="no per_1m_input_tokens or per_1m_output_tokens"):
        resolve_pricing(by_second, catalogue)
    given = CataloguePricing(
        model="acme/hosted-by-second", per_1m_input_tokens=Decimal(0), per_1m_output_tokens=0
    )
    assert resolve_pricing(given, catalogue).per_second == Decimal("0.0002")


def test_resolve_target_pricing_passes_other_kinds_through() -> None:
    instance = InstancePricing(price_per_hour=Decimal(1), currency="EUR")
    api = ApiPricing(currency="USD", per_1m_input_tokens=Decimal(1))
    assert resolve_target_pricing(instance, None) is instance
    assert resolve_target_pricing(api, None) is api
    assert resolve_target_pricing(None, None) is None
    with pytest.raises(CatalogueError, match="no price catalogue is set"):
        resolve_target_pricing(CataloguePricing(model="gpt-4o"), None)
    resolved = resolve_target_pricing(CataloguePricing(model="gpt-4o"), builtin_catalogue())
    assert isinstance(resolved, ApiPricing)
    assert resolved.per_1m_input_tokens == Decimal("2.5")  # gpt-4o: 2.5e-06 per token


# --- the spec section -------------------------------------------------------------------------


def test_economics_spec_opens_builtin_and_relative_catalogues(tmp_path: Path) -> None:
    assert open_catalogue(EconomicsSpec()) is None

    builtin = EconomicsSpec.model_validate({"catalogue": "builtin"})
    assert builtin.catalogue == "builtin"
    opened = open_catalogue(builtin)
    assert opened is not None and "gpt-4o" in opened.models

    redated = EconomicsSpec.model_validate({"catalogue": "builtin", "catalogue_date": "2026-12-01"})
    opened = open_catalogue(redated)
    assert opened is not None
    assert (opened.date, opened.date_basis) == (dt.date(2026, 12, 1), "given")

    _write(tmp_path / "or.json", json.loads(OPENROUTER.read_text("utf-8")))
    relative = EconomicsSpec.model_validate(
        {"catalogue": "or.json", "catalogue_format": "openrouter", "catalogue_date": "2026-11-01"}
    )
    assert relative.catalogue == Path("or.json")
    opened = open_catalogue(relative, tmp_path)
    assert opened is not None
    assert opened.describe() == "OpenRouter /api/v1/models, 2026-11-01"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"monthly_budget": 100, "workload": {"requests_per_day": 10}}, "needs budget_currency"),
        ({"monthly_budget": 100, "budget_currency": "USD"}, "needs a workload"),
        ({"budget_currency": "USD"}, "monthly_budget is not"),
        ({"monthly_budget": 0, "budget_currency": "USD"}, "monthly_budget"),
        ({"budget_currency": "dollars", "monthly_budget": 1}, "budget_currency"),
        ({"catalogue_format": "openrouter"}, "need a catalogue"),
        ({"catalogue_format": "csv", "catalogue": "builtin"}, "catalogue_format"),
        ({"self_hosted": {"price_per_hour": 2}}, "currency"),
        ({"workload": {"requests_per_day": 10, "input_tokens_per_month": 5}}, "not both"),
        ({"catalog": "builtin"}, "catalog"),
    ],
)
def test_economics_spec_errors_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EconomicsSpec.model_validate(data)


def test_economics_spec_accepts_a_full_section() -> None:
    spec = EconomicsSpec.model_validate(
        {
            "catalogue": "builtin",
            "workload": {"requests_per_day": 20000, "input_tokens_per_request": 500},
            "monthly_budget": "500",
            "budget_currency": "usd",
            "self_hosted": {"price_per_hour": "2.50", "currency": "USD", "utilisation": 0.6},
        }
    )
    assert spec.budget_currency == "USD"
    assert spec.monthly_budget == Decimal(500)
    assert spec.self_hosted is not None and spec.self_hosted.instances == 1
    assert spec.workload is not None and spec.workload.days_per_month == Decimal(30)
