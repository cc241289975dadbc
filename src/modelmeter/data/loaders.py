"""Read a labelled dataset (JSONL or CSV) into Samples; errors name ``path:line``."""

from __future__ import annotations

import csv
import json
import operator
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from modelmeter._exceptions import DatasetError
from modelmeter._text_files import (
    allow_long_csv_cells,
    csv_problem,
    json_problem,
    not_utf8,
)
from modelmeter.data.sample import Sample
from modelmeter.spec import DatasetSpec

_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_PARQUET_HINT = "reading Parquet needs pyarrow: pip install 'modelmeter[parquet]'"


def _parquet_table(path: Path) -> Any:
    """The file as a pyarrow Table; DatasetError when pyarrow is missing or the file is not
    Parquet."""
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise DatasetError(_PARQUET_HINT, path=path) from None
    try:
        return parquet.read_table(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise DatasetError(f"not a readable Parquet file: {exc}", path=path) from None


def _rows_parquet(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(row number from 1, row) of a Parquet file: its errors name the row as the text
    formats name the line."""
    table = _parquet_table(path)
    number = 0
    for batch in table.to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def _parse(text: str) -> Any:
    """One JSON value: orjson first (2.2 times the standard library's speed on 100,000 rows of
    25 columns, benchmarks/drift.py), the standard library for what orjson refuses and the
    standard library takes (NaN, integers past 64 bits), so that both the values and the
    error messages stay the standard library's."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file; a byte-order mark is
    allowed. Every problem is a ``DatasetError`` naming ``path:line``."""
    if not path.is_file():
        raise DatasetError("dataset file not found", path=path)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    row = _parse(text)
                except (ValueError, RecursionError) as exc:
                    raise DatasetError(json_problem(exc), path=path, line=number) from None
                if not isinstance(row, dict):
                    raise DatasetError(
                        f"each line must be a JSON object, got {type(row).__name__}",
                        path=path,
                        line=number,
                    )
                yield number, row
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None


def _rows_csv(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    allow_long_csv_cells()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        try:
            if not reader.fieldnames:
                raise DatasetError("the CSV file has no header row", path=path, line=1)
            for row in reader:
                if None in row:
                    raise DatasetError(
                        f"more values than the {len(reader.fieldnames)} header columns",
                        path=path,
                        line=reader.line_num,
                    )
                yield reader.line_num, row
        except csv.Error as exc:
            raise DatasetError(csv_problem(exc), path=path, line=reader.line_num) from None


def _field(row: Mapping[str, Any], name: str, path: Path, line: int) -> str:
    if name in row and row[name] is None:
        raise DatasetError(
            f"field '{name}' has no value (null in JSON; in CSV, a row with fewer values than "
            'the header, often after an unclosed quote (")',
            path=path,
            line=line,
        )
    if name not in row:
        known = ", ".join(sorted(row)) or "none"
        raise DatasetError(f"missing field '{name}' (fields here: {known})", path=path, line=line)
    value = row[name]
    if isinstance(value, bool | dict | list):
        raise DatasetError(
            f"field '{name}' must be text or a number, got {type(value).__name__}",
            path=path,
            line=line,
        )
    return str(value)


def read_columns(path: Path) -> dict[str, list[Any]]:
    """A JSONL or CSV file as columns (name → one value per row; a key a JSONL row lacks is
    None there). CSV cells stay strings. Errors are ``DatasetError``s naming ``path:line``."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"cannot tell the format from the extension '{path.suffix}'; use .jsonl, .csv or "
            ".parquet",
            path=path,
        )
    if not path.is_file():
        raise DatasetError("file not found", path=path)
    if fmt == "parquet":  # columns already: no rows to build
        columns: dict[str, list[Any]] = _parquet_table(path).to_pydict()
        if not columns or not next(iter(columns.values())):
            raise DatasetError("the file has no rows", path=path)
        return columns
    rows: list[Mapping[str, Any]] = []
    names: dict[str, None] = {}  # in the order first seen
    uniform = True  # every row has every key
    try:
        for _line, row in read_jsonl(path) if fmt == "jsonl" else _rows_csv(path):
            rows.append(row)
            if len(row) != len(names) or not names.keys() >= row.keys():
                uniform = not names
                names.update(dict.fromkeys(row))
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    if not rows:
        raise DatasetError("the file has no rows", path=path)
    if uniform and len(names) > 1:
        # rows of the same keys (the usual case): picked and transposed in C, four times faster
        picked = zip(*map(operator.itemgetter(*names), rows), strict=True)
        return {name: list(values) for name, values in zip(names, picked, strict=True)}
    return {name: [row.get(name) for row in rows] for name in names}


def load_samples(spec: DatasetSpec) -> list[Sample]:
    """Load every row of the dataset the spec points at."""
    path = spec.path
    if not path.is_file():
        raise DatasetError("dataset file not found", path=path)
    fmt = spec.format
    if fmt == "auto":
        fmt = _FORMATS.get(path.suffix.lower(), "")  # type: ignore[assignment]
        if not fmt:
            raise DatasetError(
                f"cannot tell the format from the extension '{path.suffix}'; "
                "use .jsonl, .csv or .parquet, or set dataset.format",
                path=path,
            )
    readers = {"jsonl": read_jsonl, "csv": _rows_csv, "parquet": _rows_parquet}
    rows = readers[fmt](path)
    samples: list[Sample] = []
    seen_ids: dict[str, int] = {}
    try:
        for line, row in rows:
            sample_id = (
                _field(row, spec.id_field, path, line)
                if spec.id_field and row.get(spec.id_field) not in (None, "")
                else f"row-{line}"
            )
            if sample_id in seen_ids:
                raise DatasetError(
                    f"id '{sample_id}' already used on line {seen_ids[sample_id]}",
                    path=path,
                    line=line,
                )
            seen_ids[sample_id] = line
            text = _field(row, spec.input_field, path, line)
            label = _field(row, spec.label_field, path, line) if spec.label_field else None
            slices = {name: _field(row, name, path, line) for name in spec.slice_fields}
            samples.append(Sample(id=sample_id, input=text, label=label, slices=slices))
            if spec.limit is not None and len(samples) >= spec.limit:
                break
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    if not samples:
        raise DatasetError("the dataset has no rows", path=path)
    return samples
