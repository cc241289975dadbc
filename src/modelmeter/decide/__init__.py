"""Decisions: SLA checks, the Pareto frontier, one decision per run, its ranking and words."""

from modelmeter.decide.consistency import inconsistencies
from modelmeter.decide.decision import PRINCIPLE, RULES, decide, eligibility
from modelmeter.decide.pareto import (
    ParetoPoint,
    dominated_by,
    dominates,
    pareto_front,
    pareto_points,
)
from modelmeter.decide.ranking import rank
from modelmeter.decide.recommend import recommend
from modelmeter.decide.sla import check_sla, check_sla_values, sla_value_violations, sla_violations

__all__ = [
    "PRINCIPLE",
    "RULES",
    "ParetoPoint",
    "check_sla",
    "check_sla_values",
    "decide",
    "dominated_by",
    "dominates",
    "eligibility",
    "inconsistencies",
    "pareto_front",
    "pareto_points",
    "rank",
    "recommend",
    "sla_value_violations",
    "sla_violations",
]
