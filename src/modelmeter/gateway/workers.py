"""Several gateway processes on one port: ``modelmeter gateway CONFIG --workers N``.

One Python process answers on one core; N forked workers answer on N. Each binds the port with
``SO_REUSEPORT``, so the kernel spreads new connections over them evenly (a shared listening
socket lets whichever worker wakes first take most of them). What must be exact across them
is shared: the `Ledger` (budgets, rates, concurrency) lives in a shared mapping made before
the fork, and the Prometheus metrics are prometheus-client's multiprocess files, summed over
the workers at every scrape. What each worker keeps to itself: its upstream connections, its
view of which backends are ejected, its cache.

The parent only supervises: it forwards SIGHUP (each worker reloads the file) and SIGINT /
SIGTERM (each worker finishes and stops), and starts a worker again if one dies; if workers
keep dying within a second of starting it stops them all and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from modelmeter._exceptions import ServerError
from modelmeter._loop import loop_factory
from modelmeter.gateway.config import GatewayConfig
from modelmeter.gateway.ledger import Ledger

__all__ = ["MULTIPROCESS_ENV", "run_workers"]

logger = logging.getLogger(__name__)
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_START_TIMEOUT_S = 60.0
_QUICK_DEATH_S = 1.0  # a worker that dies sooner than this after starting is not restarted twice


def run_workers(
    config: GatewayConfig,
    count: int,
    on_ready: Callable[[str], None] | None,
    *,
    config_path: Path | None,
    db: str | None,
) -> None:
    """Run ``count`` workers in the foreground until SIGINT or SIGTERM."""
    if not hasattr(os, "fork") or not hasattr(socket, "SO_REUSEPORT"):
        raise ServerError("--workers needs fork and SO_REUSEPORT (Linux, macOS, BSD)")
    metrics_dir = tempfile.mkdtemp(prefix="modelmeter-gateway-metrics-")
    _use_multiprocess_metrics(metrics_dir)
    ledger = Ledger(shared=True)
    holder, port = _reserve_port(config.listen.host, config.listen.port)
    config = config.model_copy(update={"listen": config.listen.model_copy(update={"port": port})})
    supervisor = _Supervisor(config, ledger, config_path, db)
    try:
        for index in range(count):
            supervisor.start(index)
        supervisor.wait_ready(count)
        holder.close()  # the workers hold the port now
        if on_ready is not None:
            host = config.listen.host
            on_ready(f"http://{f'[{host}]' if ':' in host else host}:{port}")
        supervisor.supervise()
    finally:
        holder.close()
        supervisor.stop_all()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.environ.pop(MULTIPROCESS_ENV, None)


def _use_multiprocess_metrics(folder: str) -> None:
    """Make every metric built from now on (in the workers) write to ``folder``, which the
    scrape reads back summed over the workers."""
    os.environ[MULTIPROCESS_ENV] = folder
    from prometheus_client import values

    # prometheus-client picks its value class from the environment when it is first imported;
    # the CLI may have imported it before --workers was known.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def _reserve_port(host: str, port: int) -> tuple[socket.socket, int]:
    """Bind (not listen) ``host:port`` with SO_REUSEPORT: a port 0 becomes a real one that
    the workers then bind too, and no other program takes it meanwhile."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((host, port))
    except OSError as exc:
        holder.close()
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return holder, holder.getsockname()[1]


class _Supervisor:
    def __init__(
        self, config: GatewayConfig, ledger: Ledger, config_path: Path | None, db: str | None
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.config_path = config_path
        self.db = db
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (worker number, started)
        self.stopping = False
        self.ready_read, self.ready_write = os.pipe()

    def start(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:
            os.close(self.ready_read)
            _worker(index, self.config, self.ledger, self.config_path, self.db, self.ready_write)
        self.children[pid] = (index, time.monotonic())

    def wait_ready(self, count: int) -> None:
        """Wait for each worker's line: 'ok' once it listens, or what stopped it."""
        os.close(self.ready_write)
        self.ready_write = -1
        deadline = time.monotonic() + _START_TIMEOUT_S
        buffer = b""
        ready = 0
        while ready < count:
            if time.monotonic() > deadline:
                raise ServerError(
                    f"the gateway's workers did not start in {_START_TIMEOUT_S:.0f} s"
                )
            chunk = os.read(self.ready_read, 4096)
            if not chunk:
                raise ServerError("the gateway's workers stopped while starting")
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line == b"ok":
                    ready += 1
                else:
                    raise ServerError(line.decode("utf-8", "replace"))

    def supervise(self) -> None:
        def forward(signum: int, _frame: FrameType | None) -> None:
            if signum in (signal.SIGINT, signal.SIGTERM):
                self.stopping = True
                signum = signal.SIGTERM
            for pid in list(self.children):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, forward)
        quick_deaths = 0
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index, started = self.children.pop(pid, (-1, 0.0))
            if self.stopping or index < 0:
                continue
            code = os.waitstatus_to_exitcode(status)
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < _QUICK_DEATH_S else 0
            if quick_deaths >= 2:
                logger.error("gateway worker %d keeps dying (exit %d); stopping", index, code)
                self.stopping = True
                forward(signal.SIGTERM, None)
                continue
            logger.error("gateway worker %d stopped (exit %d); starting another", index, code)
            self.start(index)

    def stop_all(self) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while self.children and time.monotonic() < deadline:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
                continue
            self.children.pop(pid, None)
        for pid in list(self.children):  # still there after 30 s: no longer waited for
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.close(self.ready_read)


def _worker(
    index: int,
    config: GatewayConfig,
    ledger: Ledger,
    config_path: Path | None,
    db: str | None,
    ready: int,
) -> None:
    """A forked worker: serve until SIGTERM, then leave without running the parent's exit
    code (its finally blocks belong to the parent)."""
    from modelmeter.gateway.server import serve

    code = 0
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)

    def tell_ready(_url: str) -> None:
        with contextlib.suppress(OSError):  # a worker started again later: no one listens
            os.write(ready, b"ok\n")

    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(
                serve(
                    config,
                    tell_ready,
                    (signal.SIGINT, signal.SIGTERM),
                    config_path,
                    db,
                    ledger=ledger,
                    worker=index,
                )
            )
    except Exception as exc:  # said once through the pipe (while starting) or the log
        message = " ".join(f"worker {index}: {exc}".split())
        with contextlib.suppress(OSError):
            os.write(ready, message.encode() + b"\n")
        logger.error("%s", message)
        code = 1
    finally:
        with contextlib.suppress(OSError):
            os.close(ready)
        logging.shutdown()
        os._exit(code)
