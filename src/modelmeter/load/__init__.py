"""Load generation: schedules in, one Outcome per request out, and their summaries."""

from modelmeter.load.engine import run_closed_loop, run_open_loop, run_plan
from modelmeter.load.outcome import Outcome
from modelmeter.load.schedule import LoadPlan, arrival_offsets_ns
from modelmeter.load.stats import PhaseSummary, histogram_ms, summarize_ms, summarize_phase

__all__ = [
    "LoadPlan",
    "Outcome",
    "PhaseSummary",
    "arrival_offsets_ns",
    "histogram_ms",
    "run_closed_loop",
    "run_open_loop",
    "run_plan",
    "summarize_ms",
    "summarize_phase",
]
