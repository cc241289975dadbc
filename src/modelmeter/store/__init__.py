"""Run storage (SQLite by default, any SQLAlchemy URL such as PostgreSQL)."""

from modelmeter.store.runs import OutcomeRow, RunStore, RunSummary, default_db_url

__all__ = ["OutcomeRow", "RunStore", "RunSummary", "default_db_url"]
