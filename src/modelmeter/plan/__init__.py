"""Planning for production: replicas and monthly cost, Kubernetes manifests, the business case.

A benchmark measures one replica of each model; these turn its figures into what a deployment
needs (:func:`plan_capacity`), the manifests that deploy it with an autoscaler
(:func:`deployment_manifests`, :func:`write_manifests`) and whether the better model pays for
itself (:func:`business_case`). Each result carries its formulas with the figures filled in.
"""

from modelmeter.plan.business import BusinessCase, BusinessFigures, ValuePer, business_case
from modelmeter.plan.capacity import CapacityPlan, CapacitySource, PlanError, plan_capacity
from modelmeter.plan.kubernetes import (
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
from modelmeter.spec.plan import DEFAULT_HOURS_PER_MONTH, BusinessSpec, CapacitySpec
from modelmeter.spec.quantity import QUANTITY_PATTERN, is_positive_quantity, is_quantity

__all__ = [
    "DEFAULT_HOURS_PER_MONTH",
    "LIVE_PATH",
    "METRICS_PATH",
    "QUANTITY_PATTERN",
    "READY_PATH",
    "REQUEST_RATE_METRIC",
    "SERVE_REQUESTS_SERIES",
    "BusinessCase",
    "BusinessFigures",
    "BusinessSpec",
    "CapacityPlan",
    "CapacitySource",
    "CapacitySpec",
    "PlanError",
    "ValuePer",
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
