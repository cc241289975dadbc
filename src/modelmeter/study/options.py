"""What a caller may hand a run besides the spec: data already read, progress, ids, a cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelmeter.data.sample import Sample
from modelmeter.progress import ProgressListener
from modelmeter.spec import LlmTaskSpec
from modelmeter.store.cache import AnswerCache

__all__ = ["RunOptions", "TaskItems"]

# Each LLM task of the spec with its items, read and checked.
TaskItems = Sequence[tuple[LlmTaskSpec, list[Sample]]]


@dataclass(frozen=True)
class RunOptions:
    """Everything but the spec, each optional.

    - ``samples`` / ``tasks``: the data, when the caller read and checked it already
      (:func:`modelmeter.study.study_samples`); else the run reads it.
    - ``progress``: receives the progress of long steps (the CLI draws it).
    - ``run_id``: the id to report and store under (default: a new one).
    - ``client_ceiling_rps``: this host's calibrated load-generation ceiling (``modelmeter
      calibrate``); load phases that come near it are marked client-bound.
    - ``cache``: where LLM task answers are written as they arrive, and read back when
      ``evaluation.cache`` is on or when ``resume_from`` names the run being resumed.
    - ``preflight``: send one request to every target before measuring any, and stop with
      :class:`~modelmeter.study.preflight.PreflightFailed` when one does not answer (default).
    - ``hold_interrupts``: after a Ctrl-C, further ones only say the partial report is on its
      way, until the process ends (a command whose last step is writing that report); off,
      they are held only while the run builds it.
    """

    samples: Sequence[Sample] | None = None
    tasks: TaskItems | None = None
    progress: ProgressListener | None = None
    run_id: str | None = None
    client_ceiling_rps: float | None = None
    cache: AnswerCache | None = None
    resume_from: str | None = None
    preflight: bool = True
    hold_interrupts: bool = False
