"""Child server processes (``serve``, ``simulate``): stopped the same way everywhere."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import subprocess
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit


def stop_child(
    process: subprocess.Popen[bytes], timeout_s: float, *, stderr: IO[bytes], workdir: Path
) -> None:
    """SIGTERM, wait up to ``timeout_s`` for a graceful exit, then kill; release its files."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    stderr.close()
    shutil.rmtree(workdir, ignore_errors=True)


def stderr_tail(stream: IO[bytes], limit: int = 4000) -> str:
    """The last ``limit`` bytes a child wrote to its stderr file, for an error message."""
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(size - limit, 0))
        return stream.read().decode(errors="replace").strip()
    return ""


def answers_ok(url: str, path: str) -> bool:
    """True when ``GET url+path`` answers 200 (http.client: no proxy settings apply to it)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=2.0)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
