"""Parquet datasets beside JSONL and CSV: the same samples, the same columns for drift, and
errors that name the file and the row."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmeter._exceptions import DatasetError
from modelmeter.data import read_columns
from modelmeter.data.loaders import load_samples
from modelmeter.spec import DatasetSpec

ROWS = [
    {"id": "a", "text": "where is my order", "label": "delivery", "language": "en"},
    {"id": "b", "text": "je veux un remboursement", "label": "refund", "language": "fr"},
    {"id": "c", "text": "cancel it", "label": "cancel", "language": "en"},
]


def _parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_parquet_gives_what_jsonl_gives(tmp_path: Path) -> None:
    parquet = _parquet(tmp_path / "data.parquet", ROWS)
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    spec = {"slice_fields": ["language"]}
    from_parquet = load_samples(DatasetSpec(path=parquet, **spec))
    from_jsonl = load_samples(DatasetSpec(path=jsonl, **spec))
    assert from_parquet == from_jsonl
    assert read_columns(parquet) == read_columns(jsonl)


def test_parquet_errors_name_the_file_and_row(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[1]["text"] = None
    broken = _parquet(tmp_path / "broken.parquet", rows)
    with pytest.raises(DatasetError) as error:
        load_samples(DatasetSpec(path=broken))
    assert str(error.value).startswith(f"{broken}:2:") and "'text' has no value" in str(error.value)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(DatasetError, match="not a readable Parquet file"):
        read_columns(garbage)
    with pytest.raises(DatasetError, match="not a readable Parquet file"):
        load_samples(DatasetSpec(path=garbage))
