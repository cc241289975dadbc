"""`modelmeter anonymise IN OUT`: personal data and secrets in a JSONL or CSV file replaced,
and what was replaced counted by kind (never shown)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelmeter._exceptions import SpecError
from modelmeter.cli._console import friendly_errors, stdout

KEY_ENV = "MODELMETER_PSEUDONYM_KEY"


def register(app: typer.Typer) -> None:
    app.command("anonymise")(anonymise)


@friendly_errors
def anonymise(
    source: Annotated[Path, typer.Argument(metavar="IN", help="A .jsonl or .csv file.")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write it, same format.")],
    operator: Annotated[
        str,
        typer.Option(
            help="redact (<EMAIL>), mask (all but the last 4 characters) or pseudonym "
            f"(<EMAIL_7f3a9c01>, keyed by ${KEY_ENV}: the same value, the same pseudonym)."
        ),
    ] = "redact",
    fields: Annotated[
        str | None,
        typer.Option(help="Only these fields, comma-separated (default: every text value)."),
    ] = None,
) -> None:
    """Replace e-mails, phone numbers, cards, IBANs, IP addresses, secrets and national
    identifiers (validated by their checksums) in every row (docs/privacy.md)."""
    from modelmeter.data import read_columns
    from modelmeter.privacy import Anonymiser

    if operator not in ("redact", "mask", "pseudonym"):
        raise typer.BadParameter(
            f"{operator!r}: redact, mask or pseudonym", param_hint="--operator"
        )
    key = os.environ.get(KEY_ENV, "").encode() or None
    if operator == "pseudonym" and (key is None or len(key) < 16):
        raise SpecError(
            f"pseudonyms need a secret key of 16 bytes or more in ${KEY_ENV} (it is never "
            "stored; keep it to get the same pseudonyms in later runs)"
        )
    if target.resolve() == source.resolve():
        raise SpecError(f"{target}: give OUT another file than IN (IN is read, not changed)")
    if target.suffix.lower() != source.suffix.lower():
        raise SpecError(f"{target}: OUT is written in IN's format ({source.suffix})")
    columns = read_columns(source)  # names the file and line of a malformed row
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else list(columns)
    missing = [f for f in wanted if f not in columns]
    if missing:
        raise SpecError(f"{source}: no field(s) {', '.join(missing)} (--fields)")
    engine = Anonymiser(operator, key)  # type: ignore[arg-type]
    for name in wanted:
        columns[name] = [engine.value(v) for v in columns[name]]
    names = list(columns)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix.lower() == ".csv":
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)
    else:
        with target.open("w", encoding="utf-8") as out:
            for row in rows:
                kept = {k: v for k, v in row.items() if v is not None}
                out.write(json.dumps(kept, ensure_ascii=False) + "\n")
    table = Table(title=f"Replaced in {source.name} ({operator})")
    table.add_column("kind")
    table.add_column("values", justify="right")
    for kind, count in sorted(engine.counts.items()):
        table.add_row(kind, f"{count:,}")
    stdout.print(table)
    stdout.print(
        f"wrote {target}: {len(rows):,} rows, {sum(engine.counts.values()):,} values replaced"
    )
