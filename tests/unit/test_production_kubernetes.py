"""Kubernetes manifests from a capacity plan: structure, quantities, the YAML file, the metric.

The structure is checked against a JSON Schema of the fields the manifests use, written from the
Kubernetes API reference; the probe paths and the request counter the HPA metric is built from
are checked against a real model server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from jsonschema import Draft202012Validator
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from modelmeter.artefacts import ServedModel, TensorSpec
from modelmeter.production import (
    LIVE_PATH,
    METRICS_PATH,
    READY_PATH,
    SERVE_REQUESTS_SERIES,
    PlanError,
    deployment_manifests,
    is_positive_quantity,
    is_quantity,
    kubernetes_name,
    plan_capacity,
    prometheus_adapter_rule,
    rate_quantity,
    write_manifests,
)
from modelmeter.results import CapacityPlan
from modelmeter.serve.app import create_app

# The quantity grammar of https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
# written out independently of the module's pattern, so a slip in either shows.
_QUANTITY = (
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+))?$"
)
_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _strict(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = _strict(
    {
        "name": {"type": "string", "pattern": _NAME, "maxLength": 63},
        "namespace": {"type": "string", "pattern": _NAME},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    },
    ["name"],
)
_PROBE = _strict(
    {
        "httpGet": _strict(
            {
                "path": {"type": "string", "pattern": "^/"},
                "port": {"type": ["integer", "string"]},
            },
            ["port"],
        ),
        "initialDelaySeconds": {"type": "integer", "minimum": 0},
        "periodSeconds": {"type": "integer", "minimum": 1},
        "timeoutSeconds": {"type": "integer", "minimum": 1},
        "failureThreshold": {"type": "integer", "minimum": 1},
    },
    ["httpGet"],
)
_RESOURCE_LIST = {
    "type": "object",
    "properties": {
        "cpu": {"type": "string", "pattern": _QUANTITY},
        "memory": {"type": "string", "pattern": _QUANTITY},
    },
    "additionalProperties": False,
}
_CONTAINER = _strict(
    {
        "name": {"type": "string", "pattern": _NAME},
        "image": {"type": "string", "minLength": 1},
        "args": {"type": "array", "items": {"type": "string"}},
        "ports": {
            "type": "array",
            "items": _strict(
                {
                    "name": {"type": "string", "maxLength": 15},
                    "containerPort": {"type": "integer", "minimum": 1, "maximum": 65535},
                    "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
                },
                ["containerPort"],
            ),
        },
        "resources": _strict({"requests": _RESOURCE_LIST, "limits": _RESOURCE_LIST}, []),
        "startupProbe": _PROBE,
        "readinessProbe": _PROBE,
        "livenessProbe": _PROBE,
    },
    ["name", "image"],
)
DEPLOYMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$comment": (
        "The fields of apps/v1 Deployment that modelmeter writes, after the Kubernetes API "
        "reference: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/"
        "deployment-v1/ (DeploymentSpec, DeploymentStrategy), .../pod-v1/ (Container, Probe, "
        "ResourceRequirements) and .../common-definitions/quantity/ (the quantity grammar)."
    ),
    **_strict(
        {
            "apiVersion": {"const": "apps/v1"},
            "kind": {"const": "Deployment"},
            "metadata": _METADATA,
            "spec": _strict(
                {
                    "replicas": {"type": "integer", "minimum": 0},
                    "selector": _strict({"matchLabels": _STRING_MAP}, ["matchLabels"]),
                    "strategy": _strict(
                        {
                            "type": {"enum": ["RollingUpdate", "Recreate"]},
                            "rollingUpdate": _strict(
                                {
                                    "maxSurge": {"type": ["integer", "string"]},
                                    "maxUnavailable": {"type": ["integer", "string"]},
                                },
                                [],
                            ),
                        },
                        [],
                    ),
                    "template": _strict(
                        {
                            "metadata": _strict(
                                {"labels": _STRING_MAP, "annotations": _STRING_MAP}, ["labels"]
                            ),
                            "spec": _strict(
                                {
                                    "containers": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": _CONTAINER,
                                    }
                                },
                                ["containers"],
                            ),
                        },
                        ["metadata", "spec"],
                    ),
                },
                ["selector", "template"],
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
}
_METRIC_TARGET_AVERAGE_VALUE = _strict(
    {"type": {"const": "AverageValue"}, "averageValue": {"type": "string", "pattern": _QUANTITY}},
    ["type", "averageValue"],
)
_METRIC_TARGET_UTILISATION = _strict(
    {
        "type": {"const": "Utilization"},
        "averageUtilization": {"type": "integer", "minimum": 1},
    },
    ["type", "averageUtilization"],
)
HPA_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$comment": (
        "The fields of autoscaling/v2 HorizontalPodAutoscaler that modelmeter writes, after the "
        "Kubernetes API reference: https://kubernetes.io/docs/reference/kubernetes-api/"
        "workload-resources/horizontal-pod-autoscaler-v2/ (HorizontalPodAutoscalerSpec, "
        "MetricSpec with PodsMetricSource and ResourceMetricSource, MetricTarget)."
    ),
    **_strict(
        {
            "apiVersion": {"const": "autoscaling/v2"},
            "kind": {"const": "HorizontalPodAutoscaler"},
            "metadata": _METADATA,
            "spec": _strict(
                {
                    "scaleTargetRef": _strict(
                        {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "name": {"type": "string"},
                        },
                        ["kind", "name"],
                    ),
                    "minReplicas": {"type": "integer", "minimum": 1},
                    "maxReplicas": {"type": "integer", "minimum": 1},
                    "metrics": {
                        "type": "array",
                        "items": {
                            "oneOf": [
                                _strict(
                                    {
                                        "type": {"const": "Pods"},
                                        "pods": _strict(
                                            {
                                                "metric": _strict(
                                                    {"name": {"type": "string", "minLength": 1}},
                                                    ["name"],
                                                ),
                                                "target": _METRIC_TARGET_AVERAGE_VALUE,
                                            },
                                            ["metric", "target"],
                                        ),
                                    },
                                    ["type", "pods"],
                                ),
                                _strict(
                                    {
                                        "type": {"const": "Resource"},
                                        "resource": _strict(
                                            {
                                                "name": {"enum": ["cpu", "memory"]},
                                                "target": _METRIC_TARGET_UTILISATION,
                                            },
                                            ["name", "target"],
                                        ),
                                    },
                                    ["type", "resource"],
                                ),
                            ]
                        },
                    },
                },
                ["scaleTargetRef", "maxReplicas"],
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
}


def _errors(schema: dict[str, Any], document: Any) -> list[str]:
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(document)]


def _plan(per_replica_rps: float = 120.0, **overrides: Any) -> CapacityPlan:
    arguments: dict[str, Any] = {
        "source": "sla_search",
        "peak_rps": 200.0,
        "price_per_hour": Decimal("2.50"),
        "currency": "EUR",
    }
    arguments.update(overrides)
    return plan_capacity(per_replica_rps, **arguments)


def _manifests(plan: CapacityPlan | None = None, **overrides: Any) -> list[dict[str, Any]]:
    arguments: dict[str, Any] = {"name": "sentiment", "image": "registry.example.com/sent:1.4"}
    arguments.update(overrides)
    return deployment_manifests(plan or _plan(), **arguments)


def test_manifests_match_the_api_schemas() -> None:
    deployment, autoscaler = _manifests(namespace="models", args=["modelmeter", "serve"])
    assert _errors(DEPLOYMENT_SCHEMA, deployment) == []
    assert _errors(HPA_SCHEMA, autoscaler) == []


def test_schemas_reject_broken_manifests() -> None:
    deployment, autoscaler = _manifests()
    broken_deployment = yaml.safe_load(yaml.safe_dump(deployment))
    container = broken_deployment["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["requests"]["cpu"] = "1 core"
    del broken_deployment["spec"]["selector"]
    messages = _errors(DEPLOYMENT_SCHEMA, broken_deployment)
    assert any("'1 core' does not match" in message for message in messages)
    assert any("'selector' is a required property" in message for message in messages)
    broken_hpa = yaml.safe_load(yaml.safe_dump(autoscaler))
    broken_hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"] = "84 rps"
    broken_hpa["spec"]["maxReplicas"] = "3"
    assert len(_errors(HPA_SCHEMA, broken_hpa)) == 2


def test_deployment_carries_the_plan_and_the_server_facts() -> None:
    deployment, _ = _manifests(cpu_request="500m", memory_request="512Mi", memory_limit="1Gi")
    spec = deployment["spec"]
    assert spec["replicas"] == 2  # the plan's min_replicas
    assert spec["selector"]["matchLabels"] == {"app.kubernetes.io/name": "sentiment"}
    template = spec["template"]
    assert template["metadata"]["labels"]["app.kubernetes.io/name"] == "sentiment"
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8000",
        "prometheus.io/path": "/metrics",
    }
    container = template["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/sent:1.4"
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "500m", "memory": "1Gi"},  # limits default to requests
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert "args" not in container


def test_hpa_range_and_targets_come_from_the_plan() -> None:
    _, autoscaler = _manifests(_plan(max_replicas=5))
    spec = autoscaler["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "sentiment",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 5)
    pods, cpu = spec["metrics"]
    # averageValue = 120 req/s × 0.7 = 84 req/s per replica
    assert pods == {
        "type": "Pods",
        "pods": {
            "metric": {"name": "http_requests_per_second"},
            "target": {"type": "AverageValue", "averageValue": "84"},
        },
    }
    # CPU fallback at 0.7 × 100 = 70% of the request
    assert cpu["resource"] == {
        "name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 70},
    }
    assert autoscaler["metadata"]["annotations"] == {
        "modelmeter.io/per-replica-capacity-rps": "120",
        "modelmeter.io/capacity-source": "sla_search",
        "modelmeter.io/target-utilisation": "0.7",
    }


def test_fractional_target_is_a_milli_quantity() -> None:
    # 1.2 × 0.7 = 0.84 exactly (0.8399999999999999 in binary floats) -> "840m"
    _, autoscaler = _manifests(_plan(per_replica_rps=1.2, peak_rps=2.0))
    target = autoscaler["spec"]["metrics"][0]["pods"]["target"]["averageValue"]
    assert target == "840m"
    assert is_quantity(target)


@pytest.mark.parametrize(
    ("rate", "quantity"),
    [
        (84.0, "84"),
        (0.84, "840m"),
        (84.5, "84500m"),
        (Decimal("12.3456"), "12345m"),  # rounded down: never a target above the plan's
        (0.0015, "1m"),
        (1000, "1000"),
    ],
)
def test_rate_quantity(rate: float | Decimal, quantity: str) -> None:
    assert rate_quantity(rate) == quantity
    assert re.match(_QUANTITY, quantity)


def test_rate_below_one_milli_is_refused() -> None:
    with pytest.raises(PlanError, match=re.escape("below 0.001 req/s")):
        rate_quantity(0.0004)


@pytest.mark.parametrize(
    "text", ["1", "500m", "1.5Gi", "512Mi", "1e3", "2E-3", "+1", ".5", "5.", "1k", "3E", "1.5e+2"]
)
def test_valid_quantities(text: str) -> None:
    assert is_quantity(text)
    assert re.match(_QUANTITY, text)


@pytest.mark.parametrize(
    "text", ["", "1 Gi", "1gi", "1KiB", "abc", "1.2.3", "Gi", "1e", "--1", "1 ", "0x10", "1mi"]
)
def test_invalid_quantities(text: str) -> None:
    assert not is_quantity(text)
    assert not re.match(_QUANTITY, text)


def test_positive_quantities() -> None:
    assert is_positive_quantity("250m")
    assert is_positive_quantity("0.5Gi")
    assert not is_positive_quantity("0")
    assert not is_positive_quantity("0.000Gi")
    assert not is_positive_quantity("-1")
    assert not is_positive_quantity("lots")


def test_kubernetes_name_from_target_names() -> None:
    assert kubernetes_name("GPT-4o_mini") == "gpt-4o-mini"
    assert kubernetes_name("  Sentiment ONNX (v2) ") == "sentiment-onnx-v2"
    assert kubernetes_name("x" * 80) == "x" * 63
    assert re.match(_NAME, kubernetes_name("-a--b-"))
    with pytest.raises(PlanError, match="no letter or digit"):
        kubernetes_name("___")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Sentiment_v2"}, "name: 'Sentiment_v2' is not a valid Kubernetes name"),
        ({"namespace": "Models"}, "namespace: 'Models' is not a valid Kubernetes name"),
        ({"image": ""}, "image: must be a container image reference"),
        ({"port": 0}, "port: must be a port number from 1 to 65535"),
        ({"cpu_request": "two"}, "cpu_request: must be a positive Kubernetes quantity"),
        ({"memory_limit": "0"}, "memory_limit: must be a positive Kubernetes quantity"),
        ({"readiness_path": "ready"}, "readiness_path: must be an absolute URL path"),
        ({"cpu_target_percent": 150}, "cpu_target_percent: must be a whole percentage"),
    ],
)
def test_bad_arguments_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=re.escape(message)):
        _manifests(**overrides)


def test_written_file_round_trips_with_a_header(tmp_path: Path) -> None:
    plan = _plan(average_rps=60.0)
    manifests = _manifests(plan, args=["modelmeter", "serve", "--host", "0.0.0.0"])
    path = tmp_path / "deploy" / "sentiment.yaml"
    write_manifests(manifests, path, plan=plan)
    text = path.read_text(encoding="utf-8")
    assert list(yaml.safe_load_all(text)) == manifests
    header = [line for line in text.splitlines() if line.startswith("#")]
    joined = "\n".join(header)
    assert "replicas 2 = the plan's min_replicas" in joined
    assert "minReplicas 2 = the plan's min_replicas, maxReplicas 3" in joined
    assert (
        "averageValue 84 req/s per replica = per-replica capacity 120 req/s (sla_search) × "
        "target utilisation 0.7" in joined
    )
    assert "averageUtilization 70% of the CPU request" in joined
    for line in plan.explanation:  # the plan's arithmetic travels with the file
        assert f"#   {line}" in header
    # the header sits before the first document's separator: two documents, no empty one
    assert text.count("\n---\n") == 2
    assert text.splitlines()[len(header)] == "---"


def test_written_file_without_plan_still_explains(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    write_manifests(_manifests(), path)
    text = path.read_text(encoding="utf-8")
    assert "The capacity plan:" not in text
    assert "= per-replica capacity 120 req/s (sla_search)" in text


def test_nothing_to_write_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="no manifests to write"):
        write_manifests([], tmp_path / "m.yaml")
    assert not (tmp_path / "m.yaml").exists()


def test_adapter_rule_shape() -> None:
    rule = prometheus_adapter_rule()
    assert rule["name"] == {
        "matches": "^modelmeter_serve_requests_total$",
        "as": "http_requests_per_second",
    }
    assert rule["metricsQuery"] == (
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)"
    )
    assert set(rule["resources"]["overrides"]) == {"namespace", "pod"}
    with pytest.raises(PlanError, match="window: must be a Prometheus duration"):
        prometheus_adapter_rule(window="two minutes")


def _served_model() -> ServedModel:
    text = TensorSpec("text", "BYTES", (-1,))
    label = TensorSpec("label", "BYTES", (-1,))
    return ServedModel(
        name="sentiment",
        platform="sklearn",
        path=Path("sentiment.joblib"),
        inputs=(text,),
        outputs=(label,),
        predict=lambda texts: ["pos" if "good" in t else "neg" for t in texts],
    )


def test_probes_and_metric_exist_on_a_real_server() -> None:
    """The paths the manifests probe answer 200, and /metrics has the counter the rule reads."""

    async def scenario() -> tuple[dict[str, int], str]:
        app = create_app({"sentiment": _served_model()}, registry=CollectorRegistry())
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        try:
            statuses: dict[str, int] = {}
            async with aiohttp.ClientSession() as session:
                for path in (READY_PATH, LIVE_PATH):
                    async with session.get(server.make_url(path)) as response:
                        statuses[path] = response.status
                body = {
                    "inputs": [
                        {"name": "text", "shape": [2], "datatype": "BYTES", "data": ["good", "x"]}
                    ]
                }
                url = server.make_url("/v2/models/sentiment/infer")
                for _ in range(3):
                    async with session.post(url, json=body) as response:
                        assert response.status == 200
                async with session.get(server.make_url(METRICS_PATH)) as response:
                    statuses[METRICS_PATH] = response.status
                    exposition = await response.text()
        finally:
            await server.close()
        return statuses, exposition

    statuses, exposition = asyncio.run(scenario())
    assert statuses == {READY_PATH: 200, LIVE_PATH: 200, METRICS_PATH: 200}
    samples = [
        sample
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == SERVE_REQUESTS_SERIES
    ]
    assert sum(sample.value for sample in samples) == 3
    rule = prometheus_adapter_rule()
    assert re.fullmatch(rule["name"]["matches"], SERVE_REQUESTS_SERIES)
    assert rule["seriesQuery"].startswith(SERVE_REQUESTS_SERIES + "{")


DOC = Path(__file__).resolve().parents[2] / "docs" / "capacity.md"


def test_documented_adapter_rule_is_the_one_the_code_gives() -> None:
    text = DOC.read_text(encoding="utf-8")
    after_marker = text[text.index("<!-- adapter-rule") :]
    block = re.search(r"```yaml\n(.*?)\n\s*```", after_marker, re.DOTALL)
    assert block is not None
    assert yaml.safe_load(textwrap.dedent(block.group(1))) == [prometheus_adapter_rule()]
