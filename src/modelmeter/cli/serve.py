"""`modelmeter serve`: placeholder until the serve command lands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    del app
