"""Run storage (SQLite by default, any SQLAlchemy URL such as PostgreSQL), and the response cache
kept beside the runs."""

from modelmeter.store.cache import AnswerCache, CachedAnswer, ResponseCache
from modelmeter.store.runs import OutcomeRow, RunStore, RunSummary, default_db_url

__all__ = [
    "AnswerCache",
    "CachedAnswer",
    "OutcomeRow",
    "ResponseCache",
    "RunStore",
    "RunSummary",
    "default_db_url",
]
