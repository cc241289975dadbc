"""Run untrusted Python programs, such as a model's generated code, in an isolated sandbox.

On Linux each program runs in its own mount, network, PID, IPC and user namespaces, on a
read-only root that holds only the system and the Python installation, with limits on CPU time,
memory, file size, disk, processes and wall-clock time; see ``docs/sandbox.md``. Where that is
impossible, running refuses with `SandboxUnavailableError` unless ``allow_unsafe=True``.
"""

from modelmeter.sandbox._errors import SandboxUnavailableError
from modelmeter.sandbox._limits import SandboxLimits, SandboxResult, SandboxStatus
from modelmeter.sandbox._runner import Isolation, isolation_status, run_many, run_python

__all__ = [
    "Isolation",
    "SandboxLimits",
    "SandboxResult",
    "SandboxStatus",
    "SandboxUnavailableError",
    "isolation_status",
    "run_many",
    "run_python",
]
