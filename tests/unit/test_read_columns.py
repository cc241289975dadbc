"""`read_columns`: JSONL and CSV files as columns, ragged rows included, errors named."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelmeter import DatasetError
from modelmeter.data import read_columns


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"x": 1, "y": 2}', '{"y": 3, "x": 4}'], {"x": [1, 4], "y": [2, 3]}),  # key order
        (['{"x": 1, "y": 2}', '{"x": 3}'], {"x": [1, 3], "y": [2, None]}),  # a key missing
        (['{"x": 1}', '{"x": 2, "z": 3}'], {"x": [1, 2], "z": [None, 3]}),  # a key added
        (['{"x": 1, "y": 2}', '{"x": 1, "z": 2}'], {"x": [1, 1], "y": [2, None], "z": [None, 2]}),
        (['{"x": 1}', '{"x": 2}'], {"x": [1, 2]}),
    ],
)
def test_jsonl_rows_become_columns(tmp_path: Path, lines: list[str], expected: dict) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert read_columns(path) == expected


def test_csv_cells_stay_strings_and_errors_are_named(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x\n2,\n")
    assert read_columns(path) == {"a": ["1", "2"], "b": ["x", ""]}
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="no rows"):
        read_columns(tmp_path / "empty.jsonl")
    with pytest.raises(DatasetError, match=r"extension '\.txt'"):
        read_columns(tmp_path / "t.txt")
    with pytest.raises(DatasetError, match="not found"):
        read_columns(tmp_path / "missing.csv")
