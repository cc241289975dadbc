"""The one exception tree of modelmeter.

    ModelmeterError
    ├── SpecError            a spec file is malformed or names something that does not exist
    │   ├── CatalogueError       a price catalogue cannot be read or lacks the model asked for
    │   └── PreflightFailed      a target did not answer the one request sent before measuring
    ├── DatasetError         a dataset file or row is malformed (carries path and line)
    ├── ModelError           a model artefact cannot be loaded or run
    ├── ServerError          a local server could not be started or did not become ready
    ├── StoreError           the run store cannot be opened, or a run is not in it
    ├── AccessDenied         the gateway refused a request: its key, a limit or a budget
    ├── SandboxUnavailableError  generated code cannot be isolated here (and unsafe was not allowed)
    ├── WorkerFailed         a load-generator process ended without finishing its share
    ├── CompareError         two runs cannot be compared as asked (modelmeter compare)
    ├── NotifyError          a webhook could not be reached or refused a notification
    ├── CurrencyMismatchError  costs in different currencies were about to be compared
    ├── PlanError            a capacity plan, manifest or business case cannot be made
    └── TargetError          one request to a target failed; `kind` says how, `target` and
        │                    `url` say where (once known)
        ├── RequestTimeout       no complete answer within the timeout
        ├── ConnectFailed        the connection could not be opened (refused, unreachable)
        ├── ConnectionReset      the connection broke before the whole answer arrived
        ├── ProtocolFailure      the answer broke the protocol (bad JSON, missing field)
        ├── HTTPStatusFailure    the server answered with a non-2xx status
        └── ModelFailure         an in-process model raised while answering

CurrencyMismatchError and PlanError are also ``ValueError``s: they are raised for arguments a
caller of the library gave.

Only the CLI turns these into messages and exit codes; library code raises them with enough
context (file, line, field path) that the message alone tells a user what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Self


class ModelmeterError(Exception):
    """Base class of every error modelmeter raises on purpose."""


class SpecError(ModelmeterError):
    """A spec is invalid. ``path`` is the file, ``field`` the dotted field path when known."""

    def __init__(self, message: str, *, path: Path | None = None, field: str | None = None) -> None:
        self.message = message
        self.path = path
        self.field = field
        where = ""
        if path is not None:
            where = f"{path}: "
        if field:
            where += f"{field}: "
        super().__init__(f"{where}{message}")


class PreflightFailed(SpecError):
    """A target did not answer the one request sent to every target before measuring;
    ``failures`` has one line per target (name, URL, status, start of the body)."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = list(failures)
        count = len(self.failures)
        head = f"{count} target{'s' if count != 1 else ''} did not answer the preflight request"
        super().__init__(
            f"{head} (nothing was measured; --no-preflight measures anyway):\n  "
            + "\n  ".join(self.failures)
        )


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


class AccessDenied(ModelmeterError):
    """A gateway request refused for its key, a limit or a budget: the HTTP ``status`` (401,
    403, 429), the OpenAI-style error ``kind`` and, where a retry can succeed, when."""

    def __init__(
        self, status: int, message: str, kind: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.retry_after_s = retry_after_s


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
    """One request to a target failed.

    ``target`` and ``url`` name where, once the code that knows them has called
    :meth:`located` (the request path does not, to stay fast: failures of single requests are
    counted per target anyway); the message then starts with them.
    """

    kind: ErrorKind = ErrorKind.PROTOCOL
    target: str | None = None
    url: str | None = None

    def located(self, target: str, url: str | None = None) -> Self:
        """Record which target (and URL) failed, unless already recorded; returns ``self``."""
        if self.target is None:
            self.target = target
            self.url = url
        return self

    def __str__(self) -> str:
        message = super().__str__()
        if self.target is None:
            return message
        at = f" at {self.url}" if self.url else ""
        return f"target '{self.target}'{at}: {message}"


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


class ModelFailure(TargetError):
    """The in-process model raised while answering."""

    kind = ErrorKind.MODEL


class CatalogueError(SpecError):
    """A price catalogue cannot be read, or does not list the model asked for.

    ``path`` is the catalogue file when known, ``key`` the model key concerned, ``close_matches``
    the catalogue keys closest to a key that is missing.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        key: str | None = None,
        close_matches: list[str] | None = None,
    ) -> None:
        self.key = key
        self.close_matches = list(close_matches or [])
        super().__init__(message, path=path)


class WorkerFailed(ModelmeterError):
    """A load worker process ended without finishing its share (killed, crashed), or raised
    something that cannot be rebuilt in the parent."""


class CompareError(ModelmeterError):
    """BASELINE and NEW cannot be compared as asked. ``path`` is the report file, when one.

    It is a user's input that must change (a file that is not a report, a model name that is
    not in the run, runs that share no items), so the CLI turns it into one line and exit 2.
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)


class NotifyError(ModelmeterError):
    """A webhook could not be reached, or refused a notification (`modelmeter watch`)."""


class CurrencyMismatchError(ModelmeterError, ValueError):
    """Costs in different currencies were about to be compared.

    ``currencies`` maps each currency code to the names of the models priced in it.
    """

    def __init__(self, currencies: Mapping[str, list[str]]) -> None:
        self.currencies = {code: list(names) for code, names in currencies.items()}
        listing = "; ".join(
            f"{code}: {', '.join(names)}" for code, names in sorted(self.currencies.items())
        )
        super().__init__(
            "costs are in different currencies and modelmeter does not convert between them "
            f"({listing}); price every model in the same currency"
        )


class PlanError(ModelmeterError, ValueError):
    """A capacity plan, manifest or business case cannot be made from the figures given.

    ``argument`` names the figure at fault (e.g. ``per_replica_rps``) when there is one.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        self.argument = argument
        super().__init__(f"{argument}: {message}" if argument else message)
