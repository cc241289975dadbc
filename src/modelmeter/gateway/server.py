"""The gateway on an event loop: listening, checking ejected backends, stopping cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from modelmeter._exceptions import ModelmeterError, ServerError
from modelmeter._loop import wait_for_stop
from modelmeter.client import PreparedRequest
from modelmeter.gateway.access import Access, period_of
from modelmeter.gateway.balance import Backend
from modelmeter.gateway.config import GatewayConfig
from modelmeter.gateway.experiments import ExperimentLog
from modelmeter.gateway.ledger import Ledger
from modelmeter.gateway.proxy import Proxy
from modelmeter.gateway.traffic import TrafficLog
from modelmeter.httpserver import Connection

if TYPE_CHECKING:
    from modelmeter.store import KeyStore

__all__ = ["Gateway", "serve"]

logger = logging.getLogger(__name__)
LISTEN_BACKLOG = 4096
_HEALTH_TIMEOUT_S = 2.0
_SPEND_WRITE_S = 1.0  # how often spend is written to the store (lost of it at a crash: this)


class Gateway:
    """``await start()`` listens and returns the URL; ``await stop()`` closes everything."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        db: str | None = None,
        base: Path | None = None,
        ledger: Ledger | None = None,
        worker: int | None = None,
    ) -> None:
        """``db``: the store for keys and spend when the file names none; ``base``: the
        folder relative paths in the file are read from; ``ledger``: one shared with other
        worker processes, and ``worker`` this one's number (worker 0 writes the spend; all
        listen on one port with SO_REUSEPORT)."""
        self.config = config
        self.db = db
        self.base = base
        self.ledger = ledger or Ledger()
        self.worker = worker
        self._keystore: KeyStore | None = None
        self._saved: dict[tuple[str, str], int] = {}
        self._spend_task: asyncio.Task[None] | None = None
        self.backends: dict[str, Backend] = {}
        self.proxy: Proxy | None = None
        self.url = ""
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[Connection] = set()
        self._health: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        config = self.config
        access = self._access(config)
        self.backends = {b.name: Backend.open(b, config.timeout_s) for b in config.backends}
        self.proxy = proxy = Proxy(config, self.backends, access)
        proxy.experiments = self._experiments(config)
        proxy.traffic = self._traffic(config)
        if self.worker is not None:
            proxy.health = b'{"status":"ok","worker":%d}' % self.worker
        loop = asyncio.get_running_loop()
        host, port = config.listen.host, config.listen.port
        try:
            self._server = await loop.create_server(
                lambda: Connection(
                    proxy, self._connections, int(self.config.max_body_mb * 1024 * 1024)
                ),
                host,
                port,
                backlog=LISTEN_BACKLOG,
                reuse_address=True,
                reuse_port=self.worker is not None or None,
            )
        except OSError as exc:
            raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        bound = self._server.sockets[0].getsockname()
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound[1]}"
        self._health = loop.create_task(self._check_ejected())
        self._write_soon()
        return self.url

    def _write_soon(self) -> None:
        """Start writing spend and experiment logs to the store once a second, if there are
        any to write."""
        proxy = self.proxy
        wanted = (self._keystore is not None and self._writes_spend) or (
            proxy is not None and (proxy.experiments is not None or proxy.traffic is not None)
        )
        if wanted and self._spend_task is None:
            self._spend_task = asyncio.get_running_loop().create_task(self._write_often())

    def _experiments(self, config: GatewayConfig) -> ExperimentLog | None:
        if not any(route.split or route.shadow for route in config.routes):
            return None
        from modelmeter.store import RunStore

        current = self.proxy.experiments if self.proxy is not None else None
        return current or ExperimentLog(RunStore(self.db))

    def _traffic(self, config: GatewayConfig) -> TrafficLog | None:
        if config.log is None:
            return None
        from modelmeter.store import RunStore

        current = self.proxy.traffic if self.proxy is not None else None
        if current is not None and current.settings == config.log:
            return current
        return TrafficLog(current.store if current is not None else RunStore(self.db), config.log)

    @property
    def _writes_spend(self) -> bool:
        return self.worker is None or self.worker == 0

    def _access(self, config: GatewayConfig) -> Access | None:
        """Keys, prices and budgets for ``config``; spend of this period read back from the
        store the first time. Raises `SpecError` / `StoreError` naming what is wrong."""
        if config.keys is None and not any(route.pricing for route in config.routes):
            return None
        from modelmeter.gateway.setup import open_access  # the store and the catalogues

        opened = open_access(config, self.ledger, db=self.db, base=self.base)
        if opened is None:
            return None
        access, keystore = opened
        if self._keystore is None:
            self._keystore = keystore
            period, name = period_of(access.period_kind)
            for entity, amount in keystore.spend(name).items():
                self.ledger.restore(self.ledger.slot(entity), period, amount)
                self._saved[(name, entity)] = amount
        return access

    def write_spend(self) -> None:
        """Write what changed in each key's and route's spend since the last write."""
        access = self.proxy.access if self.proxy is not None else None
        if self._keystore is None or access is None or not self._writes_spend:
            return
        period, name = period_of(access.period_kind)
        changed = {}
        for entity, slot in self.ledger.entities().items():
            amount = self.ledger.spent(slot, period)
            if self._saved.get((name, entity)) != amount:
                changed[entity] = amount
        if changed:
            self._keystore.save_spend(name, changed)
            for entity, amount in changed.items():
                self._saved[(name, entity)] = amount

    def write_logs(self) -> None:
        """Write spend, then the experiments' outcomes and the traffic log, to the store."""
        self.write_spend()
        experiments = self.proxy.experiments if self.proxy is not None else None
        if experiments is not None:
            experiments.flush()
        traffic = self.proxy.traffic if self.proxy is not None else None
        if traffic is not None:
            traffic.flush()

    async def _write_often(self) -> None:
        while True:
            await asyncio.sleep(_SPEND_WRITE_S)
            try:
                await asyncio.to_thread(self.write_logs)
            except Exception as exc:  # the store is down: keep serving, keep the figures
                logger.error("cannot write to the store: %s", exc)

    def reload(self, config: GatewayConfig) -> list[str]:
        """Route by ``config`` from now on, without closing a connection: clients keep theirs,
        requests under way finish on the backends they started on, backends whose settings
        did not change keep their connections and history. Returns what could not change."""
        kept: list[str] = []
        access = self._access(config)  # first: a mistake here leaves everything as it was
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
        experiments = self._experiments(config)
        traffic = self._traffic(config)
        self.config = config
        self.backends = fresh
        assert self.proxy is not None
        self.proxy.use(config, fresh, access)
        self.proxy.experiments = experiments
        earlier, self.proxy.traffic = self.proxy.traffic, traffic
        if earlier is not None and earlier is not traffic:
            try:
                earlier.flush()  # what the old settings logged is kept
            except Exception as exc:  # the store is down: the reload goes on regardless
                logger.error("cannot write the traffic log to the store: %s", exc)
        self._write_soon()
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
        for task in (self._health, self._spend_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
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
        try:
            self.write_logs()
        except Exception as exc:
            logger.error("cannot write to the store: %s", exc)

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


def _reload(gateway: Gateway, path: Path) -> None:
    from modelmeter.gateway.config import load_gateway_config

    try:
        config = load_gateway_config(path)
        unchanged = gateway.reload(config)
    except ModelmeterError as exc:
        logger.error("SIGHUP: %s not reloaded, the gateway goes on as it was: %s", path, exc)
        return
    for setting in unchanged:
        logger.warning("SIGHUP: reloaded %s, except %s", path, setting)
    logger.warning("SIGHUP: reloaded %s", path)


async def serve(
    config: GatewayConfig,
    on_ready: Callable[[str], None] | None,
    signals: tuple[signal.Signals, ...],
    config_path: Path | None,
    db: str | None,
    *,
    ledger: Ledger | None = None,
    worker: int | None = None,
) -> None:
    """Serve until one of ``signals``; SIGHUP reloads ``config_path``."""
    base = config_path.parent if config_path is not None else None
    gateway = Gateway(config, db=db, base=base, ledger=ledger, worker=worker)
    url = await gateway.start()
    others = {}
    if config_path is not None and hasattr(signal, "SIGHUP"):
        others[signal.SIGHUP] = functools.partial(_reload, gateway, config_path)
    try:
        await wait_for_stop(signals, (lambda: on_ready(url)) if on_ready else None, others)
    finally:
        await gateway.stop()
