"""One study, end to end: the orchestration behind ``modelmeter.run``.

``run`` / ``run_async`` take a spec and :class:`RunOptions` (data already read, progress, run
id, calibrated ceiling, a response cache behind the :class:`~modelmeter.store.AnswerCache`
protocol) and return a :class:`RunResult`. Inside: ``phases`` measures one target (start,
quality, load), ``models`` turns that into its ModelResult, ``report`` assembles the Report in
one place, ``plans`` makes the capacity plan and business case, ``result`` writes what goes
beside the report.
"""

from modelmeter.study.options import RunOptions, TaskItems
from modelmeter.study.report import new_run_id
from modelmeter.study.result import RunResult
from modelmeter.study.run import check_resumable, check_study, run, run_async, study_samples

__all__ = [
    "RunOptions",
    "RunResult",
    "TaskItems",
    "check_resumable",
    "check_study",
    "new_run_id",
    "run",
    "run_async",
    "study_samples",
]
