"""A real Redis server for a test: Debian's redis-server on a Unix socket of its own (no port to
race for), nothing saved to disk, stopped at the end."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests._lines import wait_for_line
from tests._system import require


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen[str]


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    executable = require("redis-server", "redis-server")
    folder = Path(tempfile.mkdtemp(prefix="mm-redis-", dir="/tmp"))
    socket_path = folder / "redis.sock"
    process = subprocess.Popen(
        [
            executable,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        wait_for_line(process.stdout, r"(?i)ready to accept connections")
        yield RedisServer(f"unix://{socket_path}", process)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)
