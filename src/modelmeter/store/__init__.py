"""Run storage (SQLite by default, any SQLAlchemy URL such as PostgreSQL), and the response cache
kept beside the runs.

The names below are loaded when first used (PEP 562): SQLAlchemy takes a tenth of a second to
import, which a process that only checks a key against `key_records` (the gateway's request
path) never pays.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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
    "AnswerCache": "cache",
    "CachedAnswer": "cache",
    "ResponseCache": "cache",
    "ApiKey": "key_records",
    "KeyLimits": "key_records",
    "hash_key": "key_records",
    "KeyStore": "keys",
    "OutcomeRow": "runs",
    "RunStore": "runs",
    "RunSummary": "runs",
    "default_db_url": "runs",
}


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'modelmeter.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"modelmeter.store.{module}"), name)
