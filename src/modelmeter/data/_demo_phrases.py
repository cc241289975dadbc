"""Hand-written phrase bank behind the demo intent dataset (see ``demo_intents``), read from the
package data file ``demo_phrases.json`` beside this module.

Every table is keyed by language first, then by intent where it depends on the intent. Templates
use ``{slot}`` placeholders that ``demo_intents`` fills per message: ``order``, ``product``,
``date``, ``amount``, ``days``, ``plan``, ``street``, ``city``, ``device``, ``code``, ``name``.

The tables:

- ``TEMPLATES`` (language -> intent): full customer messages, the body of clean, typo, mixed and
  label-noise samples.
- ``SHORT`` (language -> intent): short, often ambiguous messages as customers type them into a
  chat box. A few entries appear under more than one intent on purpose ("still nothing" fits a
  late order and a late refund).
- ``GREETINGS``, ``CLOSINGS``: openings and sign-offs per language.
- ``EXTRAS``: sentences that fit any intent; they make messages longer without giving the intent
  away. ``FILLERS``: words tacked onto short chat messages ("refund?? pls").
- ``PRODUCTS``, ``CITIES``, ``STREETS``, ``NAMES``, ``MONTHS`` per language; ``PLANS`` and
  ``DEVICES`` for every language.
- ``DATE_FORMATS`` (slots ``{day}`` ``{month}`` name, ``{dd}`` ``{mm}`` two digits, ``{m}``
  month number), ``AMOUNT_FORMATS`` (``{units}`` whole part, ``{cents}`` two digits),
  ``ORDER_FORMATS`` (``{number}``).

Product names are all grammatically feminine and singular in French, Spanish, Portuguese and
German, so that templates can carry the article ("la {product}", "die {product}") without
agreement errors; short messages use the bare name.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Final

PhraseTable = dict[str, dict[str, tuple[str, ...]]]


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples the generator draws from (immutable, as they were)."""
    if isinstance(value, list):
        return tuple(value)
    return {key: _tuples(item) for key, item in value.items()}


_BANK: Final = {
    name: _tuples(table)
    for name, table in json.loads(
        resources.files("modelmeter.data").joinpath("demo_phrases.json").read_text("utf-8")
    ).items()
}

TEMPLATES: Final[PhraseTable] = _BANK["TEMPLATES"]
SHORT: Final[PhraseTable] = _BANK["SHORT"]
GREETINGS: Final[dict[str, tuple[str, ...]]] = _BANK["GREETINGS"]
CLOSINGS: Final[dict[str, tuple[str, ...]]] = _BANK["CLOSINGS"]
EXTRAS: Final[dict[str, tuple[str, ...]]] = _BANK["EXTRAS"]
FILLERS: Final[dict[str, tuple[str, ...]]] = _BANK["FILLERS"]
PRODUCTS: Final[dict[str, tuple[str, ...]]] = _BANK["PRODUCTS"]
CITIES: Final[dict[str, tuple[str, ...]]] = _BANK["CITIES"]
STREETS: Final[dict[str, tuple[str, ...]]] = _BANK["STREETS"]
NAMES: Final[dict[str, tuple[str, ...]]] = _BANK["NAMES"]
MONTHS: Final[dict[str, tuple[str, ...]]] = _BANK["MONTHS"]
DATE_FORMATS: Final[dict[str, tuple[str, ...]]] = _BANK["DATE_FORMATS"]
AMOUNT_FORMATS: Final[dict[str, tuple[str, ...]]] = _BANK["AMOUNT_FORMATS"]
ORDER_FORMATS: Final[dict[str, tuple[str, ...]]] = _BANK["ORDER_FORMATS"]
PLANS: Final[tuple[str, ...]] = _BANK["PLANS"]
DEVICES: Final[tuple[str, ...]] = _BANK["DEVICES"]
