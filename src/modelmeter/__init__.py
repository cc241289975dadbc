"""modelmeter: measure, compare and choose AI models on quality, latency, throughput and cost.

The library does the work and the CLI is a thin layer over it::

    import modelmeter

    spec = modelmeter.load_spec(Path("study.yaml"))
    result = modelmeter.run(spec)
    modelmeter.write_report(result.report, Path("out"))

Names are imported on first use, so ``import modelmeter`` (and ``modelmeter --version``) does not
pay for numpy, pydantic models or the HTTP stack until they are needed. The errors are all here
at once: they cost nothing to import and every caller needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelmeter._exceptions import (
    AccessDenied,
    CatalogueError,
    CompareError,
    ConnectFailed,
    ConnectionReset,
    CurrencyMismatchError,
    DatasetError,
    ErrorKind,
    HTTPStatusFailure,
    ModelError,
    ModelFailure,
    ModelmeterError,
    NotifyError,
    PlanError,
    PreflightFailed,
    ProtocolFailure,
    RequestTimeout,
    SandboxUnavailableError,
    ServerError,
    SpecError,
    StoreError,
    TargetError,
    WorkerFailed,
)
from modelmeter._lazy import lazy_names
from modelmeter._version import __version__

if TYPE_CHECKING:
    from modelmeter.data import Sample, load_samples
    from modelmeter.report import write_report
    from modelmeter.results import Report
    from modelmeter.spec import Spec, load_spec
    from modelmeter.store import RunStore
    from modelmeter.study import RunOptions, RunResult, run, run_async
    from modelmeter.targets import Prediction, Target, register_target

# name -> the module that defines it, imported when the name is first asked for.
_LAZY = {
    "Prediction": "modelmeter.targets",
    "Report": "modelmeter.results",
    "RunOptions": "modelmeter.study",
    "RunResult": "modelmeter.study",
    "RunStore": "modelmeter.store",
    "Sample": "modelmeter.data",
    "Spec": "modelmeter.spec",
    "Target": "modelmeter.targets",
    "load_samples": "modelmeter.data",
    "load_spec": "modelmeter.spec",
    "register_target": "modelmeter.targets",
    "run": "modelmeter.study",
    "run_async": "modelmeter.study",
    "write_report": "modelmeter.report",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "AccessDenied",
    "CatalogueError",
    "CompareError",
    "ConnectFailed",
    "ConnectionReset",
    "CurrencyMismatchError",
    "DatasetError",
    "ErrorKind",
    "HTTPStatusFailure",
    "ModelError",
    "ModelFailure",
    "ModelmeterError",
    "NotifyError",
    "PlanError",
    "Prediction",
    "PreflightFailed",
    "ProtocolFailure",
    "Report",
    "RequestTimeout",
    "RunOptions",
    "RunResult",
    "RunStore",
    "Sample",
    "SandboxUnavailableError",
    "ServerError",
    "Spec",
    "SpecError",
    "StoreError",
    "Target",
    "TargetError",
    "WorkerFailed",
    "__version__",
    "load_samples",
    "load_spec",
    "register_target",
    "run",
    "run_async",
    "write_report",
]
