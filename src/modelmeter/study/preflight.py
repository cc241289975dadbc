"""One request to every target before any is measured: a target that is down, refuses the key,
has a wrong path or answers in the wrong shape stops the run within seconds, with one line per
target naming it, its URL, the status and the start of the body, instead of a full run of
errors and a report that says only "http_status". A failure that may pass (a 5xx or 429, a
timeout, a reset) is tried up to three times, so a target that only fails now and then is still
measured, its errors counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from modelmeter._exceptions import ErrorKind, HTTPStatusFailure, PreflightFailed, TargetError
from modelmeter._net import display_url
from modelmeter.data.sample import Sample
from modelmeter.spec import TargetSpec
from modelmeter.targets.base import Target

__all__ = ["PreflightFailed", "preflight"]

_BODY_SHOWN = 160
_TRIES = 3


def _what_failed(exc: Exception) -> str:
    if isinstance(exc, HTTPStatusFailure):
        body = " ".join(exc.body.split())
        shown = body[:_BODY_SHOWN] + ("…" if len(body) > _BODY_SHOWN else "")
        return f"HTTP {exc.status}" + (f", body: {shown}" if shown else ", empty body")
    if isinstance(exc, TargetError):
        return f"{exc.kind.value}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _transient(exc: Exception) -> bool:
    """A failure worth one more try: a 5xx or 429, a timeout, a reset connection."""
    if isinstance(exc, HTTPStatusFailure):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, TargetError) and exc.kind in (ErrorKind.TIMEOUT, ErrorKind.RESET)


async def _try(target: Target, target_spec: TargetSpec, sample: Sample) -> str | None:
    url = getattr(target_spec, "url", None)
    where = f"target '{target.name}'" + (f" at {display_url(url)}" if isinstance(url, str) else "")
    try:
        await target.start()
        for attempt in range(1, _TRIES + 1):
            try:
                await target.predict(sample)
                return None
            except TargetError as exc:
                # A target that fails now and then (a busy server) is measured, errors and
                # all; one that fails every time, or refuses outright, is not.
                if attempt == _TRIES or not _transient(exc):
                    return f"{where}: {_what_failed(exc)}"
    except (TargetError, OSError) as exc:
        return f"{where}: {_what_failed(exc)}"
    finally:
        await target.close()
    return None


async def preflight(
    targets: Mapping[str, Target], specs: Sequence[TargetSpec], sample: Sample
) -> None:
    """Send ``sample`` to every target at once; raise :class:`PreflightFailed` naming each
    that failed. ``targets`` are instances of their own (each is closed after its request), so
    the ones the run measures start afresh."""
    found = await asyncio.gather(*(_try(targets[s.name], s, sample) for s in specs))
    failures = [line for line in found if line is not None]
    if failures:
        raise PreflightFailed(failures)
