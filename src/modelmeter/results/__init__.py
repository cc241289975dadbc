"""Result types: the values every stage produces and the Report is made of.

This is the bottom layer of modelmeter (see docs/architecture.md): the load engine, quality,
economics, decisions and plans all fill these types, and ``report/`` renders a finished
:class:`Report`. It imports nothing from the stages, so any stage can use any result type.
"""

from modelmeter.results._base import (
    Interval,
    Quantity,
    ResultModel,
)
from modelmeter.results.cost import (
    BreakEven,
    Budget,
    CostLine,
    CostResult,
    LlmCostBreakdown,
)
from modelmeter.results.decision import (
    Advice,
    Decision,
    Horizon,
    PairComparison,
    PriorityChoice,
    RankedModel,
    Recommendation,
    RouteChoiceResult,
    SlaCheck,
)
from modelmeter.results.load import (
    LatencySummary,
    LlmLoadMetrics,
    LoadResult,
    SweepPoint,
    SweepResult,
)
from modelmeter.results.production import (
    BusinessCase,
    BusinessFigures,
    CapacityPlan,
    CapacitySource,
    ValuePer,
)
from modelmeter.results.quality import (
    METRICS,
    ClassMetrics,
    ItemResults,
    QualityResult,
    SliceQuality,
    SliceScore,
    TaskMetric,
    TaskQuality,
    TaskResult,
)
from modelmeter.results.report import (
    SCHEMA_VERSION,
    HostFacts,
    ModelResult,
    Report,
)

__all__ = [
    "METRICS",
    "SCHEMA_VERSION",
    "Advice",
    "BreakEven",
    "Budget",
    "BusinessCase",
    "BusinessFigures",
    "CapacityPlan",
    "CapacitySource",
    "ClassMetrics",
    "CostLine",
    "CostResult",
    "Decision",
    "Horizon",
    "HostFacts",
    "Interval",
    "ItemResults",
    "LatencySummary",
    "LlmCostBreakdown",
    "LlmLoadMetrics",
    "LoadResult",
    "ModelResult",
    "PairComparison",
    "PriorityChoice",
    "QualityResult",
    "Quantity",
    "RankedModel",
    "Recommendation",
    "Report",
    "ResultModel",
    "RouteChoiceResult",
    "SlaCheck",
    "SliceQuality",
    "SliceScore",
    "SweepPoint",
    "SweepResult",
    "TaskMetric",
    "TaskQuality",
    "TaskResult",
    "ValuePer",
]
