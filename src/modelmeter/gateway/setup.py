"""What the gateway reads besides its file: the keys from the run store, the prices from a
catalogue. Kept apart from `access` so that the request path imports no store or catalogue."""

from __future__ import annotations

from pathlib import Path

from modelmeter.economics.catalogue import builtin_catalogue, load_catalogue
from modelmeter.economics.pricing import resolve_target_pricing
from modelmeter.gateway.access import Access
from modelmeter.gateway.config import GatewayConfig
from modelmeter.gateway.ledger import Ledger
from modelmeter.spec.pricing import ApiPricing
from modelmeter.store import KeyStore, RunStore

__all__ = ["open_access"]


def open_access(
    config: GatewayConfig, ledger: Ledger, *, db: str | None, base: Path | None
) -> tuple[Access, KeyStore] | None:
    """Keys, limits and prices of ``config`` (None when it has neither keys nor prices), and
    the store that keeps the keys and the spend. Raises `CatalogueError` (a `SpecError`) or
    `StoreError` naming what is missing."""
    priced = [route for route in config.routes if route.pricing is not None]
    if config.keys is None and not priced:
        return None
    catalogue = None
    if config.catalogue == "builtin":
        catalogue = builtin_catalogue()
    elif config.catalogue is not None:
        path = config.catalogue
        if base is not None and not path.is_absolute():
            path = base / path
        catalogue = load_catalogue(path)
    prices: dict[str, ApiPricing] = {}
    for route in priced:
        resolved = resolve_target_pricing(route.pricing, catalogue)
        assert isinstance(resolved, ApiPricing)  # the config takes api and catalogue prices only
        prices[route.model] = resolved
    where = db
    if config.keys is not None and config.keys.db:
        where = config.keys.db
        if "://" not in where and base is not None:
            where = str(base / Path(where).expanduser())  # relative to the file
    keystore = RunStore(where).keys()
    keys = keystore.list(active_only=True) if config.keys is not None else []
    return Access(config, keys, ledger, prices), keystore
