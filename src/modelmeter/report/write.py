"""Write the three renderings of a Report to a folder, each file replaced atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from modelmeter.report.html import render_html
from modelmeter.report.json import render_json
from modelmeter.report.markdown import render_markdown
from modelmeter.results import Report

FILE_NAMES = {"html": "report.html", "md": "report.md", "json": "report.json"}


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never a half-written one; a failure leaves no
    temporary file behind.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file readable by its owner only; a report is meant to be shared.
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_report(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and ``report.json`` into ``out_dir``.

    The folder is created when missing. All three are rendered before any is written, so a
    rendering error leaves the folder as it was. Returns the paths keyed ``html``, ``md``, ``json``.
    """
    texts = {
        "html": render_html(report),
        "md": render_markdown(report),
        "json": render_json(report) + "\n",
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, text in texts.items():
        path = out_dir / FILE_NAMES[kind]
        _write_atomic(path, text)
        paths[kind] = path
    return paths
