"""modelmeter: measure, compare and choose AI models on quality, latency, throughput and cost.

The library does the work and the CLI is a thin layer over it::

    import modelmeter

    spec = modelmeter.load_spec(Path("study.yaml"))
    result = modelmeter.run(spec)
    modelmeter.write_report(result.report, Path("out"))
"""

from modelmeter._exceptions import (
    ConnectFailed,
    DatasetError,
    ErrorKind,
    HTTPStatusFailure,
    ModelError,
    ModelmeterError,
    ProtocolFailure,
    RequestTimeout,
    ServerError,
    SpecError,
    StoreError,
    TargetError,
)
from modelmeter._version import __version__
from modelmeter.data import Sample, load_samples
from modelmeter.report import write_report
from modelmeter.results import Report
from modelmeter.runner import RunResult, run, run_async
from modelmeter.spec import Spec, load_spec
from modelmeter.store import RunStore
from modelmeter.targets import Prediction, Target, register_target

__all__ = [
    "ConnectFailed",
    "DatasetError",
    "ErrorKind",
    "HTTPStatusFailure",
    "ModelError",
    "ModelmeterError",
    "Prediction",
    "ProtocolFailure",
    "Report",
    "RequestTimeout",
    "RunResult",
    "RunStore",
    "Sample",
    "ServerError",
    "Spec",
    "SpecError",
    "StoreError",
    "Target",
    "TargetError",
    "__version__",
    "load_samples",
    "load_spec",
    "register_target",
    "run",
    "run_async",
    "write_report",
]
