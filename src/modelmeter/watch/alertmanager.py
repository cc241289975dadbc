"""Findings sent the way Alertmanager's webhook sends alerts, so any receiver written for it
(chat bridges, incident tools, a team's own endpoint) reads them unchanged.

The body is Alertmanager's webhook payload, version 4: ``status`` (firing while any alert
fires), ``alerts`` each with ``status``, ``labels``, ``annotations``, ``startsAt``, ``endsAt``
and a ``fingerprint`` of its labels; ``groupLabels``/``commonLabels``/``commonAnnotations`` as
Alertmanager fills them. A resolved alert carries the time it was seen resolved in ``endsAt``.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime

from modelmeter._exceptions import NotifyError
from modelmeter.watch.findings import Finding

__all__ = ["NotifyError", "notify", "webhook_payload"]

_NEVER = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing
_TRIES = 3


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fingerprint(labels: dict[str, str]) -> str:
    text = "\xff".join(f"{k}\xfe{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _common(dicts: list[dict[str, str]]) -> dict[str, str]:
    if not dicts:
        return {}
    shared = dict(dicts[0])
    for other in dicts[1:]:
        shared = {k: v for k, v in shared.items() if other.get(k) == v}
    return shared


def webhook_payload(
    firing: Sequence[Finding],
    resolved: Sequence[Finding] = (),
    *,
    receiver: str = "modelmeter",
    group: dict[str, str] | None = None,
    started: datetime | None = None,
    now: datetime | None = None,
    external_url: str = "",
) -> dict[str, object]:
    """Alertmanager's webhook body (version 4) for these alerts; ``group`` becomes groupLabels
    (the study, typically)."""
    now = now or datetime.now(UTC)
    started = started or now
    alerts = [
        {
            "status": status,
            "labels": finding.labels,
            "annotations": finding.annotations,
            "startsAt": _stamp(started),
            "endsAt": _NEVER if status == "firing" else _stamp(now),
            "generatorURL": external_url,
            "fingerprint": _fingerprint(finding.labels),
        }
        for status, findings in (("firing", firing), ("resolved", resolved))
        for finding in findings
    ]
    group = group or {}
    return {
        "version": "4",
        "groupKey": "{}:" + json.dumps(group, sort_keys=True, separators=(",", ":")),
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": _common([f.labels for f in (*firing, *resolved)]),
        "commonAnnotations": _common([f.annotations for f in (*firing, *resolved)]),
        "externalURL": external_url,
        "alerts": alerts,
    }


def notify(
    url: str,
    payload: dict[str, object],
    *,
    bearer: str | None = None,
    timeout_s: float = 10.0,
    retry_after_s: float = 1.0,
) -> int:
    """POST ``payload`` as JSON to ``url``; the answer's status. Tried three times (a receiver
    restarting is common), then :class:`NotifyError` naming the URL and the last failure. The
    token goes in the Authorization header only, never in a message."""
    if not url.startswith(("http://", "https://")):
        raise NotifyError(f"webhook {url!r}: an http:// or https:// URL")
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "user-agent": "modelmeter-watch"}
    if bearer:
        headers["authorization"] = f"Bearer {bearer}"
    failure = ""
    for attempt in range(_TRIES):
        if attempt:
            time.sleep(retry_after_s * attempt)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            failure = f"answered {exc.code} {exc.reason}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                break  # the receiver will refuse it again
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            failure = f"cannot be reached: {reason}"
    raise NotifyError(f"webhook {url}: {failure}")
