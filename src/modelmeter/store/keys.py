"""The gateway's API keys and what each key and route has spent, kept in the run store.

A key is shown once, when it is made, and only its SHA-256 is stored: a key carries 256 random
bits, so its hash cannot be reversed by guessing (a slow password hash would add nothing but
time to every request). Spend is kept per budget period in exact integer picounits (10⁻¹² of
the currency), written by the gateway about once a second.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from modelmeter._exceptions import StoreError
from modelmeter.store.key_records import KEY_PREFIX, PICO, ApiKey, KeyLimits, hash_key
from modelmeter.store.schema import gateway_keys, gateway_spend

__all__ = [
    "KEY_PREFIX",
    "ApiKey",
    "KeyLimits",
    "KeyStore",
    "hash_key",
]


class KeyStore:
    """Keys and spend in the tables of a run store's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, name: str, limits: KeyLimits) -> tuple[ApiKey, str]:
        """A new key named ``name``: its record and the secret, which is never stored."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = {
            "name": name,
            "key_sha256": hash_key(secret),
            "prefix": secret[:10],
            "created_at": datetime.now(UTC),
            "priority": limits.priority,
            "admin": int(limits.admin),
            "requests_per_minute": limits.requests_per_minute,
            "tokens_per_minute": limits.tokens_per_minute,
            "max_concurrent": limits.max_concurrent,
            "budget": None if limits.budget is None else str(limits.budget),
        }
        try:
            with self._engine.begin() as connection:
                new_id = connection.execute(insert(gateway_keys).values(**row)).inserted_primary_key
        except IntegrityError:
            raise StoreError(f"a key named {name!r} exists already; pick another name") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store the key: {exc}") from None
        assert new_id is not None
        return self._key({**row, "id": new_id[0], "revoked_at": None}), secret

    def revoke(self, name: str) -> ApiKey:
        """Refuse ``name``'s key from the next reload of a gateway on."""
        with self._engine.begin() as connection:
            done = connection.execute(
                update(gateway_keys)
                .where(gateway_keys.c.name == name, gateway_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        if done.rowcount == 0:
            known = ", ".join(key.name for key in self.list(active_only=True)) or "none"
            raise StoreError(f"no active key named {name!r}; active keys: {known}")
        found = [key for key in self.list() if key.name == name]
        return found[0]

    def list(self, *, active_only: bool = False) -> list[ApiKey]:
        query = select(gateway_keys).order_by(gateway_keys.c.id)
        if active_only:
            query = query.where(gateway_keys.c.revoked_at.is_(None))
        try:
            with self._engine.connect() as connection:
                return [self._key(dict(row._mapping)) for row in connection.execute(query)]
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the gateway's keys: {exc}") from None

    def spend(self, period: str) -> dict[str, int]:
        """What each entity ("key:<id>", "model:<route>") has spent in ``period``, picounits."""
        query = select(gateway_spend.c.entity, gateway_spend.c.spent_pico).where(
            gateway_spend.c.period == period
        )
        with self._engine.connect() as connection:
            return {row.entity: int(row.spent_pico) for row in connection.execute(query)}

    def latest_spend(self) -> dict[str, tuple[str, Decimal]]:
        """Each entity's spend in the latest period it has one: (period, amount)."""
        query = select(
            gateway_spend.c.entity, gateway_spend.c.period, gateway_spend.c.spent_pico
        ).order_by(gateway_spend.c.updated_at)
        with self._engine.connect() as connection:
            return {
                row.entity: (row.period, Decimal(int(row.spent_pico)) / PICO)
                for row in connection.execute(query)
            }

    def save_spend(self, period: str, spent: Mapping[str, int]) -> None:
        """Record what each entity has spent so far in ``period`` (its whole total, not a
        difference: writing it twice is harmless)."""
        if not spent:
            return
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            known = {
                row.entity
                for row in connection.execute(
                    select(gateway_spend.c.entity).where(
                        gateway_spend.c.period == period,
                        gateway_spend.c.entity.in_(list(spent)),
                    )
                )
            }
            for entity, amount in spent.items():
                if entity in known:
                    connection.execute(
                        update(gateway_spend)
                        .where(gateway_spend.c.entity == entity, gateway_spend.c.period == period)
                        .values(spent_pico=amount, updated_at=now)
                    )
                else:
                    connection.execute(
                        insert(gateway_spend).values(
                            entity=entity, period=period, spent_pico=amount, updated_at=now
                        )
                    )

    @staticmethod
    def _key(row: dict[str, object]) -> ApiKey:
        budget = row.get("budget")
        limits = KeyLimits(
            priority=row["priority"],  # type: ignore[arg-type]
            admin=bool(row["admin"]),
            requests_per_minute=row["requests_per_minute"],  # type: ignore[arg-type]
            tokens_per_minute=row["tokens_per_minute"],  # type: ignore[arg-type]
            max_concurrent=row["max_concurrent"],  # type: ignore[arg-type]
            budget=None if budget is None else Decimal(str(budget)),
        )
        return ApiKey(
            id=int(row["id"]),  # type: ignore[call-overload]
            name=str(row["name"]),
            key_sha256=str(row["key_sha256"]),
            prefix=str(row["prefix"]),
            created_at=row["created_at"],  # type: ignore[arg-type]
            revoked_at=row["revoked_at"],  # type: ignore[arg-type]
            limits=limits,
        )
