"""The resource limits of one sandboxed run, and the result it gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SandboxLimits", "SandboxResult", "SandboxStatus"]

SandboxStatus = Literal["ok", "failed", "timeout", "memory", "killed", "error"]


class SandboxLimits(BaseModel):
    """What one program may use. The defaults suit a unit-test style check of generated code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_s: int = Field(
        default=10,
        ge=1,
        le=3600,
        description="CPU seconds the program may use (RLIMIT_CPU); it is killed when it has.",
    )
    memory_mb: int = Field(
        default=1024,
        ge=64,
        le=1024 * 1024,
        description="Memory in MiB of the whole program: every process it starts, the files "
        "it writes to its memory-backed directories and any shared memory, counted together "
        "by a cgroup where the host allows one (the kernel stops the program at the limit); "
        "each process is also held to it as its address space (RLIMIT_AS), so that one large "
        "allocation fails with MemoryError. Below 64 MiB the interpreter cannot start.",
    )
    file_size_mb: int = Field(
        default=16,
        ge=1,
        le=1024 * 1024,
        description="Largest file the program may write, in MiB (RLIMIT_FSIZE); a write "
        "beyond it fails with 'File too large'.",
    )
    disk_mb: int = Field(
        default=64,
        ge=1,
        le=1024 * 1024,
        description="Size in MiB of the program's directory, and separately of its /dev/shm "
        "(isolated mode: memory-backed tmpfs). Unsafe mode has no such bound.",
    )
    max_processes: int = Field(
        default=64,
        ge=1,
        le=100_000,
        description="Processes and threads the program may have at once (RLIMIT_NPROC); "
        "fork fails beyond it, which is what stops a fork bomb.",
    )
    max_open_files: int = Field(
        default=256,
        ge=16,
        le=1024 * 1024,
        description="Files, sockets and pipes each process may have open at once "
        "(RLIMIT_NOFILE); each open file holds kernel memory.",
    )
    max_files: int = Field(
        default=10_000,
        ge=16,
        le=10_000_000,
        description="Files and folders the program may create in its directory, and "
        "separately in its /dev/shm (tmpfs inodes): an empty file costs no disk bytes but "
        "kernel memory.",
    )
    timeout_s: float = Field(
        default=15.0,
        gt=0,
        le=24 * 3600,
        description="Wall-clock seconds from start to end, sandbox setup included; on expiry "
        "every process of the program is killed.",
    )
    output_kb: int = Field(
        default=64,
        ge=1,
        le=1024 * 1024,
        description="KiB kept of stdout and of stderr each; beyond it the start and the end "
        "are kept and the middle is dropped (the program is never blocked by its output).",
    )


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """How one program ended.

    ``status``: ``ok`` (exit code 0), ``failed`` (another exit code), ``timeout`` (the wall-clock
    or CPU limit), ``memory`` (it died of MemoryError), ``killed`` (a signal, e.g. SIGSEGV),
    ``error`` (the sandbox itself could not run it). ``reason`` says the same in words, with the
    limit involved. ``returncode`` is the exit code, or minus the signal number, or None when
    the program never ran or was killed on timeout. ``isolated`` is False for an unsafe run, and
    ``notes`` then says what protection was missing (also where memory could be bounded only
    per process). ``peak_memory_mb``: the most memory the whole program held at once, where a
    cgroup measured it.
    """

    status: SandboxStatus
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    isolated: bool
    reason: str = ""
    notes: tuple[str, ...] = field(default=())
    peak_memory_mb: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"
