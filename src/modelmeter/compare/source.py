"""Reading a ``report.json`` that ``modelmeter run`` or ``demo`` wrote, for a comparison.

A gate in CI often gets its baseline as a file (an artefact of the main branch's job) rather
than from a shared run store, so a report file must fail as clearly as a bad spec: the file, the
field path and what is wrong, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from modelmeter._exceptions import CompareError
from modelmeter.results import SCHEMA_VERSION, Report

__all__ = ["REPORT_FILE", "read_report"]

REPORT_FILE = "report.json"
_SHOWN_ERRORS = 5


def read_report(path: Path) -> Report:
    """The report in ``path``: a ``report.json`` file, or a report folder holding one."""
    file = path / REPORT_FILE if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompareError(
            "no such file; give a report.json written by 'modelmeter run' (or its folder), or "
            "a run id from 'modelmeter runs list'",
            path=file,
        ) from None
    except UnicodeDecodeError:
        raise CompareError("not a text file; expected a report.json", path=file) from None
    except OSError as exc:
        raise CompareError(f"cannot read it: {exc.strerror or exc}", path=file) from None
    try:
        report = Report.model_validate_json(text)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise CompareError(
                f"not valid JSON ({errors[0]['msg']}); expected a report.json written by "
                "'modelmeter run'",
                path=file,
            ) from None
        lines = [
            f"  {_location(error['loc']) or '(report)'}: {error['msg']}"
            for error in errors[:_SHOWN_ERRORS]
        ]
        if len(errors) > _SHOWN_ERRORS:
            lines.append(f"  ... and {len(errors) - _SHOWN_ERRORS} more")
        raise CompareError(
            "not a modelmeter report.json:\n" + "\n".join(lines), path=file
        ) from None
    if report.schema_version > SCHEMA_VERSION:
        raise CompareError(
            f"schema_version {report.schema_version} is newer than this modelmeter reads "
            f"({SCHEMA_VERSION}); upgrade modelmeter",
            path=file,
        )
    return report


def _location(loc: tuple[int | str, ...]) -> str:
    """('models', 0, 'sla', 'met') -> 'models[0].sla.met'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
