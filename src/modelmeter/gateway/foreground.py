"""`run_gateway`: the gateway in the foreground, in this process or in several workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from modelmeter._loop import loop_factory, stop_signals
from modelmeter.gateway.config import GatewayConfig
from modelmeter.gateway.server import serve

__all__ = ["run_gateway"]


def run_gateway(
    config: GatewayConfig,
    on_ready: Callable[[str], None] | None = None,
    *,
    config_path: Path | None = None,
    db: str | None = None,
    workers: int = 1,
) -> None:
    """Run the gateway in the foreground until SIGINT or SIGTERM (uvloop when installed); on
    SIGHUP it reads ``config_path`` again and routes by it (see `Gateway.reload`), or keeps
    its configuration and logs one line when the file has a mistake. ``workers`` > 1 runs
    that many processes on one port (see `gateway.workers`)."""
    if workers > 1:
        from modelmeter.gateway.workers import run_workers

        run_workers(config, workers, on_ready, config_path=config_path, db=db)
        return
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(serve(config, on_ready, stop_signals(), config_path, db))
