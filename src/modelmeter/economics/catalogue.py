"""Price catalogues: what hosted models cost per token, read from files others maintain.

Prices copied into a spec by hand go stale without anyone noticing; a catalogue keeps them in
one file with a source and a date that the report shows next to every cost. Two public layouts
are read, both listing US dollars per token:

- **LiteLLM** ``model_prices_and_context_window.json``: a JSON object, model key -> entry with
  ``input_cost_per_token``, ``output_cost_per_token``, ``cache_read_input_token_cost``,
  ``cache_creation_input_token_cost``, ``output_cost_per_reasoning_token``,
  ``input_cost_per_request``, ``cost_per_second`` / ``input_cost_per_second`` /
  ``output_cost_per_second``, ``max_input_tokens``, ``max_output_tokens``, ``litellm_provider``,
  ``mode``. The ``sample_spec`` key documents the layout and is skipped, as is any key whose
  value carries neither a price nor a provider (LiteLLM keeps rules there, not models).
- **OpenRouter** ``/api/v1/models``: ``{"data": [{"id", "context_length", "pricing": {"prompt",
  "completion", "request", "internal_reasoning", "input_cache_read", "input_cache_write", ...},
  "top_provider": {"max_completion_tokens", ...}}, ...]}`` with prices as decimal strings.
  Keys become ``openrouter/<id>``. A negative price (OpenRouter's ``-1`` for routers whose price
  depends on the model picked) has no fixed value: such entries are skipped, and listed in
  :attr:`Catalogue.skipped`. A zero ``internal_reasoning`` or cache price means "not priced
  separately": reasoning tokens are then billed as output, cached tokens as input.

Prices become USD per million tokens exactly: the JSON numbers are read as ``Decimal`` from their
text, never through a binary float, and shifted by six decimal places.

The catalogue's date is, in this order: the ``date`` argument; the ``date`` in an optional
top-level ``"_modelmeter": {"source": ..., "date": "YYYY-MM-DD"}`` object (ours, ignored by
LiteLLM and OpenRouter); else the file's modification date, and :attr:`Catalogue.date_basis`
then says ``"file date"`` so that nobody mistakes a download date for a price date.

:func:`builtin_catalogue` loads the subset of LiteLLM's file shipped with modelmeter (see
``catalogues/README.md`` for its version, date and licence). Nothing is ever downloaded.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelmeter._exceptions import CatalogueError
from modelmeter._money import Money
from modelmeter._text_files import json_problem, not_utf8_message
from modelmeter.spec.economics import CatalogueFormat, EconomicsSpec

__all__ = [
    "BUILTIN_CATALOGUE_FILE",
    "Catalogue",
    "CatalogueEntry",
    "CatalogueError",
    "builtin_catalogue",
    "load_catalogue",
    "load_litellm_catalogue",
    "load_openrouter_catalogue",
]

BUILTIN_CATALOGUE_FILE = "litellm-1.109.1.json"
"""The shipped catalogue, in the ``catalogues`` folder next to this module."""


LITELLM_SOURCE = "LiteLLM model_prices_and_context_window.json"
OPENROUTER_SOURCE = "OpenRouter /api/v1/models"
_METADATA_KEY = "_modelmeter"
_LITELLM_SKIPPED = {"sample_spec": "LiteLLM's description of its own layout, not a model"}


class CatalogueEntry(BaseModel):
    """One model's prices and limits; every price in ``currency``, None where not listed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="The model's key in its catalogue, e.g. gpt-4o-mini.")
    provider: str | None = Field(
        default=None, description="Who serves it at this price (LiteLLM's litellm_provider)."
    )
    mode: str | None = Field(
        default=None, description="LiteLLM's mode (chat, embedding, ...); None for OpenRouter."
    )
    input_per_1m: Money | None = Field(
        default=None, description="Price of one million input tokens."
    )
    output_per_1m: Money | None = Field(
        default=None, description="Price of one million output tokens."
    )
    cached_input_per_1m: Money | None = Field(
        default=None,
        description="Price of one million input tokens read from the prompt cache.",
    )
    cache_write_per_1m: Money | None = Field(
        default=None,
        description="Price of one million input tokens written to the prompt cache.",
    )
    reasoning_per_1m: Money | None = Field(
        default=None,
        description="Price of one million reasoning tokens; None: billed as output tokens.",
    )
    per_request: Money | None = Field(default=None, description="Price of one request.")
    per_second: Money | None = Field(
        default=None, description="Price of one second of request duration."
    )
    context_window: int | None = Field(
        default=None,
        description=(
            "Most input tokens one request may carry (LiteLLM's max_input_tokens; OpenRouter's "
            "context_length, which counts input and output together)."
        ),
    )
    max_output_tokens: int | None = Field(
        default=None, description="Most output tokens one request may produce."
    )
    currency: str = Field(default="USD", description="ISO 4217 code of every price here.")


class Catalogue(BaseModel):
    """A set of model prices with where they come from and how old they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: dict[str, CatalogueEntry] = Field(description="Entries by model key.")
    format: Literal["litellm", "openrouter"] = Field(description="The file's layout.")
    source: str = Field(description="Where the prices come from, as shown in the report.")
    date: dt.date = Field(description="The date the prices are from.")
    date_basis: Literal["given", "metadata", "file date"] = Field(
        description=(
            "How `date` was found: given by the caller (the spec), read from the file's "
            "_modelmeter.date, or the file's modification date."
        )
    )
    path: Path | None = Field(default=None, description="The file it was read from.")
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Keys in the file that are not priced models, and why."
    )

    def describe(self) -> str:
        """'source, date' for the report; '(file date)' marks a date that is only the file's."""
        suffix = " (file date)" if self.date_basis == "file date" else ""
        return f"{self.source}, {self.date.isoformat()}{suffix}"

    def close_matches(self, key: str, limit: int = 5) -> list[str]:
        """Keys most like ``key``: those ending in it first, then by similarity, case ignored."""
        by_lower: dict[str, str] = {}
        for known in self.models:
            by_lower.setdefault(known.lower(), known)
        wanted = key.lower()
        found = [known for lower, known in by_lower.items() if lower.endswith("/" + wanted)]
        for lower in difflib.get_close_matches(wanted, list(by_lower), n=limit, cutoff=0.6):
            if by_lower[lower] not in found:
                found.append(by_lower[lower])
        return found[:limit]

    def entry(self, key: str) -> CatalogueEntry:
        """The entry for ``key``; :class:`CatalogueError` naming close keys when it is absent."""
        found = self.models.get(key)
        if found is not None:
            return found
        close = self.close_matches(key)
        hint = (
            f"; close matches: {', '.join(repr(match) for match in close)}"
            if close
            else "; no key is close to it"
        )
        raise CatalogueError(
            f"model {key!r} is not in the catalogue ({self.source}, "
            f"{len(self.models):,} models){hint}",
            path=self.path,
            key=key,
            close_matches=close,
        )


def _describe_value(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, Decimal) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _per_1m(per_token: Decimal) -> Decimal:
    """USD per token -> USD per million tokens, exactly, without exponent noise."""
    value = per_token.scaleb(6)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


# Bounds no real catalogue comes near, so that a broken file is refused with a message.
_MAX_PRICE_PER_TOKEN = Decimal(1000)
_MAX_TOKENS = Decimal(10) ** 15


class _Reader:
    """Reads one file's entries; every error names the file, the model and the field."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def fail(self, where: str, message: str, key: str | None = None) -> CatalogueError:
        return CatalogueError(f"{where}: {message}", path=self.path, key=key)

    def price(
        self,
        where: str,
        key: str,
        entry: dict[str, Any],
        field: str,
        *,
        text_allowed: bool,
        prefix: str = "",
    ) -> Decimal | None:
        if field not in entry or entry[field] is None:
            return None
        raw = entry[field]
        value: Decimal | None = None
        if isinstance(raw, Decimal) or (isinstance(raw, int) and not isinstance(raw, bool)):
            value = Decimal(raw)
        elif isinstance(raw, str) and text_allowed:
            try:
                value = Decimal(raw.strip())
            except ArithmeticError:
                value = None
        if value is None or not value.is_finite():
            kind = "a number or a decimal string" if text_allowed else "a number"
            raise self.fail(
                where,
                f"{prefix}{field} must be {kind} (USD per token), got {_describe_value(raw)}",
                key,
            )
        if abs(value) > _MAX_PRICE_PER_TOKEN:
            # Also keeps exact decimal arithmetic away from exponents it cannot represent.
            raise self.fail(
                where,
                f"{prefix}{field} is {_describe_value(value)} USD per token; no model costs "
                f"more than {_MAX_PRICE_PER_TOKEN} USD per token (is it per 1M tokens?)",
                key,
            )
        return value

    def count(self, where: str, key: str, entry: dict[str, Any], field: str) -> int | None:
        if field not in entry or entry[field] is None:
            return None
        raw = entry[field]
        whole = isinstance(raw, Decimal) and raw.is_finite() and abs(raw) < _MAX_TOKENS
        if whole and raw == raw.to_integral_value():
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
            raise self.fail(
                where,
                f"{field} must be a whole number of tokens, got {_describe_value(raw)}",
                key,
            )
        return raw


def _non_negative(
    reader: _Reader, where: str, key: str, field: str, value: Decimal | None
) -> Decimal | None:
    if value is not None and value < 0:
        raise reader.fail(where, f"{field} must not be negative, got {value}", key)
    return value


def _litellm_entries(
    data: dict[str, Any], reader: _Reader
) -> tuple[dict[str, CatalogueEntry], dict[str, str]]:
    models: dict[str, CatalogueEntry] = {}
    skipped: dict[str, str] = {}
    for key, entry in data.items():
        if key == _METADATA_KEY:
            continue
        if key in _LITELLM_SKIPPED:
            skipped[key] = _LITELLM_SKIPPED[key]
            continue
        where = f"model {key!r}"
        if not isinstance(entry, dict):
            raise reader.fail(
                where,
                f"must be an object of prices and limits, got {_describe_value(entry)}",
                key,
            )
        has_price = any("cost" in field for field in entry)
        if not has_price and "litellm_provider" not in entry:
            skipped[key] = "neither a price nor a provider: not a model entry"
            continue

        def price(field: str, *, where: str = where, key: str = key, entry: Any = entry) -> Any:
            value = reader.price(where, key, entry, field, text_allowed=False)
            return _non_negative(reader, where, key, field, value)

        per_token = {
            "input_per_1m": price("input_cost_per_token"),
            "output_per_1m": price("output_cost_per_token"),
            "cached_input_per_1m": price("cache_read_input_token_cost"),
            "cache_write_per_1m": price("cache_creation_input_token_cost"),
            "reasoning_per_1m": price("output_cost_per_reasoning_token"),
        }
        # One rate times the request's duration, picked in the order LiteLLM itself uses.
        per_second = next(
            (
                value
                for value in (
                    price("cost_per_second"),
                    price("input_cost_per_second"),
                    price("output_cost_per_second"),
                )
                if value is not None
            ),
            None,
        )
        provider = entry.get("litellm_provider")
        mode = entry.get("mode")
        for field, text in (("litellm_provider", provider), ("mode", mode)):
            if text is not None and not isinstance(text, str):
                raise reader.fail(where, f"{field} must be text, got {_describe_value(text)}", key)
        max_output = reader.count(where, key, entry, "max_output_tokens")
        if max_output is None:
            # LiteLLM's legacy max_tokens: the output limit where the provider states one.
            max_output = reader.count(where, key, entry, "max_tokens")
        models[key] = CatalogueEntry(
            key=key,
            provider=provider,
            mode=mode,
            **{name: None if v is None else _per_1m(v) for name, v in per_token.items()},
            per_request=price("input_cost_per_request"),
            per_second=per_second,
            context_window=reader.count(where, key, entry, "max_input_tokens"),
            max_output_tokens=max_output,
        )
    return models, skipped


def _openrouter_entries(
    data: dict[str, Any], reader: _Reader
) -> tuple[dict[str, CatalogueEntry], dict[str, str]]:
    items = data["data"]
    models: dict[str, CatalogueEntry] = {}
    skipped: dict[str, str] = {}
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"data[{index}]"
        if not isinstance(item, dict):
            raise reader.fail(where, f"must be a model object, got {_describe_value(item)}")
        model_id = item.get("id")
        if not isinstance(model_id, str) or not model_id.strip():
            raise reader.fail(where, f"id must be non-empty text, got {_describe_value(model_id)}")
        key = f"openrouter/{model_id}"
        where = f"data[{index}] (model {model_id!r})"
        if model_id in first_seen:
            raise reader.fail(
                where, f"id appears twice (first at data[{first_seen[model_id]}])", key
            )
        first_seen[model_id] = index
        pricing = item.get("pricing")
        if not isinstance(pricing, dict):
            raise reader.fail(
                where,
                f"pricing must be an object with prompt and completion prices, got "
                f"{_describe_value(pricing)}",
                key,
            )
        prices = {
            field: reader.price(where, key, pricing, field, text_allowed=True, prefix="pricing.")
            for field in (
                "prompt",
                "completion",
                "request",
                "internal_reasoning",
                "input_cache_read",
                "input_cache_write",
            )
        }
        for field in ("prompt", "completion"):
            if prices[field] is None:
                raise reader.fail(where, f"pricing.{field} is missing", key)
        negative = [f"pricing.{field}" for field, value in prices.items() if value and value < 0]
        if negative:
            verb = "is" if len(negative) == 1 else "are"
            skipped[key] = (
                f"{' and '.join(negative)} {verb} negative: the price depends on the model "
                "routed to"
            )
            continue

        def separate(field: str, prices: dict[str, Decimal | None] = prices) -> Decimal | None:
            # OpenRouter writes 0 where a part is not priced on its own.
            value = prices[field]
            return _per_1m(value) if value else None

        top = item.get("top_provider")
        if top is not None and not isinstance(top, dict):
            raise reader.fail(where, f"top_provider must be an object, got {_describe_value(top)}")
        prompt, completion = prices["prompt"], prices["completion"]
        assert prompt is not None and completion is not None  # checked above
        models[key] = CatalogueEntry(
            key=key,
            provider="openrouter",
            input_per_1m=_per_1m(prompt),
            output_per_1m=_per_1m(completion),
            cached_input_per_1m=separate("input_cache_read"),
            cache_write_per_1m=separate("input_cache_write"),
            reasoning_per_1m=separate("internal_reasoning"),
            per_request=prices["request"],
            context_window=reader.count(where, key, item, "context_length"),
            max_output_tokens=(
                reader.count(where, key, top, "max_completion_tokens") if top else None
            ),
        )
    return models, skipped


def _metadata(data: dict[str, Any], reader: _Reader) -> tuple[str | None, dt.date | None]:
    meta = data.get(_METADATA_KEY)
    if meta is None:
        return None, None
    where = _METADATA_KEY
    if not isinstance(meta, dict):
        raise reader.fail(where, 'must be an object such as {"source": ..., "date": "YYYY-MM-DD"}')
    source = meta.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise reader.fail(where, f"source must be non-empty text, got {_describe_value(source)}")
    raw_date = meta.get("date")
    found: dt.date | None = None
    if raw_date is not None:
        try:
            found = dt.date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
        except ValueError:
            found = None
        if found is None:
            raise reader.fail(
                where, f"date must be a date as YYYY-MM-DD, got {_describe_value(raw_date)}"
            )
    return source, found


def _parse(
    text: str,
    *,
    path: Path | None,
    format: CatalogueFormat,
    given_date: dt.date | None,
    file_date: dt.date | None,
) -> Catalogue:
    reader = _Reader(path)
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as error:
        raise reader.fail(
            f"line {error.lineno} column {error.colno}", f"not JSON: {error.msg}"
        ) from None
    except (ValueError, RecursionError, ArithmeticError) as error:
        raise reader.fail("the file", json_problem(error)) from None
    if not isinstance(data, dict):
        raise reader.fail(
            "top level",
            "a price catalogue is a JSON object: LiteLLM's {model key: prices, ...} or "
            f'OpenRouter\'s {{"data": [models]}}, got {type(data).__name__}',
        )
    looks_openrouter = isinstance(data.get("data"), list)
    if format == "auto":
        layout: Literal["litellm", "openrouter"] = "openrouter" if looks_openrouter else "litellm"
    elif format == "openrouter" and not looks_openrouter:
        raise reader.fail(
            "top level", 'not in OpenRouter\'s layout: expected {"data": [models, ...]}'
        )
    elif format == "litellm" and looks_openrouter:
        raise reader.fail(
            "top level",
            "not in LiteLLM's layout: a \"data\" list is OpenRouter's; use format openrouter",
        )
    else:
        layout = format
    source, meta_date = _metadata(data, reader)
    if layout == "openrouter":
        models, skipped = _openrouter_entries(data, reader)
        default_source = OPENROUTER_SOURCE
    else:
        models, skipped = _litellm_entries(data, reader)
        default_source = LITELLM_SOURCE
    basis: Literal["given", "metadata", "file date"]
    if given_date is not None:
        when, basis = given_date, "given"
    elif meta_date is not None:
        when, basis = meta_date, "metadata"
    elif file_date is not None:
        when, basis = file_date, "file date"
    else:
        raise reader.fail("_modelmeter.date", "the catalogue has no date; give one")
    return Catalogue(
        models=models,
        format=layout,
        source=source or default_source,
        date=when,
        date_basis=basis,
        path=path,
        skipped=skipped,
    )


def load_catalogue(
    path: Path | str, format: CatalogueFormat = "auto", *, date: dt.date | None = None
) -> Catalogue:
    """Read a price catalogue in LiteLLM's or OpenRouter's layout (``auto``: decided by content).

    ``date`` is the date the prices are from; without it the file's ``_modelmeter.date`` is
    used, else its modification date (and the catalogue says so). Raises
    :class:`CatalogueError` naming the file, the model and the field of any problem.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        modified = dt.datetime.fromtimestamp(file.stat().st_mtime, tz=dt.UTC).date()
    except FileNotFoundError:
        raise CatalogueError("price catalogue not found", path=file) from None
    except UnicodeDecodeError as error:
        message, line = not_utf8_message(file, error)
        where = f"line {line}: " if line is not None else ""
        raise CatalogueError(where + message, path=file) from None
    except OSError as error:
        raise CatalogueError(f"cannot read: {error.strerror or error}", path=file) from None
    return _parse(text, path=file, format=format, given_date=date, file_date=modified)


def load_litellm_catalogue(path: Path | str, *, date: dt.date | None = None) -> Catalogue:
    """Read LiteLLM's ``model_prices_and_context_window.json``; see :func:`load_catalogue`."""
    return load_catalogue(path, "litellm", date=date)


def load_openrouter_catalogue(path: Path | str, *, date: dt.date | None = None) -> Catalogue:
    """Read OpenRouter's ``/api/v1/models`` response layout; see :func:`load_catalogue`."""
    return load_catalogue(path, "openrouter", date=date)


@lru_cache(maxsize=1)
def builtin_catalogue() -> Catalogue:
    """The LiteLLM subset shipped with modelmeter; its date is LiteLLM's release date."""
    resource = resources.files("modelmeter.economics").joinpath(
        "catalogues", BUILTIN_CATALOGUE_FILE
    )
    with resources.as_file(resource) as file:
        return load_litellm_catalogue(file)


def open_catalogue(section: EconomicsSpec, base: Path | None = None) -> Catalogue | None:
    """The catalogue a spec's ``economics:`` section names, loaded; a relative path is read
    from ``base``. Raises :class:`CatalogueError` naming the file and the entry of any problem.
    """
    if section.catalogue is None:
        return None
    if section.catalogue == "builtin":
        found = builtin_catalogue()
        if section.catalogue_date is not None:
            found = found.model_copy(update={"date": section.catalogue_date, "date_basis": "given"})
        return found
    path = section.catalogue
    if base is not None and not path.is_absolute():
        path = base / path
    return load_catalogue(path, section.catalogue_format, date=section.catalogue_date)
