"""Child server processes (``serve``, ``simulate``): stopped the same way everywhere."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO, Self
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


class ChildServer:
    """A server running as a child process; stop it with `stop` or a ``with`` block."""

    stop_timeout_s = 10.0

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        workdir: Path,
        stderr: IO[bytes],
        url: str = "",
        port: int = 0,
    ) -> None:
        self.process = process
        self.url = url
        self.port = port
        self._workdir = workdir
        self._stderr = stderr

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, limit: int = 4000) -> str:
        """The last ``limit`` bytes the server wrote to its stderr (its log)."""
        return stderr_tail(self._stderr, limit)

    def stop(self, timeout_s: float | None = None) -> None:
        """Ask it to stop (SIGTERM); kill it if it takes longer than ``timeout_s``."""
        timeout = self.stop_timeout_s if timeout_s is None else timeout_s
        stop_child(self.process, timeout, stderr=self._stderr, workdir=self._workdir)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


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
