"""Planning for production: replicas and monthly cost, Kubernetes manifests, the business case.

A benchmark measures one replica of each model; these turn its figures into what a deployment
needs (:func:`plan_capacity`), the manifests that deploy it with an autoscaler
(:func:`deployment_manifests`, :func:`write_manifests`) and whether the better model pays for
itself (:func:`business_case`). Each result carries its formulas with the figures filled in.
"""

from modelmeter.production.business import business_case
from modelmeter.production.capacity import PlanError, plan_capacity
from modelmeter.production.kubernetes import (
    LIVE_PATH,
    METRICS_PATH,
    READY_PATH,
    REQUEST_RATE_METRIC,
    SERVE_REQUESTS_SERIES,
    deployment_manifests,
    kubernetes_name,
    prometheus_adapter_rule,
    rate_quantity,
    write_manifests,
)
from modelmeter.spec.quantity import QUANTITY_PATTERN, is_positive_quantity, is_quantity

__all__ = [
    "LIVE_PATH",
    "METRICS_PATH",
    "QUANTITY_PATTERN",
    "READY_PATH",
    "REQUEST_RATE_METRIC",
    "SERVE_REQUESTS_SERIES",
    "PlanError",
    "business_case",
    "deployment_manifests",
    "is_positive_quantity",
    "is_quantity",
    "kubernetes_name",
    "plan_capacity",
    "prometheus_adapter_rule",
    "rate_quantity",
    "write_manifests",
]
