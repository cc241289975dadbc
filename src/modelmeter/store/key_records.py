"""The gateway's API key records and how a key is hashed: plain data, no database, so the
gateway's request path can check keys without loading the store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

__all__ = ["KEY_PREFIX", "PICO", "ApiKey", "KeyLimits", "Priority", "hash_key"]

KEY_PREFIX = "mm-"
PICO = 10**12
Priority = Literal["high", "normal", "low"]


def hash_key(secret: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class KeyLimits:
    """What one key may do; None: no limit of that kind."""

    priority: Priority = "normal"
    admin: bool = False
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    max_concurrent: int | None = None
    budget: Decimal | None = None  # per budget period, in the gateway's currency


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    key_sha256: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    limits: KeyLimits
