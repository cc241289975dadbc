"""Load generation: schedules in, one Outcome per request out, and their summaries."""

from modelmeter.load.engine import run_closed_loop, run_open_loop, run_plan, sleep_until
from modelmeter.load.multiprocess import run_plan_in_processes
from modelmeter.load.outcome import Outcome, OutcomeSink
from modelmeter.load.phase import LoadMeasurement, SearchSettings, SweepSettings, measure_load
from modelmeter.load.recorder import OutcomeRecorder
from modelmeter.load.schedule import LoadPlan, arrival_offsets_ns, iter_arrival_offsets
from modelmeter.load.stats import PhaseSummary, histogram_ms, summarize_ms, summarize_phase
from modelmeter.load.sweep import Slo, goodput, search_max_rate, sweep

__all__ = [
    "LoadMeasurement",
    "LoadPlan",
    "Outcome",
    "OutcomeRecorder",
    "OutcomeSink",
    "PhaseSummary",
    "SearchSettings",
    "Slo",
    "SweepSettings",
    "arrival_offsets_ns",
    "goodput",
    "histogram_ms",
    "iter_arrival_offsets",
    "measure_load",
    "run_closed_loop",
    "run_open_loop",
    "run_plan",
    "run_plan_in_processes",
    "search_max_rate",
    "sleep_until",
    "summarize_ms",
    "summarize_phase",
    "sweep",
]
