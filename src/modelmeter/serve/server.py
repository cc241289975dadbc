"""Run the model server: in this process, as several worker processes, or as a child process.

With ``workers > 1`` each worker is a process of its own that loads every model and listens on
the same port through ``SO_REUSEPORT``, so the kernel spreads connections over the workers and no
process relays requests. The port is chosen (and held, bound but not listening) by the parent
before the workers start, so ``port=0`` works with several workers too. Workers are started with
the ``spawn`` method: a fresh interpreter per worker imports prometheus-client after the parent
set ``PROMETHEUS_MULTIPROC_DIR``, which is what makes ``/metrics`` sum over all workers (see
`modelmeter.serve.metrics`), and no onnxruntime or BLAS thread pool is inherited half-initialised.
Like every ``spawn`` user, a script that calls `run_server` with workers > 1 needs the
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from aiohttp import web

from modelmeter._exceptions import ModelError, ModelmeterError, ServerError
from modelmeter._loop import loop_factory
from modelmeter._process import ChildServer, answers_ok, start_child_server, stderr_tail
from modelmeter.artefacts import ServedModel, load_model
from modelmeter.serve.app import create_app
from modelmeter.serve.bad_requests import JsonErrorRunner, one_line_bad_requests

logger = logging.getLogger(__name__)
ACCESS_LOGGER = "modelmeter.serve.access"
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SHUTDOWN_TIMEOUT_S = 10.0
LISTEN_BACKLOG = 1024


@dataclass(frozen=True, slots=True)
class _Options:
    max_batch_size: int
    max_wait_ms: float
    access_log: bool
    bucket_ms: tuple[float, ...] = ()


def parse_model_args(items: Iterable[str]) -> dict[str, Path]:
    """Turn ``NAME=PATH`` strings into a name → path mapping; `ValueError` says what is wrong.

    Names are URL path segments: letters, digits, ``.``, ``_`` and ``-``, not starting with a
    punctuation mark. Whether the files exist is not checked here.
    """
    models: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not path:
            raise ValueError(f"{item!r} is not NAME=PATH (for example sentiment=model.joblib)")
        if not MODEL_NAME_PATTERN.fullmatch(name):
            raise ValueError(
                f"model name {name!r} in {item!r} may hold only letters, digits, '.', '_' and '-'"
            )
        if name in models:
            raise ValueError(f"model name {name!r} is given twice")
        models[name] = Path(path)
    if not models:
        raise ValueError("no model given; pass at least one NAME=PATH")
    return models


def run_server(
    models: Mapping[str, Path],
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    max_batch_size: int = 1,
    max_wait_ms: float = 2.0,
    *,
    access_log: bool = False,
    on_ready: Callable[[str], None] | None = None,
    bucket_ms: Sequence[float] = (),
) -> None:
    """Serve ``models`` (name → artefact path) until SIGINT or SIGTERM; blocks.

    ``port=0`` picks a free port. ``on_ready(url)`` is called once every worker listens.
    ``access_log`` logs each request to the ``modelmeter.serve.access`` logger (off by default:
    it costs CPU on every request). Raises `ModelError` when a model cannot be loaded and
    `ServerError` when the port cannot be bound or a worker dies.
    """
    if not models:
        raise ValueError("at least one model is needed")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if max_batch_size < 1:
        raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
    if max_wait_ms < 0:
        raise ValueError(f"max_wait_ms must be 0 or more, got {max_wait_ms}")
    for value in bucket_ms:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"bucket_ms: {value:g} is not a latency threshold in ms above 0")
    options = _Options(max_batch_size, max_wait_ms, access_log, tuple(bucket_ms))
    if workers == 1:
        _run_single(dict(models), host, port, options, on_ready)
    else:
        _run_workers(dict(models), host, port, workers, options, on_ready)


def _run_single(
    models: dict[str, Path],
    host: str,
    port: int,
    options: _Options,
    on_ready: Callable[[str], None] | None,
) -> None:
    served = _load_all(models)
    sock = _bind(host, port, reuse_port=False)
    url = server_url(host, sock.getsockname()[1])

    def listening() -> None:
        logger.info("serving %s at %s", ", ".join(served), url)
        if on_ready is not None:
            on_ready(url)

    in_main_thread = threading.current_thread() is threading.main_thread()
    stop_signals: tuple[signal.Signals, ...] = ()
    if in_main_thread:
        stop_signals = (signal.SIGINT, signal.SIGTERM)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_serve(served, sock, options, None, listening, stop_signals))


def _run_workers(
    models: dict[str, Path],
    host: str,
    port: int,
    workers: int,
    options: _Options,
    on_ready: Callable[[str], None] | None,
) -> None:
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ServerError(
            "workers > 1 needs SO_REUSEPORT, which this platform lacks; use workers=1"
        )
    placeholder = _bind(host, port, reuse_port=True)
    port = placeholder.getsockname()[1]
    metrics_dir = tempfile.mkdtemp(prefix="modelmeter-metrics-")
    url = server_url(host, port)
    context = multiprocessing.get_context("spawn")
    processes: list[Any] = []
    connections: list[multiprocessing.connection.Connection] = []
    stopping = False

    def stop_workers(signum: int = 0, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: each worker shuts down gracefully

    previous_handlers: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            previous_handlers[stop_signal] = signal.signal(stop_signal, stop_workers)
    saved_env = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    try:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            for index in range(workers):
                parent_end, child_end = context.Pipe()
                process = context.Process(
                    target=_worker_main,
                    args=(models, host, port, options, metrics_dir, child_end),
                    name=f"modelmeter-serve-{index}",
                )
                process.start()
                child_end.close()
                processes.append(process)
                connections.append(parent_end)
        finally:
            if saved_env is None:
                del os.environ["PROMETHEUS_MULTIPROC_DIR"]
            else:
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = saved_env

        failure = _await_workers_ready(processes, connections, lambda: stopping)
        placeholder.close()
        if stopping:  # asked to stop while starting: workers dying then is no failure
            return
        if failure is not None:
            raise failure
        logger.info("serving %s at %s with %d workers", ", ".join(models), url, workers)
        if on_ready is not None:
            on_ready(url)
        exited = multiprocessing.connection.wait([p.sentinel for p in processes])
        if not stopping:
            dead = [p for p in processes if p.sentinel in exited]
            for process in dead:
                process.join(1.0)  # the sentinel fires a moment before the exit code is known
            raise ServerError(
                "a server worker exited unexpectedly ("
                + ", ".join(f"pid {p.pid}: exit code {p.exitcode}" for p in dead)
                + "); stopping the others"
            )
    finally:
        stop_workers()
        _reap(processes)
        for connection in connections:
            connection.close()
        placeholder.close()
        for stop_signal, handler in previous_handlers.items():
            signal.signal(stop_signal, handler)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _await_workers_ready(
    processes: list[Any],
    connections: list[multiprocessing.connection.Connection],
    stopping: Callable[[], bool],
) -> ModelmeterError | None:
    """Wait until every worker says it listens; the first failure, or None."""
    waiting = dict(zip(connections, processes, strict=True))
    while waiting and not stopping():
        sentinels = {p.sentinel: p for p in waiting.values()}
        ready = multiprocessing.connection.wait([*waiting, *sentinels], timeout=0.5)
        for item in ready:
            if isinstance(item, int):
                process = sentinels[item]
                if process in waiting.values():
                    process.join(1.0)  # the sentinel fires a moment before the exit code is known
                    return ServerError(
                        f"server worker pid {process.pid} exited with code {process.exitcode} "
                        "before it was ready"
                    )
                continue
            assert isinstance(item, multiprocessing.connection.Connection)
            try:
                status, message = item.recv()
            except EOFError:
                return ServerError("a server worker exited before it was ready")
            if status == "model-error":
                return ModelError(message)
            if status != "ready":
                return ServerError(message)
            del waiting[item]
    return None


def _reap(processes: list[Any]) -> None:
    deadline = time.monotonic() + SHUTDOWN_TIMEOUT_S + 5.0
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0.1))
        if process.is_alive():
            process.kill()
            process.join()


def _worker_main(
    models: dict[str, Path],
    host: str,
    port: int,
    options: _Options,
    metrics_dir: str,
    connection: multiprocessing.connection.Connection,
) -> None:
    """Entry point of one worker process (spawned; it owns its process, logging included)."""
    # Ctrl-C reaches the whole process group; the parent turns it into SIGTERM for each worker,
    # so a worker ignores SIGINT rather than dying with a traceback mid-load.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if options.access_log:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access = logging.getLogger(ACCESS_LOGGER)
        access.addHandler(handler)
        access.setLevel(logging.INFO)
    try:
        served = _load_all(models)
        sock = _bind(host, port, reuse_port=True)
    except ModelError as exc:
        connection.send(("model-error", str(exc)))
        sys.exit(1)
    except ModelmeterError as exc:
        connection.send(("error", str(exc)))
        sys.exit(1)

    def listening() -> None:
        connection.send(("ready", ""))

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(
            _serve(
                served,
                sock,
                options,
                metrics_dir,
                listening,
                (signal.SIGTERM,),
                parent_fd=connection.fileno(),
            )
        )


async def _serve(
    served: dict[str, ServedModel],
    sock: socket.socket,
    options: _Options,
    metrics_dir: str | None,
    on_listening: Callable[[], None],
    stop_signals: tuple[signal.Signals, ...],
    *,
    parent_fd: int | None = None,
) -> None:
    app = create_app(
        served,
        max_batch_size=options.max_batch_size,
        max_wait_ms=options.max_wait_ms,
        multiprocess_dir=metrics_dir,
        bucket_ms=options.bucket_ms,
    )
    runner = JsonErrorRunner(
        app,
        access_log=logging.getLogger(ACCESS_LOGGER) if options.access_log else None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    one_line_bad_requests()
    await runner.setup()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    try:
        await web.SockSite(runner, sock, backlog=LISTEN_BACKLOG).start()
        for signum in stop_signals:
            try:
                loop.add_signal_handler(signum, stop.set)
            except NotImplementedError:  # Windows event loops: Ctrl-C raises KeyboardInterrupt
                stop_signals = ()
                break
        if parent_fd is not None:
            # The parent never writes: readable means it is gone, and so should we be.
            loop.add_reader(parent_fd, stop.set)
        on_listening()
        await stop.wait()
    finally:
        for signum in stop_signals:
            loop.remove_signal_handler(signum)
        if parent_fd is not None:
            loop.remove_reader(parent_fd)
        await runner.cleanup()  # stops listening, lets requests in flight finish


def _load_all(models: Mapping[str, Path]) -> dict[str, ServedModel]:
    return {name: load_model(Path(path), name=name) for name, path in models.items()}


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise ServerError(f"cannot resolve host {host!r}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


def server_url(host: str, port: int) -> str:
    """The URL a client on this machine uses to reach a server bound to ``host``."""
    connect = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in connect:
        connect = f"[{connect}]"
    return f"http://{connect}:{port}"


class ServerProcess(ChildServer):
    """A model server running as a child process; stop it with `stop` or a ``with`` block."""

    stop_timeout_s = SHUTDOWN_TIMEOUT_S + 5.0


def start_server_process(
    models: Mapping[str, Path],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    workers: int = 1,
    max_batch_size: int = 1,
    max_wait_ms: float = 2.0,
    ready_timeout_s: float = 60.0,
    bucket_ms: Sequence[float] = (),
) -> ServerProcess:
    """Start ``python -m modelmeter.serve`` and return once ``/v2/health/ready`` answers 200.

    ``port=None`` lets the server pick a free port (no race: the server binds it and reports it).
    Raises `ServerError`, with the end of the server's stderr, if it exits or is not ready within
    ``ready_timeout_s``.
    """
    workdir = Path(tempfile.mkdtemp(prefix="modelmeter-serve-"))
    ready_file = workdir / "ready.json"
    command = [
        sys.executable,
        "-m",
        "modelmeter.serve",
        *(f"{name}={path}" for name, path in models.items()),
        f"--host={host}",
        f"--port={port if port is not None else 0}",
        f"--workers={workers}",
        f"--max-batch-size={max_batch_size}",
        f"--max-wait-ms={max_wait_ms}",
        f"--ready-file={ready_file}",
        *(f"--bucket-ms={ms:g}" for ms in bucket_ms),
    ]
    process, stderr, parent_end = start_child_server(command, workdir)
    server = ServerProcess(process, workdir, stderr, parent_end=parent_end)
    try:
        server.url, server.port = _await_ready(process, ready_file, ready_timeout_s)
    except ServerError as exc:
        tail = stderr_tail(stderr)
        server.stop()
        raise ServerError(f"{exc}; its stderr ends with:\n{tail}" if tail else str(exc)) from None
    except BaseException:
        server.stop()
        raise
    return server


def _await_ready(
    process: subprocess.Popen[bytes], ready_file: Path, timeout_s: float
) -> tuple[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        code = process.poll()
        if code is not None:
            raise ServerError(f"the model server exited with code {code} before it was ready")
        if ready_file.exists():
            announced = json.loads(ready_file.read_text())
            url, port = str(announced["url"]), int(announced["port"])
            if answers_ok(url, "/v2/health/ready"):
                return url, port
        if time.monotonic() > deadline:
            raise ServerError(f"the model server was not ready within {timeout_s} s")
        time.sleep(0.02)


def write_ready_file(path: Path, url: str) -> None:
    """Announce ``url`` in ``path`` atomically (the contract between `start_server_process` and
    ``python -m modelmeter.serve --ready-file``)."""
    port = int(url.rsplit(":", 1)[1])
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"url": url, "port": port}))
    os.replace(partial, path)
