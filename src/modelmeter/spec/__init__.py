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

from typing import TYPE_CHECKING

from modelmeter._lazy import lazy_names

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
    "CRITERIA": "modelmeter.spec.objectives",
    "DEFAULT_DAYS_PER_MONTH": "modelmeter.spec.economics",
    "DEFAULT_HOURS_PER_MONTH": "modelmeter.spec.production",
    "DEFAULT_QUALITY_TOLERANCE": "modelmeter.spec.objectives",
    "DEFAULT_VALUE_PER_CORRECT": "modelmeter.spec.objectives",
    "ENTRY_POINT_GROUP": "modelmeter.spec.targets",
    "PRIORITIES": "modelmeter.spec.objectives",
    "ROUTER_FORMATS": "modelmeter.spec.routing",
    "ApiPricing": "modelmeter.spec.pricing",
    "BusinessSpec": "modelmeter.spec.production",
    "CapacitySpec": "modelmeter.spec.production",
    "CatalogueFormat": "modelmeter.spec.economics",
    "CataloguePricing": "modelmeter.spec.pricing",
    "Criterion": "modelmeter.spec.objectives",
    "DatasetSpec": "modelmeter.spec.dataset",
    "EconomicsSpec": "modelmeter.spec.economics",
    "EvaluationSpec": "modelmeter.spec.evaluation",
    "HttpTargetSpec": "modelmeter.spec.targets",
    "InstancePricing": "modelmeter.spec.pricing",
    "JudgeSpec": "modelmeter.spec.evaluation",
    "LlmTaskSpec": "modelmeter.spec.evaluation",
    "LoadSpec": "modelmeter.spec.load",
    "Objectives": "modelmeter.spec.objectives",
    "OipTargetSpec": "modelmeter.spec.targets",
    "OpenAITargetSpec": "modelmeter.spec.targets",
    "Pricing": "modelmeter.spec.pricing",
    "Priority": "modelmeter.spec.objectives",
    "PythonTargetSpec": "modelmeter.spec.targets",
    "QualityMetric": "modelmeter.spec.objectives",
    "RouterFormat": "modelmeter.spec.routing",
    "RoutingSpec": "modelmeter.spec.routing",
    "SandboxSpec": "modelmeter.spec.evaluation",
    "SearchSpec": "modelmeter.spec.load",
    "Sla": "modelmeter.spec.objectives",
    "Spec": "modelmeter.spec.study",
    "StageSpec": "modelmeter.spec.load",
    "SweepSpec": "modelmeter.spec.load",
    "TargetKind": "modelmeter.spec.targets",
    "TargetSettings": "modelmeter.spec.targets",
    "TargetSpec": "modelmeter.spec.targets",
    "TraceSpec": "modelmeter.spec.load",
    "Workload": "modelmeter.spec.economics",
    "add_target_kind": "modelmeter.spec.targets",
    "broken_plugins": "modelmeter.spec.targets",
    "load_spec": "modelmeter.spec.parse",
    "parse_spec": "modelmeter.spec.parse",
    "spec_model": "modelmeter.spec.study",
    "target_kinds": "modelmeter.spec.targets",
}

__getattr__, __dir__ = lazy_names(__name__, _MODULES, globals())
