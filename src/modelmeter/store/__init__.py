"""Run storage (SQLite by default, any SQLAlchemy URL such as PostgreSQL), and the response cache
kept beside the runs."""

from modelmeter.store.cache import AnswerCache, CachedAnswer, ResponseCache
from modelmeter.store.keys import ApiKey, KeyLimits, KeyStore, hash_key
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
