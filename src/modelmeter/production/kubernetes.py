"""Kubernetes manifests that deploy a model server sized by a capacity plan.

The plan's numbers only help if they reach the cluster, so this module turns a
:class:`~modelmeter.results.CapacityPlan` into two objects:

- an ``apps/v1`` Deployment: ``replicas`` starts at the plan's minimum, every replica gets
  the CPU and memory of the measured one (requests = limits, so production replicas behave like
  the one whose capacity was measured), probes on the Open Inference Protocol health paths of
  ``modelmeter serve`` (``/v2/health/ready``, ``/v2/health/live``), and pod annotations that let
  a Prometheus using the common ``prometheus.io/*`` convention scrape ``/metrics``;
- an ``autoscaling/v2`` HorizontalPodAutoscaler between the plan's minimum and maximum, scaling
  on a Pods metric ``http_requests_per_second`` (served by prometheus-adapter from the server's
  request counter, see :func:`prometheus_adapter_rule`) with ``target.averageValue`` = per-replica
  capacity × target utilisation, and on CPU utilisation as a fallback: the HPA acts on the largest
  proposal, and still scales up on CPU when the custom metric cannot be read.

The manifests are plain dicts (what ``kubectl apply -f`` reads); :func:`write_manifests` writes
them as one multi-document YAML file whose comment header says where each number comes from.
Field names follow the Kubernetes API reference (apps/v1 Deployment, autoscaling/v2
HorizontalPodAutoscaler); quantities follow its quantity grammar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import yaml

from modelmeter._version import __version__
from modelmeter.production.capacity import PlanError, _decimal, _number
from modelmeter.results import CapacityPlan
from modelmeter.spec.quantity import QUANTITY_PATTERN, is_positive_quantity, is_quantity

__all__ = [
    "LIVE_PATH",
    "METRICS_PATH",
    "QUANTITY_PATTERN",
    "READY_PATH",
    "REQUEST_RATE_METRIC",
    "SERVE_REQUESTS_SERIES",
    "deployment_manifests",
    "is_positive_quantity",
    "is_quantity",
    "kubernetes_name",
    "prometheus_adapter_rule",
    "rate_quantity",
    "write_manifests",
]

READY_PATH = "/v2/health/ready"
LIVE_PATH = "/v2/health/live"
METRICS_PATH = "/metrics"
REQUEST_RATE_METRIC = "http_requests_per_second"
# The counter `modelmeter serve` exposes on /metrics (prometheus-client adds `_total`).
SERVE_REQUESTS_SERIES = "modelmeter_serve_requests_total"

_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_NAME_RULE = (
    "lower-case letters, digits and '-', starting and ending with a letter or digit, at most "
    "63 characters (an RFC 1123 label)"
)
_CONTAINER = "model-server"


def rate_quantity(requests_per_second: float | Decimal) -> str:
    """A request rate as a canonical quantity, rounded down to 1/1000: 84.0 -> '84', 0.84 -> '840m'.

    Rounded down so the autoscaler's target is never above the rate the plan allows. Raises
    :class:`PlanError` below 1m (0.001 req/s), the smallest rate a quantity can state.
    """
    milli = int((_decimal(requests_per_second) * 1000).to_integral_value(rounding=ROUND_FLOOR))
    if milli < 1:
        raise PlanError(
            f"{requests_per_second!r} req/s is below 0.001 req/s (1m), the smallest target a "
            "Kubernetes quantity can state",
            argument="averageValue",
        )
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def kubernetes_name(text: str) -> str:
    """A valid Kubernetes object name made from ``text`` (a target name): 'GPT-4o_mini' ->
    'gpt-4o-mini'. Raises :class:`PlanError` when nothing usable is left."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    name = re.sub(r"-{2,}", "-", name).strip("-")[:63].rstrip("-")
    if not name:
        raise PlanError(f"{text!r} has no letter or digit to make a Kubernetes name from")
    return name


def _check_name(name: str, argument: str) -> None:
    if not isinstance(name, str) or _NAME.match(name) is None:
        raise PlanError(
            f"{name!r} is not a valid Kubernetes name: {_NAME_RULE}; kubernetes_name() makes one "
            "from a target name",
            argument=argument,
        )


def _check_quantity(value: str, argument: str) -> None:
    if not is_positive_quantity(value):
        raise PlanError(
            f"must be a positive Kubernetes quantity such as '1', '500m', '2Gi' or '512Mi'; "
            f"got {value!r}",
            argument=argument,
        )


def deployment_manifests(
    plan: CapacityPlan,
    *,
    name: str,
    image: str,
    port: int = 8000,
    cpu_request: str = "1",
    memory_request: str = "1Gi",
    cpu_limit: str | None = None,
    memory_limit: str | None = None,
    namespace: str | None = None,
    args: Sequence[str] | None = None,
    readiness_path: str = READY_PATH,
    liveness_path: str = LIVE_PATH,
    metric_name: str = REQUEST_RATE_METRIC,
    cpu_target_percent: int | None = None,
) -> list[dict[str, Any]]:
    """A Deployment and a HorizontalPodAutoscaler for ``plan``, as dicts ready to dump as YAML.

    ``name`` names both objects (an RFC 1123 label; see :func:`kubernetes_name`). Limits default
    to the requests. ``args`` is the container's command line after the image's entrypoint
    (e.g. ``["modelmeter", "serve", "--host", "0.0.0.0", "sentiment=/models/model.onnx"]``);
    None keeps the image's own. ``cpu_target_percent`` is the CPU fallback's target, by default
    the plan's target utilisation × 100. Raises :class:`PlanError` naming the argument at fault.
    """
    _check_name(name, "name")
    if namespace is not None:
        _check_name(namespace, "namespace")
    if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
        raise PlanError(
            f"must be a container image reference without spaces, got {image!r}", argument="image"
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise PlanError(f"must be a port number from 1 to 65535, got {port!r}", argument="port")
    for value, argument in (
        (cpu_request, "cpu_request"),
        (memory_request, "memory_request"),
        (cpu_limit, "cpu_limit"),
        (memory_limit, "memory_limit"),
    ):
        if value is not None:
            _check_quantity(value, argument)
    for path, argument in ((readiness_path, "readiness_path"), (liveness_path, "liveness_path")):
        if not path.startswith("/"):
            raise PlanError(f"must be an absolute URL path, got {path!r}", argument=argument)
    if cpu_target_percent is None:
        cpu_target_percent = max(1, round(plan.target_utilisation * 100))
    elif isinstance(cpu_target_percent, bool) or not 1 <= cpu_target_percent <= 100:
        raise PlanError(
            f"must be a whole percentage from 1 to 100, got {cpu_target_percent!r}",
            argument="cpu_target_percent",
        )
    target = rate_quantity(_decimal(plan.per_replica_rps) * _decimal(plan.target_utilisation))

    selector = {"app.kubernetes.io/name": name}
    labels = {**selector, "app.kubernetes.io/component": "model-server"}

    def metadata(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {"name": name}
        if namespace is not None:
            found["namespace"] = namespace
        found["labels"] = dict(labels)
        if extra:
            found["annotations"] = dict(extra)
        return found

    container: dict[str, Any] = {"name": _CONTAINER, "image": image}
    if args is not None:
        container["args"] = [str(arg) for arg in args]
    container.update(
        {
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
            "resources": {
                "requests": {"cpu": cpu_request, "memory": memory_request},
                "limits": {
                    "cpu": cpu_limit or cpu_request,
                    "memory": memory_limit or memory_request,
                },
            },
            # Models load before the server listens: give loading up to 5 minutes before the
            # liveness probe may restart the container.
            "startupProbe": {
                "httpGet": {"path": liveness_path, "port": "http"},
                "periodSeconds": 5,
                "failureThreshold": 60,
            },
            "readinessProbe": {
                "httpGet": {"path": readiness_path, "port": "http"},
                "periodSeconds": 5,
                "timeoutSeconds": 2,
                "failureThreshold": 3,
            },
            "livenessProbe": {
                "httpGet": {"path": liveness_path, "port": "http"},
                "periodSeconds": 10,
                "timeoutSeconds": 2,
                "failureThreshold": 3,
            },
        }
    )
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(),
        "spec": {
            "replicas": plan.min_replicas,
            "selector": {"matchLabels": dict(selector)},
            # Never below the planned capacity during a rollout: add a replica, then remove one.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": dict(labels),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(port),
                        "prometheus.io/path": METRICS_PATH,
                    },
                },
                "spec": {"containers": [container]},
            },
        },
    }
    autoscaler: dict[str, Any] = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(
            {
                "modelmeter.io/per-replica-capacity-rps": _number(_decimal(plan.per_replica_rps)),
                "modelmeter.io/capacity-source": plan.source,
                "modelmeter.io/target-utilisation": _number(_decimal(plan.target_utilisation)),
            }
        ),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": plan.min_replicas,
            "maxReplicas": plan.max_replicas,
            "metrics": [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": metric_name},
                        "target": {"type": "AverageValue", "averageValue": target},
                    },
                },
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": cpu_target_percent},
                    },
                },
            ],
        },
    }
    return [deployment, autoscaler]


def prometheus_adapter_rule(
    metric_name: str = REQUEST_RATE_METRIC, *, window: str = "2m"
) -> dict[str, Any]:
    """The prometheus-adapter rule that serves ``metric_name`` per pod from the request counter.

    It goes under ``rules:`` of the adapter's configuration (``rules.custom`` in its Helm chart)
    and needs Prometheus to scrape the pods with ``namespace`` and ``pod`` labels, as the
    ``prometheus.io/*`` annotations of :func:`deployment_manifests` ask for.
    """
    if not re.fullmatch(r"[0-9]+[smh]", window):
        raise PlanError(
            f"must be a Prometheus duration such as '1m' or '2m', got {window!r}",
            argument="window",
        )
    return {
        "seriesQuery": f'{SERVE_REQUESTS_SERIES}{{namespace!="",pod!=""}}',
        "resources": {
            "overrides": {
                "namespace": {"resource": "namespace"},
                "pod": {"resource": "pod"},
            }
        },
        "name": {"matches": f"^{SERVE_REQUESTS_SERIES}$", "as": metric_name},
        "metricsQuery": (
            f"sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[{window}])) by (<<.GroupBy>>)"
        ),
    }


def _get(document: Mapping[str, Any], *keys: str | int) -> Any:
    found: Any = document
    for key in keys:
        try:
            found = found[key]
        except (KeyError, IndexError, TypeError):
            return None
    return found


def _notes(manifests: Sequence[Mapping[str, Any]]) -> list[str]:
    notes: list[str] = []
    for document in manifests:
        kind = document.get("kind")
        name = _get(document, "metadata", "name")
        if kind == "Deployment":
            container = _get(document, "spec", "template", "spec", "containers", 0) or {}
            requests = _get(container, "resources", "requests") or {}
            limits = _get(container, "resources", "limits") or {}
            notes.append(
                f"Deployment {name}: replicas {_get(document, 'spec', 'replicas')} = the plan's "
                "min_replicas; the HPA changes it from there (once the HPA runs, delete "
                "spec.replicas before re-applying, or each apply resets the count)."
            )
            notes.append(
                f"  resources: requests cpu {requests.get('cpu')}, memory "
                f"{requests.get('memory')}; limits cpu {limits.get('cpu')}, memory "
                f"{limits.get('memory')}: what the measured replica had, so each replica carries "
                "the measured capacity."
            )
        elif kind == "HorizontalPodAutoscaler":
            annotations = _get(document, "metadata", "annotations") or {}
            capacity = annotations.get("modelmeter.io/per-replica-capacity-rps")
            source = annotations.get("modelmeter.io/capacity-source")
            utilisation = annotations.get("modelmeter.io/target-utilisation")
            notes.append(
                f"HorizontalPodAutoscaler {name}: minReplicas "
                f"{_get(document, 'spec', 'minReplicas')} = the plan's min_replicas, maxReplicas "
                f"{_get(document, 'spec', 'maxReplicas')} = the replicas the plan needs at peak "
                "(or the declared max_replicas)."
            )
            for metric in _get(document, "spec", "metrics") or []:
                if metric.get("type") == "Pods":
                    line = (
                        f"  Pods metric {_get(metric, 'pods', 'metric', 'name')}: averageValue "
                        f"{_get(metric, 'pods', 'target', 'averageValue')} req/s per replica"
                    )
                    if capacity is not None:
                        line += (
                            f" = per-replica capacity {capacity} req/s ({source}) × target "
                            f"utilisation {utilisation}, rounded down to 1/1000"
                        )
                    notes.append(line + "; served by prometheus-adapter (see docs/capacity.md).")
                elif metric.get("type") == "Resource":
                    notes.append(
                        f"  CPU fallback: averageUtilization "
                        f"{_get(metric, 'resource', 'target', 'averageUtilization')}% of the CPU "
                        "request; the HPA follows the larger proposal, and still scales up on "
                        "CPU when the request-rate metric cannot be read."
                    )
    return notes


def write_manifests(
    manifests: Sequence[Mapping[str, Any]], path: Path, *, plan: CapacityPlan | None = None
) -> None:
    """Write ``manifests`` to ``path`` as one multi-document YAML file for ``kubectl apply -f``.

    A comment header says where each number comes from; with ``plan``, it also carries the
    plan's arithmetic. Missing parent folders are created.
    """
    if not manifests:
        raise PlanError("there are no manifests to write", argument="manifests")
    header = [
        f"Kubernetes manifests written by modelmeter {__version__} from a capacity plan.",
        "Where the numbers come from:",
        *(f"  {note}" for note in _notes(manifests)),
    ]
    if plan is not None:
        header.append("The capacity plan:")
        header.extend(f"  {line}" for line in plan.explanation)
    body = yaml.safe_dump_all(
        [dict(document) for document in manifests],
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
    )
    text = "".join(f"# {line}".rstrip() + "\n" for line in header) + "---\n" + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
