"""The one exception tree of modelmeter.

    ModelmeterError
    ├── SpecError            a spec file is malformed or names something that does not exist
    ├── DatasetError         a dataset file or row is malformed (carries path and line)
    ├── ModelError           a model artefact cannot be loaded or run
    ├── ServerError          a local server could not be started or did not become ready
    ├── StoreError           the run store cannot be opened, or a run is not in it
    ├── SandboxUnavailableError  generated code cannot be isolated here (and unsafe was not allowed)
    └── TargetError          one request to a target failed; `kind` says how
        ├── RequestTimeout       no complete answer within the timeout
        ├── ConnectFailed        the connection could not be opened (refused, unreachable)
        ├── ConnectionReset      the connection broke before the whole answer arrived
        ├── ProtocolFailure      the answer broke the protocol (bad JSON, missing field)
        └── HTTPStatusFailure    the server answered with a non-2xx status

Only the CLI turns these into messages and exit codes; library code raises them with enough
context (file, line, field path) that the message alone tells a user what to fix.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class ModelmeterError(Exception):
    """Base class of every error modelmeter raises on purpose."""


class SpecError(ModelmeterError):
    """A spec is invalid. ``path`` is the file, ``field`` the dotted field path when known."""

    def __init__(self, message: str, *, path: Path | None = None, field: str | None = None) -> None:
        self.path = path
        self.field = field
        where = ""
        if path is not None:
            where = f"{path}: "
        if field:
            where += f"{field}: "
        super().__init__(f"{where}{message}")


class DatasetError(ModelmeterError):
    """A dataset is invalid. ``line`` is 1-based (the header counts as line 1 in CSV)."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class ModelError(ModelmeterError):
    """A model artefact cannot be loaded or run."""


class ServerError(ModelmeterError):
    """A local server could not be started or did not become ready."""


class StoreError(ModelmeterError):
    """The run store cannot be opened, or the run asked for is not in it."""


class SandboxUnavailableError(ModelmeterError):
    """Generated code cannot be run isolated here, and unsafe runs were not allowed."""


class ErrorKind(StrEnum):
    """How a request failed; reports count failures by these names."""

    TIMEOUT = "timeout"
    CONNECT = "connect"
    RESET = "reset"
    PROTOCOL = "protocol"
    HTTP_STATUS = "http_status"
    MODEL = "model"


class TargetError(ModelmeterError):
    """One request to a target failed."""

    kind: ErrorKind = ErrorKind.PROTOCOL


class RequestTimeout(TargetError):
    kind = ErrorKind.TIMEOUT


class ConnectFailed(TargetError):
    kind = ErrorKind.CONNECT


class ConnectionReset(TargetError):
    kind = ErrorKind.RESET


class ProtocolFailure(TargetError):
    kind = ErrorKind.PROTOCOL


class HTTPStatusFailure(TargetError):
    kind = ErrorKind.HTTP_STATUS

    def __init__(self, status: int, body: str = "") -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}: {body[:200]}")
