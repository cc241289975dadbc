"""Child server processes (``serve``, ``simulate``): started, watched and stopped the same way.

A child server must not outlive modelmeter, even when modelmeter is killed with SIGKILL and
runs no cleanup: each child gets the read end of a pipe whose write end only the parent holds.
When the parent dies, the kernel closes that end, the child reads end-of-file and stops itself
(SIGTERM, its normal graceful stop), removing the folder the parent made for it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import urlsplit


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (someone else's included); names of leftovers (spill
    folders, sandbox groups) carry the pid of the process that made them."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


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
        parent_end: int | None = None,
    ) -> None:
        self.process = process
        self.url = url
        self.port = port
        self._workdir = workdir
        self._stderr = stderr
        self._parent_end = parent_end

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
        if self._parent_end is not None:
            os.close(self._parent_end)
            self._parent_end = None

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


def start_child_server(
    command: list[str], workdir: Path
) -> tuple[subprocess.Popen[bytes], IO[bytes], int]:
    """Run ``command`` (a ``python -m modelmeter.<server>`` line) as a child server that stops
    when this process dies; its stderr goes to ``workdir/stderr.log``.

    Returns the process, its stderr file and the pipe end this process keeps (close it, as
    `ChildServer.stop` does, once the child is stopped). The child is given
    ``--parent-fd=N``, which its entry point hands to :func:`stop_when_parent_dies`.
    """
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    read_end, write_end = os.pipe()  # neither end is inherited by other children
    stderr = (workdir / "stderr.log").open("w+b")
    try:
        process = subprocess.Popen(
            [*command, f"--parent-fd={read_end}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            pass_fds=(read_end,),
        )
    except BaseException:
        os.close(write_end)
        stderr.close()
        raise
    finally:
        os.close(read_end)
    return process, stderr, write_end


def stop_when_parent_dies(fd: int, workdir: Path | None = None) -> None:
    """In a child server: once ``fd`` (the pipe from :func:`start_child_server`) reads
    end-of-file, the parent is gone; remove ``workdir`` (the parent's folder for this child,
    which it can no longer remove) and stop this process with SIGTERM, as a parent would."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(fd, 1):  # the parent never writes
                pass
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="modelmeter-parent-watch", daemon=True).start()
