"""Reading users' text files: where one stops being UTF-8, and CSV cells as long as documents.

Every loader of a user's file (datasets, MMLU and code tasks, A/B logs, traces, answer books,
price catalogues) reports a bad byte and a bad CSV record the same way: the line, the byte
offset and what to do about it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from modelmeter._exceptions import DatasetError

__all__ = [
    "CSV_CELL_LIMIT",
    "allow_long_csv_cells",
    "csv_problem",
    "first_invalid_utf8",
    "json_problem",
    "not_utf8",
    "not_utf8_message",
]

# One CSV cell may hold a long document; the csv module's default (128 KiB) refuses a 40-page
# contract. The cap still stops an unclosed quote from reading the rest of a huge file as one
# cell.
CSV_CELL_LIMIT = 64 * 1024 * 1024


def allow_long_csv_cells() -> None:
    """Let the csv module read cells of up to :data:`CSV_CELL_LIMIT` characters.

    The limit is the module's, shared by the process; it is only ever raised.
    """
    if csv.field_size_limit() < CSV_CELL_LIMIT:
        csv.field_size_limit(CSV_CELL_LIMIT)


def csv_problem(exc: csv.Error) -> str:
    """What a csv error means, in words a user can act on."""
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f'a cell is longer than {CSV_CELL_LIMIT // 2**20} MiB; an unclosed quote (") '
            "makes the rest of the file one cell"
        )
    if "NUL" in text:
        return "not valid CSV: the line holds a NUL byte (is it a binary file?)"
    return f"not valid CSV: {text}"


def first_invalid_utf8(path: Path) -> tuple[int, int, str] | None:
    """The first place ``path`` is not UTF-8: (line, byte offset in the file, what is wrong),
    or None when it all decodes (or cannot be read again).

    Read as bytes line by line: a newline byte never occurs inside a UTF-8 character, so each
    line decodes on its own.
    """
    offset = 0
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    byte = raw[exc.start : exc.start + 1].hex()
                    return number, offset + exc.start, f"byte 0x{byte}: {exc.reason}"
                offset += len(raw)
    except OSError:
        return None
    return None


def not_utf8_message(path: Path, exc: UnicodeDecodeError) -> tuple[str, int | None]:
    """The message for a file that is not UTF-8, and the line it fails on (if found)."""
    found = first_invalid_utf8(path)
    if found is None:
        return f"not UTF-8 text ({exc.reason}); save the file as UTF-8", None
    line, offset, what = found
    return f"not UTF-8 text at byte {offset:,} ({what}); save the file as UTF-8", line


def not_utf8(path: Path, exc: UnicodeDecodeError) -> DatasetError:
    """A :class:`DatasetError` naming the line and the byte offset where ``path`` stops being
    UTF-8 (the decoder's own position is only within the chunk it was reading)."""
    message, line = not_utf8_message(path, exc)
    return DatasetError(message, path=path, line=line)


def json_problem(exc: ValueError | RecursionError | ArithmeticError) -> str:
    """What ``json.loads`` refused, in words: a syntax error with its column, an integer of more
    than 4,300 digits (a ``ValueError``), nesting too deep to read (a ``RecursionError``), or,
    with ``parse_float=Decimal``, an exponent beyond what a Decimal holds (an
    ``ArithmeticError``)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} (column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "not usable JSON: nested too deeply"
    if isinstance(exc, ArithmeticError):
        return "not usable JSON: a number too large or too small to hold"
    # Python's advice after the ';' (sys.set_int_max_str_digits) is not the user's to take.
    return f"not usable JSON: {str(exc).split(';')[0]}"
