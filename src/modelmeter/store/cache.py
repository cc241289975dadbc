"""Response cache: the answers of quality passes, kept in the run store so that they are not paid
for twice.

Every answer a quality pass receives is committed here as it arrives, keyed by
what decides the answer: the target's identity (kind, URL, model, sampling settings, prompt
template — never its name, headers or keys) and the request (the prompt and, for tasks that
draw several answers per item, the draw's index). Two uses:

* ``evaluation.cache: true`` reuses any earlier answer with the same key, from any run;
* ``modelmeter run SPEC --resume RUN_ID`` reuses the answers of that run only, so an interrupted
  run continues without re-sending what completed.

A cached answer keeps the timing it was measured with, for the record; it never enters latency
statistics (the load phase never reads the cache, and quality passes report no latency).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from modelmeter._exceptions import StoreError
from modelmeter.store.schema import metadata, responses

__all__ = ["AnswerCache", "CachedAnswer", "ResponseCache", "request_key", "target_identity"]

# Fields of a target spec that do not change its answers, or must never be stored.
_NOT_IDENTITY = {"name", "description", "headers", "api_key", "timeout_s", "pricing", "stream"}
# Each answer is committed as it arrives: a run killed with kill -9 loses only the answers still
# in flight (with SQLite's write-ahead log a commit costs about 15 µs; see modelmeter.store.runs).
_FLUSH_ROWS = 1
_LOOKUP_CHUNK = 500


def target_identity(target_spec: Any) -> str:
    """A stable text for what decides a target's answers; secrets and display names excluded."""
    data = target_spec.model_dump(mode="json", exclude=_NOT_IDENTITY)
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def request_key(identity: str, prompt: str, draw: int = 0) -> str:
    """SHA-256 of target identity, prompt and draw index (several answers per item)."""
    digest = hashlib.sha256()
    for part in (identity, prompt, str(draw)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    key: str
    run_id: str
    target: str
    sample_id: str
    answer: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    service_ms: float | None = None
    ttft_ms: float | None = None


class AnswerCache(Protocol):
    """What an evaluation needs of a response cache; :class:`ResponseCache` keeps one in the
    run store, and a run can be given any other (an in-memory one in tests)."""

    def lookup(
        self, keys: Iterable[str], *, from_run: str | None = None
    ) -> dict[str, CachedAnswer]:
        """The newest cached answer of each key that has one (``from_run``: that run's only)."""

    def put(
        self,
        key: str,
        *,
        target: str,
        sample_id: str,
        answer: str,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        cached_input_tokens: int | None = None,
        service_ms: float | None = None,
        ttft_ms: float | None = None,
    ) -> None:
        """Keep an answer that arrived (committed at once by the run store; see :meth:`flush`)."""

    def flush(self) -> None:
        """Write what :meth:`put` holds."""


class ResponseCache:
    """Reads and writes cached answers in the run store's database."""

    def __init__(self, engine: Engine, run_id: str) -> None:
        self._engine = engine
        self.run_id = run_id
        self._pending: list[dict[str, Any]] = []
        try:
            metadata.create_all(engine, tables=[responses])
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the response cache table: {exc}") from None

    def lookup(
        self, keys: Iterable[str], *, from_run: str | None = None
    ) -> dict[str, CachedAnswer]:
        """The cached answer for each key that has one (the newest); ``from_run`` limits the
        search to one run's answers (resume)."""
        found: dict[str, CachedAnswer] = {}
        wanted = list(dict.fromkeys(keys))
        try:
            with self._engine.connect() as connection:
                for start in range(0, len(wanted), _LOOKUP_CHUNK):
                    chunk = wanted[start : start + _LOOKUP_CHUNK]
                    query = select(responses).where(responses.c.key.in_(chunk))
                    if from_run is not None:
                        query = query.where(responses.c.run_id == from_run)
                    for row in connection.execute(query.order_by(responses.c.id)):
                        found[row.key] = CachedAnswer(
                            key=row.key,
                            run_id=row.run_id,
                            target=row.target,
                            sample_id=row.sample_id,
                            answer=row.answer,
                            input_tokens=row.input_tokens,
                            output_tokens=row.output_tokens,
                            reasoning_tokens=row.reasoning_tokens,
                            cached_input_tokens=row.cached_input_tokens,
                            service_ms=row.service_ms,
                            ttft_ms=row.ttft_ms,
                        )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the response cache: {exc}") from None
        return found

    def put(
        self,
        key: str,
        *,
        target: str,
        sample_id: str,
        answer: str,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        cached_input_tokens: int | None = None,
        service_ms: float | None = None,
        ttft_ms: float | None = None,
    ) -> None:
        """Commit one answer as it arrives (``_FLUSH_ROWS`` at a time)."""
        self._pending.append(
            {
                "key": key,
                "run_id": self.run_id,
                "target": target,
                "sample_id": sample_id,
                "answer": answer,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "reasoning_tokens": reasoning_tokens,
                "cached_input_tokens": cached_input_tokens,
                "service_ms": service_ms,
                "ttft_ms": ttft_ms,
                "created_at": datetime.now(UTC),
            }
        )
        if len(self._pending) >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(responses), rows)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the response cache: {exc}") from None
