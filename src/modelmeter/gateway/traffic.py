"""The traffic log: a random sample of every route's requests, written to the run store.

With ``log: {sample: 0.01}`` one request in a hundred, drawn independently, is kept in the
table ``gateway_log``: when it arrived (wall clock), the route that answered it, the client
key's name (never the key), status, latency, tokens and cost as its usage reported them, and
whether the cache answered it. With ``bodies: true`` the request body and the answer are kept
too (each up to ``max_body_kb``; a cached answer is logged with its miss, not again with each
hit). Rows are gathered in memory and written about once a second and at stop, like the A/B
log; beyond ``max_rows`` the oldest are deleted. ``RunStore.gateway_log`` reads them back, for
drift checks and re-evaluation.

Texts never reach the log unless ``bodies`` is on: users' prompts are theirs. With bodies,
the personal data and secrets in them are replaced before they are written (``anonymise``,
redaction by default; docs/privacy.md), on the thread that writes, not on the event loop.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from modelmeter._exceptions import SpecError
from modelmeter.gateway.config import RequestLogConfig

if TYPE_CHECKING:
    from modelmeter.gateway.relay import Record
    from modelmeter.privacy import Anonymiser
    from modelmeter.store.runs import RunStore

__all__ = ["TrafficLog"]

PSEUDONYM_KEY_ENV = "MODELMETER_PSEUDONYM_KEY"
_MAX_PENDING = 100_000  # rows held while the store cannot be written; more are not logged


class TrafficLog:
    def __init__(self, store: RunStore, settings: RequestLogConfig) -> None:
        self.store = store
        self.settings = settings
        self.keeps_bodies = settings.bodies
        self._limit = settings.max_body_kb * 1024
        self._rows: list[dict[str, object]] = []
        self._lock = threading.Lock()  # record() on the event loop, flush() in a thread
        self._random = random.Random()
        self.dropped = 0  # rows not logged because the store was not taking them
        self._anonymiser: Anonymiser | None = None
        if settings.bodies and settings.anonymise != "none":
            # imported here: a gateway that keeps no bodies loads no recognisers
            from modelmeter.privacy import Anonymiser

            key = os.environ.get(PSEUDONYM_KEY_ENV, "").encode() or None
            try:
                self._anonymiser = Anonymiser(settings.anonymise, key)
            except ValueError:
                raise SpecError(
                    f"log.anonymise: pseudonym needs a key of 16 bytes or more in "
                    f"${PSEUDONYM_KEY_ENV}"
                ) from None

    def sampled(self) -> bool:
        return self._random.random() < self.settings.sample

    def record(
        self,
        route: str,
        record: Record,
        arrived_ns: int,
        request_body: bytes,
        key_name: str | None,
        cost_pico: int | None,
    ) -> None:
        done_ns = time.monotonic_ns()
        usage = record.usage
        row: dict[str, object] = {
            "at_ns": arrived_ns + time.time_ns() - time.monotonic_ns(),
            "request_id": record.request_id[:64],
            "route": route,
            "key_name": key_name,
            "status": record.status,
            "failed": int(record.cut or record.status >= 500),
            "latency_ns": done_ns - arrived_ns,
            "input_tokens": usage[0] if usage is not None else None,
            "output_tokens": usage[1] if usage is not None else None,
            "cost_pico": cost_pico,
            "cache": record.cache,
            "request_body": None,
            "response_body": None,
        }
        if self.keeps_bodies:
            row["request_body"] = self._text(request_body)
            row["response_body"] = self._text(record.answer)
        with self._lock:
            if len(self._rows) >= _MAX_PENDING:
                self.dropped += 1
                return
            self._rows.append(row)

    def flush(self) -> None:
        """Write the rows gathered so far; when the store fails they are kept for the next
        try (and the error raised)."""
        with self._lock:
            rows, self._rows = self._rows, []
        if self._anonymiser is not None:
            # (rows put back after a failed write come here again: replacing is idempotent)
            for row in rows:
                for name in ("request_body", "response_body"):
                    row[name] = self._clean(row[name])
        try:
            self.store.append_gateway_log(rows, self.settings.max_rows)
        except Exception:
            with self._lock:
                self._rows[:0] = rows[: _MAX_PENDING - len(self._rows)]
            raise

    def _clean(self, body: Any) -> str | None:
        """A body with its personal data replaced: walked as JSON where it is JSON (so an
        escaped character hides nothing), as text otherwise (a stream's events)."""
        if not isinstance(body, str):
            return None
        assert self._anonymiser is not None
        try:
            parsed = json.loads(body)
        except ValueError:
            return self._anonymiser.text(body)
        return json.dumps(self._anonymiser.value(parsed), ensure_ascii=False)

    def _text(self, data: bytes | None) -> str | None:
        if not data or len(data) > self._limit:
            return None
        return data.decode("utf-8", "replace")
