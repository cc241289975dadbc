"""Child server processes (``serve``, ``simulate``): stopped the same way everywhere."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import IO


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
