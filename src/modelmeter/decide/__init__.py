"""Decisions: SLA checks, the Pareto frontier, ranking by weighted objectives, recommendations."""

from modelmeter.decide.pareto import (
    ParetoPoint,
    dominated_by,
    dominates,
    pareto_front,
    pareto_points,
)
from modelmeter.decide.ranking import normalise, rank
from modelmeter.decide.recommend import recommend
from modelmeter.decide.sla import check_sla, check_sla_values, sla_value_violations, sla_violations

__all__ = [
    "ParetoPoint",
    "check_sla",
    "check_sla_values",
    "dominated_by",
    "dominates",
    "normalise",
    "pareto_front",
    "pareto_points",
    "rank",
    "recommend",
    "sla_value_violations",
    "sla_violations",
]
