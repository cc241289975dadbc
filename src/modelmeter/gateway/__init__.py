"""``modelmeter gateway``: one address in front of model backends, OpenAI-compatible and Open
Inference Protocol routes, answers streamed through chunk by chunk, balanced over each route's
backends, retried and failed over to a lighter model when a backend fails (see ``proxy``).

`load_gateway_config` reads the YAML file; `run_gateway` runs it in the foreground; `Gateway`
runs on an event loop you already have.
"""

from modelmeter.gateway.config import (
    BackendConfig,
    GatewayConfig,
    ListenConfig,
    RouteConfig,
    load_gateway_config,
)
from modelmeter.gateway.foreground import run_gateway
from modelmeter.gateway.server import Gateway

__all__ = [
    "BackendConfig",
    "Gateway",
    "GatewayConfig",
    "ListenConfig",
    "RouteConfig",
    "load_gateway_config",
    "run_gateway",
]
