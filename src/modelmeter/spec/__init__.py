"""The YAML spec: what to measure (targets, dataset, task), how (load) and what matters.

One module per section of the file (``dataset``, ``targets``, ``load``, ``evaluation``,
``objectives``, ``economics`` and ``pricing``, ``capacity``/``business`` in ``plan``,
``routing``), the root in ``study``, and one reader (``parse``, with ``locate`` for YAML line
numbers). Every field is described; the descriptions feed the docs. ``load_spec`` turns any
problem into one ``SpecError`` that names the file, the field path and, where it can, the line.

Each stage receives only its own section: the load engine a ``LoadSpec``, pricing a
``Pricing``, the data loaders a ``DatasetSpec``.

The names are loaded when first used (PEP 562): a command that needs a few sections (the
gateway reads pricing and the YAML helpers) does not pay for every section's models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelmeter.spec.dataset import (
        DatasetSpec,
    )
    from modelmeter.spec.economics import (
        DEFAULT_DAYS_PER_MONTH,
        CatalogueFormat,
        EconomicsSpec,
        Workload,
    )
    from modelmeter.spec.evaluation import (
        EvaluationSpec,
        JudgeSpec,
        LlmTaskSpec,
        SandboxSpec,
    )
    from modelmeter.spec.load import (
        LoadSpec,
        SearchSpec,
        StageSpec,
        SweepSpec,
        TraceSpec,
    )
    from modelmeter.spec.objectives import (
        CRITERIA,
        DEFAULT_QUALITY_TOLERANCE,
        DEFAULT_VALUE_PER_CORRECT,
        PRIORITIES,
        Criterion,
        Objectives,
        Priority,
        QualityMetric,
        Sla,
    )
    from modelmeter.spec.parse import (
        load_spec,
        parse_spec,
    )
    from modelmeter.spec.pricing import (
        ApiPricing,
        CataloguePricing,
        InstancePricing,
        Pricing,
    )
    from modelmeter.spec.production import (
        DEFAULT_HOURS_PER_MONTH,
        BusinessSpec,
        CapacitySpec,
    )
    from modelmeter.spec.routing import (
        ROUTER_FORMATS,
        RouterFormat,
        RoutingSpec,
    )
    from modelmeter.spec.study import Spec, spec_model
    from modelmeter.spec.targets import (
        ENTRY_POINT_GROUP,
        HttpTargetSpec,
        OipTargetSpec,
        OpenAITargetSpec,
        PythonTargetSpec,
        TargetKind,
        TargetSettings,
        TargetSpec,
        add_target_kind,
        broken_plugins,
        target_kinds,
    )

__all__ = [
    "CRITERIA",
    "DEFAULT_DAYS_PER_MONTH",
    "DEFAULT_HOURS_PER_MONTH",
    "DEFAULT_QUALITY_TOLERANCE",
    "DEFAULT_VALUE_PER_CORRECT",
    "ENTRY_POINT_GROUP",
    "PRIORITIES",
    "ROUTER_FORMATS",
    "ApiPricing",
    "BusinessSpec",
    "CapacitySpec",
    "CatalogueFormat",
    "CataloguePricing",
    "Criterion",
    "DatasetSpec",
    "EconomicsSpec",
    "EvaluationSpec",
    "HttpTargetSpec",
    "InstancePricing",
    "JudgeSpec",
    "LlmTaskSpec",
    "LoadSpec",
    "Objectives",
    "OipTargetSpec",
    "OpenAITargetSpec",
    "Pricing",
    "Priority",
    "PythonTargetSpec",
    "QualityMetric",
    "RouterFormat",
    "RoutingSpec",
    "SandboxSpec",
    "SearchSpec",
    "Sla",
    "Spec",
    "StageSpec",
    "SweepSpec",
    "TargetKind",
    "TargetSettings",
    "TargetSpec",
    "TraceSpec",
    "Workload",
    "add_target_kind",
    "broken_plugins",
    "load_spec",
    "parse_spec",
    "spec_model",
    "target_kinds",
]

_MODULES = {
    "CRITERIA": "objectives",
    "DEFAULT_DAYS_PER_MONTH": "economics",
    "DEFAULT_HOURS_PER_MONTH": "production",
    "DEFAULT_QUALITY_TOLERANCE": "objectives",
    "DEFAULT_VALUE_PER_CORRECT": "objectives",
    "ENTRY_POINT_GROUP": "targets",
    "PRIORITIES": "objectives",
    "ROUTER_FORMATS": "routing",
    "ApiPricing": "pricing",
    "BusinessSpec": "production",
    "CapacitySpec": "production",
    "CatalogueFormat": "economics",
    "CataloguePricing": "pricing",
    "Criterion": "objectives",
    "DatasetSpec": "dataset",
    "EconomicsSpec": "economics",
    "EvaluationSpec": "evaluation",
    "HttpTargetSpec": "targets",
    "InstancePricing": "pricing",
    "JudgeSpec": "evaluation",
    "LlmTaskSpec": "evaluation",
    "LoadSpec": "load",
    "Objectives": "objectives",
    "OipTargetSpec": "targets",
    "OpenAITargetSpec": "targets",
    "Pricing": "pricing",
    "Priority": "objectives",
    "PythonTargetSpec": "targets",
    "QualityMetric": "objectives",
    "RouterFormat": "routing",
    "RoutingSpec": "routing",
    "SandboxSpec": "evaluation",
    "SearchSpec": "load",
    "Sla": "objectives",
    "Spec": "study",
    "StageSpec": "load",
    "SweepSpec": "load",
    "TargetKind": "targets",
    "TargetSettings": "targets",
    "TargetSpec": "targets",
    "TraceSpec": "load",
    "Workload": "economics",
    "add_target_kind": "targets",
    "broken_plugins": "targets",
    "load_spec": "parse",
    "parse_spec": "parse",
    "spec_model": "study",
    "target_kinds": "targets",
}


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'modelmeter.spec' has no attribute {name!r}")
    return getattr(importlib.import_module(f"modelmeter.spec.{module}"), name)
