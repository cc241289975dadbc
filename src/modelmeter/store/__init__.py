"""Run storage (SQLite by default, any SQLAlchemy URL such as PostgreSQL)."""

from modelmeter.store.runs import RunStore, RunSummary, default_db_url

__all__ = ["RunStore", "RunSummary", "default_db_url"]
