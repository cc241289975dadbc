"""The gateway on an event loop: listening, checking ejected backends, stopping cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from modelmeter._exceptions import ServerError, SpecError
from modelmeter._loop import loop_factory, stop_signals, wait_for_stop
from modelmeter.client import PreparedRequest
from modelmeter.gateway.balance import Backend
from modelmeter.gateway.config import GatewayConfig
from modelmeter.gateway.proxy import Proxy
from modelmeter.httpserver import Connection

__all__ = ["Gateway", "run_gateway"]

logger = logging.getLogger(__name__)
LISTEN_BACKLOG = 4096
_HEALTH_TIMEOUT_S = 2.0


class Gateway:
    """``await start()`` listens and returns the URL; ``await stop()`` closes everything."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.backends: dict[str, Backend] = {}
        self.proxy: Proxy | None = None
        self.url = ""
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[Connection] = set()
        self._health: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        config = self.config
        self.backends = {b.name: Backend.open(b, config.timeout_s) for b in config.backends}
        self.proxy = proxy = Proxy(config, self.backends)
        loop = asyncio.get_running_loop()
        host, port = config.listen.host, config.listen.port
        try:
            self._server = await loop.create_server(
                lambda: Connection(proxy, self._connections),
                host,
                port,
                backlog=LISTEN_BACKLOG,
                reuse_address=True,
            )
        except OSError as exc:
            raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        bound = self._server.sockets[0].getsockname()
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound[1]}"
        self._health = loop.create_task(self._check_ejected())
        return self.url

    def reload(self, config: GatewayConfig) -> list[str]:
        """Route by ``config`` from now on, without closing a connection: clients keep theirs,
        requests under way finish on the backends they started on, backends whose settings
        did not change keep their connections and history. Returns what could not change."""
        kept: list[str] = []
        if config.listen != self.config.listen:
            kept.append("listen (restart to change where the gateway listens)")
            config = config.model_copy(update={"listen": self.config.listen})
        old = self.backends
        backends = {
            b.name: old[b.name] if b.name in old and old[b.name].config == b else None
            for b in config.backends
        }
        fresh = {
            name: backend or Backend.open(config.backends[i], config.timeout_s)
            for i, (name, backend) in enumerate(backends.items())
        }
        retired = [b for name, b in old.items() if fresh.get(name) is not b]
        self.config = config
        self.backends = fresh
        assert self.proxy is not None
        self.proxy.use(config, fresh)
        if retired:
            task = asyncio.get_running_loop().create_task(self._retire(retired))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        return kept

    async def _retire(self, backends: list[Backend]) -> None:
        """Close backends that left the configuration once their requests are done."""
        deadline = asyncio.get_running_loop().time() + self.config.timeout_s
        while any(b.outstanding for b in backends):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        for backend in backends:
            await backend.client.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        for task in list(self._retiring):
            task.cancel()
        if self.proxy is not None:
            await self.proxy.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.abort()
        for backend in self.backends.values():
            await backend.client.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _check_ejected(self) -> None:
        """Bring an ejected backend back as soon as its health path answers 200."""
        while True:
            await asyncio.sleep(self.config.health_interval_s)
            out = [b for b in self.backends.values() if b.ejected_until]
            if out:
                await asyncio.gather(*(self._check(b) for b in out))

    async def _check(self, backend: Backend) -> None:
        request = PreparedRequest.build("GET", backend.client.endpoint, backend.config.health_path)
        try:
            async with asyncio.timeout(_HEALTH_TIMEOUT_S):
                response = await backend.client.request(request)
        except (TimeoutError, OSError, ServerError) as exc:
            logger.debug("health check of %s failed: %s", backend.name, exc)
            return
        except Exception as exc:  # a failed check is only a failed check
            logger.debug("health check of %s failed: %s", backend.name, exc)
            return
        if response.status == 200:
            backend.back_in_service()


def run_gateway(
    config: GatewayConfig,
    on_ready: Callable[[str], None] | None = None,
    *,
    config_path: Path | None = None,
) -> None:
    """Run the gateway in the foreground until SIGINT or SIGTERM (uvloop when installed); on
    SIGHUP it reads ``config_path`` again and routes by it (see `Gateway.reload`), or keeps
    its configuration and logs one line when the file has a mistake."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_serve(config, on_ready, stop_signals(), config_path))


def _reload(gateway: Gateway, path: Path) -> None:
    from modelmeter.gateway.config import load_gateway_config

    try:
        config = load_gateway_config(path)
    except SpecError as exc:
        logger.error("SIGHUP: %s not reloaded, the gateway goes on as it was: %s", path, exc)
        return
    for unchanged in gateway.reload(config):
        logger.warning("SIGHUP: reloaded %s, except %s", path, unchanged)
    logger.warning("SIGHUP: reloaded %s", path)


async def _serve(
    config: GatewayConfig,
    on_ready: Callable[[str], None] | None,
    signals: tuple[signal.Signals, ...],
    config_path: Path | None,
) -> None:
    gateway = Gateway(config)
    url = await gateway.start()
    others = {}
    if config_path is not None and hasattr(signal, "SIGHUP"):
        others[signal.SIGHUP] = functools.partial(_reload, gateway, config_path)
    try:
        await wait_for_stop(signals, (lambda: on_ready(url)) if on_ready else None, others)
    finally:
        await gateway.stop()
