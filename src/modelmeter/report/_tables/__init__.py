"""The report's tables as plain strings, built once from a Report and drawn by both renderings.

``table`` holds the types, ``summary`` the report-wide tables and the whole view, ``models``
each model's detail tables.
"""

from modelmeter.report._tables.models import model_details, sweep_table, token_source_sentence
from modelmeter.report._tables.summary import (
    facts,
    has_llm,
    priorities,
    ranking,
    sla,
    slices,
    summary,
    view,
    weights,
)
from modelmeter.report._tables.table import (
    LLM_COUNT_NOTE,
    SUMMARY_LLM_NOTE,
    Column,
    ModelDetail,
    ReportView,
    Row,
    Table,
)

__all__ = [
    "LLM_COUNT_NOTE",
    "SUMMARY_LLM_NOTE",
    "Column",
    "ModelDetail",
    "ReportView",
    "Row",
    "Table",
    "facts",
    "has_llm",
    "model_details",
    "priorities",
    "ranking",
    "sla",
    "slices",
    "summary",
    "sweep_table",
    "token_source_sentence",
    "view",
    "weights",
]
