"""The ``dataset:`` section (and a task's dataset): which file, which columns."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
)

from modelmeter.spec._base import SpecModel

__all__ = [
    "DatasetSpec",
]


class DatasetSpec(SpecModel):
    path: Path = Field(
        description="JSONL, CSV or Parquet file (Parquet: the 'parquet' extra); a relative "
        "path is read from the spec's folder."
    )
    format: Literal["auto", "jsonl", "csv", "parquet", "mmlu", "humaneval", "mbpp"] = Field(
        default="auto",
        description="File format; 'auto' decides by the file extension. LLM tasks: 'mmlu' "
        "(CSV per subject, a folder of them, or the JSONL layout), 'humaneval', 'mbpp'.",
    )
    input_field: str = Field(default="text", description="Column holding what is sent to a target.")
    label_field: str | None = Field(
        default="label", description="Column holding the expected answer (null: unlabelled)."
    )
    id_field: str | None = Field(
        default="id",
        description="Column holding a stable item id; rows without one are named row-N "
        "after their line in the file.",
    )
    slice_fields: list[str] = Field(
        default_factory=list,
        description="Columns to break quality down by, e.g. [language, customer_group].",
    )
    limit: int | None = Field(default=None, ge=1, description="Use only the first N rows.")
