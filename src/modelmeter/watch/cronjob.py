"""A Kubernetes CronJob that runs one watch cycle on a schedule, for clusters where a
long-running ``modelmeter watch --every`` is not wanted.

Two objects, one YAML file: a ConfigMap holding the spec (mounted at /etc/modelmeter), and a
``batch/v1`` CronJob whose container runs ``modelmeter watch /etc/modelmeter/spec.yaml ...``.
``concurrencyPolicy: Forbid`` keeps a slow cycle from overlapping the next; ``backoffLimit: 0``
because a failed cycle already notified and the next one will look again. The run store must
outlive the pod: ``MODELMETER_DB`` is read from the Secret named in the manifest (a PostgreSQL
URL), and so is the webhook's token when one is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from modelmeter._exceptions import PlanError
from modelmeter._version import __version__
from modelmeter.production.kubernetes import kubernetes_name

__all__ = ["SPEC_MOUNT", "cronjob_manifests"]

SPEC_MOUNT = "/etc/modelmeter"
_CRON_FIELD = re.compile(r"^[0-9*/,\-A-Za-z?]+$")
_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def _check_schedule(schedule: str) -> None:
    fields = schedule.split()
    if schedule.strip() in _MACROS:
        return
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise PlanError(
            f"{schedule!r} is not a cron schedule: five fields (minute hour day-of-month month "
            "day-of-week, e.g. '0 * * * *' for hourly) or a macro such as @hourly",
            argument="schedule",
        )


def cronjob_manifests(
    study: str,
    spec_text: str,
    watch_args: Sequence[str],
    *,
    schedule: str,
    image: str,
    db_secret: str = "modelmeter-db",
    token_secret: str | None = None,
    deadline_s: int = 3_600,
) -> str:
    """The ConfigMap and CronJob as multi-document YAML. ``watch_args``: the command line after
    ``modelmeter watch SPEC`` (baseline, webhook, drift options). ``token_secret``: the Secret
    whose ``token`` becomes the webhook's bearer token (``MODELMETER_WEBHOOK_TOKEN``)."""
    _check_schedule(schedule)
    if not image.strip() or any(c.isspace() for c in image):
        raise PlanError(f"{image!r} is not a container image reference", argument="image")
    name = kubernetes_name(f"modelmeter-watch-{study}")[:52].rstrip("-")  # CronJob name ≤ 52
    labels = {"app.kubernetes.io/name": "modelmeter-watch", "app.kubernetes.io/instance": name}
    env: list[dict[str, object]] = [
        {
            "name": "MODELMETER_DB",
            "valueFrom": {"secretKeyRef": {"name": db_secret, "key": "url"}},
        }
    ]
    if token_secret is not None:
        env.append(
            {
                "name": "MODELMETER_WEBHOOK_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": token_secret, "key": "token"}},
            }
        )
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"spec.yaml": spec_text},
    }
    container = {
        "name": "watch",
        "image": image,
        "args": ["watch", f"{SPEC_MOUNT}/spec.yaml", *watch_args],
        "env": env,
        "volumeMounts": [{"name": "spec", "mountPath": SPEC_MOUNT, "readOnly": True}],
    }
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": deadline_s,
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [container],
                            "volumes": [{"name": "spec", "configMap": {"name": name}}],
                        },
                    },
                }
            },
        },
    }
    header = (
        f"# Made by modelmeter {__version__} watch: one watch cycle of {study!r} on the "
        f"schedule {schedule!r}.\n"
        f"# Create the Secret {db_secret!r} (key 'url': the run store, e.g. a PostgreSQL URL) "
        "before applying; the dataset files the spec names must be in the image or a volume.\n"
    )
    return header + yaml.safe_dump_all([config_map, cronjob], sort_keys=False, width=100)
