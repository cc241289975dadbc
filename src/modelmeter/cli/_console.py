"""Terminal output shared by the commands: consoles, progress bars, friendly errors."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from modelmeter._exceptions import (
    DatasetError,
    ModelmeterError,
    SpecError,
)

console = Console(stderr=True)
stdout = Console()

P = ParamSpec("P")
R = TypeVar("R")

# Exit codes: 2 for a user's input that must be fixed (spec, dataset, arguments), 1 otherwise.
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # the shell's convention: 128 + SIGINT


def client_ceiling() -> float | None:
    """This host's calibrated ceiling in req/s, when `modelmeter calibrate` ran here."""
    from modelmeter.calibrate.store import load_calibration

    calibration = load_calibration()
    return calibration.requests_per_s if calibration else None


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn modelmeter's errors into one red line and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (SpecError, DatasetError) as exc:
            console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ModelmeterError as exc:
            console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(EXIT_FAILED) from None
        except KeyboardInterrupt:
            # Ctrl-C outside a measurement (a measurement keeps its partial results itself).
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper


class RichProgress:
    """A ProgressListener drawn with rich; one bar per step, finished bars stay visible."""

    def __init__(self) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[live]}"),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def begin(self, description: str, total: int | None) -> None:
        self._task = self._progress.add_task(description, total=total, live="")

    def set_live(self, text: str) -> None:
        """A line of live figures after the current step's bar."""
        if self._task is not None:
            self._progress.update(self._task, live=text)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def end(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            if task.total is None:
                self._progress.update(self._task, total=task.completed or 1)
            self._progress.update(self._task, completed=task.total)
            self._progress.stop_task(self._task)
            self._task = None

    def note(self, text: str) -> None:
        self._progress.console.print(f"[yellow]{text}[/]", highlight=False)
