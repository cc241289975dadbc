"""Run storage (SQLite by default, any SQLAlchemy URL such as PostgreSQL), and the response cache
kept beside the runs.

The names below are loaded when first used (PEP 562): SQLAlchemy takes a tenth of a second to
import, which a process that only checks a key against `key_records` (the gateway's request
path) never pays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelmeter._lazy import lazy_names

if TYPE_CHECKING:
    from modelmeter.store.cache import AnswerCache, CachedAnswer, ResponseCache
    from modelmeter.store.key_records import ApiKey, KeyLimits, hash_key
    from modelmeter.store.keys import KeyStore
    from modelmeter.store.runs import OutcomeRow, RunStore, RunSummary, default_db_url

__all__ = [
    "AnswerCache",
    "ApiKey",
    "CachedAnswer",
    "KeyLimits",
    "KeyStore",
    "OutcomeRow",
    "ResponseCache",
    "RunStore",
    "RunSummary",
    "default_db_url",
    "hash_key",
]

_MODULES = {
    "AnswerCache": "modelmeter.store.cache",
    "CachedAnswer": "modelmeter.store.cache",
    "ResponseCache": "modelmeter.store.cache",
    "ApiKey": "modelmeter.store.key_records",
    "KeyLimits": "modelmeter.store.key_records",
    "hash_key": "modelmeter.store.key_records",
    "KeyStore": "modelmeter.store.keys",
    "OutcomeRow": "modelmeter.store.runs",
    "RunStore": "modelmeter.store.runs",
    "RunSummary": "modelmeter.store.runs",
    "default_db_url": "modelmeter.store.runs",
}

__getattr__, __dir__ = lazy_names(__name__, _MODULES, globals())
