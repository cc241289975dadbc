"""Run untrusted Python programs (a model's code) in a sandbox, one process tree per program.

The parent side: it writes the program into a fresh temporary directory, starts
``_launcher.py`` (which builds the sandbox and runs the program, see its docstring for each
step) in a session of its own with a minimal environment, captures stdout and stderr up to a
bound, enforces the wall-clock timeout and removes the directory afterwards. Whether isolation
works here is probed once, by running a tiny program through the real launcher, because only
trying tells: user namespaces may be disabled by a sysctl, restricted by AppArmor, or refused by
a container's seccomp profile. Where it does not work, running refuses with
`SandboxUnavailableError` unless the caller passes ``allow_unsafe=True``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from modelmeter._process import process_alive
from modelmeter.sandbox import _cgroup
from modelmeter.sandbox._errors import SandboxUnavailableError
from modelmeter.sandbox._limits import SandboxLimits, SandboxResult, SandboxStatus
from modelmeter.sandbox._supervise import supervise

__all__ = ["Isolation", "isolation_status", "run_many", "run_python"]

_LAUNCHER = Path(__file__).with_name("_launcher.py")
SANDBOX_DIR = "/sandbox"  # the program's directory inside an isolated sandbox (see _launcher)
NOBODY = 65534
_MEMORY_ERROR = re.compile(r"^(?:[\w.]+\.)?\w*MemoryError\b")
_UNSAFE_NOTE = (
    "unsafe run: not isolated; the program could use the network and read or write any file "
    "its user may"
)


class Isolation(NamedTuple):
    """Whether programs can be run isolated here, and why (or why not)."""

    available: bool
    reason: str


_probe_lock = threading.Lock()
_probed: Isolation | None = None


def isolation_status() -> Isolation:
    """Probe once whether the sandbox can isolate programs here, then answer from the cache."""
    global _probed
    with _probe_lock:
        if _probed is None:
            _probed = _probe()
        return _probed


def _probe() -> Isolation:
    if sys.platform != "linux":
        return Isolation(False, f"isolation uses Linux namespaces, and this is {sys.platform}")
    limits = SandboxLimits(timeout_s=60)
    result = _execute("print('sandbox-probe')", limits, isolated=True)
    if result.status == "ok" and result.stdout.strip() == "sandbox-probe":
        groups = _cgroup.support()
        memory = (
            f"memory and processes bounded for the whole program by {groups.reason}"
            if groups.available
            else f"memory bounded per process only (no cgroup: {groups.reason})"
        )
        return Isolation(
            True,
            "Linux namespaces (mount, network, PID, IPC, user) with a read-only allow-listed "
            f"root file system; {memory}",
        )
    detail = result.reason
    if result.status != "error" and result.stderr.strip():
        detail += ": " + result.stderr.strip()[-500:]
    return Isolation(False, f"a test program could not be run isolated ({detail})")


def _choose_isolated(allow_unsafe: bool, isolation: Isolation | None) -> bool:
    if os.name != "posix":
        raise SandboxUnavailableError(
            "running generated code needs a POSIX system (resource limits, process groups); "
            f"this is {sys.platform}, where it cannot be run even unsafely"
        )
    status = isolation if isolation is not None else isolation_status()
    if status.available:
        return True
    if allow_unsafe:
        return False
    raise SandboxUnavailableError(
        f"generated code cannot be run isolated here: {status.reason}. Pass allow_unsafe=True "
        "(allow_unsafe: true in a spec) to run it anyway with resource limits, a timeout and a "
        "temporary directory only: no network or file-system isolation"
    )


def run_python(
    code: str,
    *,
    limits: SandboxLimits | None = None,
    allow_unsafe: bool = False,
    isolation: Isolation | None = None,
) -> SandboxResult:
    """Run the Python program ``code`` in a sandbox and say how it ended.

    ``isolation`` replaces the probe's answer (`isolation_status`), for a caller that knows
    better or a test of the refusal. Raises `SandboxUnavailableError` where isolation is not
    possible and ``allow_unsafe`` is False.
    """
    isolated = _choose_isolated(allow_unsafe, isolation)
    return _execute(code, limits or SandboxLimits(), isolated=isolated)


def run_many(
    programs: Iterable[str],
    *,
    limits: SandboxLimits | None = None,
    allow_unsafe: bool = False,
    workers: int | None = None,
    isolation: Isolation | None = None,
    cancel: threading.Event | None = None,
) -> list[SandboxResult]:
    """Run many programs, at most ``workers`` at a time (default: one per CPU), results in
    order. Each has the whole of ``limits`` to itself. Setting ``cancel`` (from another
    thread: a Ctrl-C) stops the batch within a fraction of a second: running programs are
    killed and the rest never start; their results have status ``error``, reason
    "cancelled"."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    isolated = _choose_isolated(allow_unsafe, isolation)
    chosen = limits or SandboxLimits()
    items = list(programs)
    if not items:
        return []
    count = min(workers or os.cpu_count() or 1, len(items))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="sandbox") as pool:
        return list(
            pool.map(lambda code: _execute(code, chosen, isolated=isolated, cancel=cancel), items)
        )


# ---------------------------------------------------------------------------------------------
# One run


def _interpreter() -> str:
    """The real interpreter binary: the program runs on the base installation's standard
    library, never on this environment's packages (or a virtualenv that could not be seen)."""
    return os.path.realpath(sys.executable)


def _runtime_paths(python: str) -> list[str]:
    """Directories the interpreter needs, bound read-only into an isolated sandbox."""
    paths = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix)}
    paths.add(os.path.dirname(python))
    return sorted(paths, key=len)


def _reachable_by_others(path: str) -> bool:
    """True when a user who is neither owner nor group can reach ``path`` (execute bit on
    every directory above it)."""
    for parent in Path(path).parents:
        with contextlib.suppress(OSError):
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
    return True


def _environment(home: str) -> dict[str, str]:
    """Nothing of the parent's environment: no API keys, no proxies, no PYTHON* settings."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8"}


def _privileges(
    isolated: bool, python: str, tmp: Path, work: Path, program: Path
) -> tuple[int | None, tuple[str, ...]]:
    """The uid the program runs as (None: unchanged), and what the result should note."""
    notes: tuple[str, ...] = () if isolated else (_UNSAFE_NOTE,)
    if os.geteuid() != 0:
        return None, notes
    if isolated:
        return NOBODY, notes
    needed = [python, *(os.path.join(p, "lib") for p in _runtime_paths(python)), str(program)]
    if not all(_reachable_by_others(path) for path in needed):
        return None, (
            *notes,
            "ran as root, so the process limit was not enforced: the interpreter is not "
            f"reachable by uid {NOBODY}",
        )
    tmp.chmod(0o711)
    for path in (work, program):
        os.chown(path, NOBODY, NOBODY)
    return NOBODY, (*notes, f"ran as uid {NOBODY}")


def _events(raw: bytes) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for line in raw.splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.append(event)
    return events


def _classify(
    events: list[dict[str, Any]],
    launcher_status: int | None,
    stderr: str,
    timed_out: bool,
    limits: SandboxLimits,
    oom_kills: int,
) -> tuple[SandboxStatus, int | None, str]:
    if timed_out:
        return "timeout", None, f"wall-clock timeout after {limits.timeout_s:g} s"
    for event in events:
        if event.get("event") == "error":
            return "error", None, f"sandbox setup failed: {event.get('message', '')}"
    status, returncode, reason = _classify_end(events, launcher_status, stderr, limits)
    if oom_kills and status in ("failed", "killed"):
        # The group ran out of memory: the kernel killed the program or one of its processes
        # (whose parent then failed, or was killed in turn).
        return (
            "memory",
            returncode,
            (
                f"memory limit of {limits.memory_mb} MB for the whole program reached: the kernel "
                f"stopped {oom_kills} of its processes"
            ),
        )
    return status, returncode, reason


def _classify_end(
    events: list[dict[str, Any]],
    launcher_status: int | None,
    stderr: str,
    limits: SandboxLimits,
) -> tuple[SandboxStatus, int | None, str]:
    ends = [event for event in events if event.get("event") == "exit"]
    if not ends:
        return (
            "error",
            None,
            (f"the sandbox launcher ended without a report (exit status {launcher_status})"),
        )
    end = ends[-1]
    number = end.get("signal")
    if isinstance(number, int):
        cpu_s = float(end.get("cpu_s") or 0.0)
        # SIGXCPU comes at the CPU limit; SIGKILL one second later if the program ignored it.
        if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu_s >= limits.cpu_s):
            return "timeout", -number, f"CPU time limit of {limits.cpu_s} s reached"
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return "killed", -number, f"killed by {name}"
    code = int(end.get("code") or 0)
    if code == 0:
        return "ok", 0, "exit code 0"
    lines = [line for line in stderr.splitlines() if line.strip()]
    if lines and _MEMORY_ERROR.match(lines[-1].strip()):
        return "memory", code, f"memory limit of {limits.memory_mb} MB reached (MemoryError)"
    reason = f"exit code {code}"
    if "[Errno 27] File too large" in stderr:
        reason += f"; file size limit of {limits.file_size_mb} MB reached"
    if "[Errno 28] No space left on device" in stderr:
        reason += f"; disk limit of {limits.disk_mb} MB reached"
    return "failed", code, reason


def _remove(path: Path) -> None:
    """Remove the temporary directory even where the program took permissions away."""

    def retry(function: Any, target: str, _error: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), 0o700)
            if os.path.isdir(target) and not os.path.islink(target):
                os.chmod(target, 0o700)
                shutil.rmtree(target, ignore_errors=True)
            else:
                function(target)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


_TMP_PREFIX = "modelmeter-sandbox-"
_orphans_lock = threading.Lock()
_orphans_removed = False


def _remove_orphan_folders() -> None:
    """Remove the temporary folders of modelmeter processes that are gone: one killed with
    SIGKILL while a program ran left its folder behind. Folders carry their maker's pid."""
    global _orphans_removed
    with _orphans_lock:
        if _orphans_removed:
            return
        _orphans_removed = True
    with contextlib.suppress(OSError):
        for folder in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*"):
            pid = folder.name.removeprefix(_TMP_PREFIX).split("-", 1)[0]
            if pid.isdigit() and not process_alive(int(pid)):
                _remove(folder)


def _program_group(limits: SandboxLimits) -> tuple[_cgroup.ProgramCgroup | None, tuple[str, ...]]:
    """The program's cgroup, or None and a note saying why memory is bounded per process."""
    groups = _cgroup.support()
    reason = groups.reason
    if groups.available:
        try:
            return _cgroup.create(limits.memory_mb * 1024 * 1024, limits.max_processes), ()
        except _cgroup.CgroupError as exc:
            reason = str(exc)
    return None, (
        f"memory bounded per process only ({limits.memory_mb} MB each, up to "
        f"{limits.max_processes} processes), not for the whole program: no cgroup ({reason})",
    )


def _cancelled(isolated: bool) -> SandboxResult:
    return SandboxResult(
        status="error",
        returncode=None,
        stdout="",
        stderr="",
        duration_s=0.0,
        isolated=isolated,
        reason="cancelled before it ran",
    )


def _execute(
    code: str, limits: SandboxLimits, *, isolated: bool, cancel: threading.Event | None = None
) -> SandboxResult:
    if cancel is not None and cancel.is_set():
        return _cancelled(isolated)
    python = _interpreter()
    _remove_orphan_folders()
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-"))
    group: _cgroup.ProgramCgroup | None = None
    try:
        work = tmp / "work"
        work.mkdir()
        program = work / "main.py"
        program.write_text(code, encoding="utf-8")
        drop, notes = _privileges(isolated, python, tmp, work, program)
        group, memory_notes = _program_group(limits)
        notes = (*notes, *memory_notes)
        staging = tmp / "root"
        staging.mkdir()
        config = {
            "mode": "isolated" if isolated else "unsafe",
            "python": python,
            "program": str(program),
            "staging": str(staging),
            "expose": _runtime_paths(python),
            "drop_uid": drop,
            "drop_gid": drop,
            "limits": limits.model_dump(),
            "parent_pid": os.getpid(),
            "cgroup_procs": group.procs_files if group is not None else [],
        }
        home = SANDBOX_DIR if isolated else str(work)
        return _launch(config, _environment(home), work, limits, isolated, notes, group, cancel)
    finally:
        if group is not None:
            group.remove()
        _remove(tmp)


def _launch(
    config: dict[str, Any],
    env: dict[str, str],
    work: Path,
    limits: SandboxLimits,
    isolated: bool,
    notes: tuple[str, ...],
    group: _cgroup.ProgramCgroup | None,
    cancel: threading.Event | None,
) -> SandboxResult:
    start = time.monotonic()
    status_read, status_write = os.pipe()
    command = [sys.executable, "-I", "-S", str(_LAUNCHER), json.dumps(config), str(status_write)]
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(status_write,),
            cwd=work,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        os.close(status_read)
        return SandboxResult(
            status="error",
            returncode=None,
            stdout="",
            stderr="",
            duration_s=time.monotonic() - start,
            isolated=isolated,
            reason=f"the sandbox launcher could not be started: {exc}",
            notes=notes,
        )
    finally:
        os.close(status_write)
    with process:
        outputs, status, timed_out = supervise(
            process, status_read, limits, isolated, start, cancel
        )
    if group is not None:
        group.kill()  # unsafe runs: processes that left the process group
    stdout, stderr = outputs
    events = _events(status)
    oom_kills = group.oom_kills() if group is not None else 0
    kind, returncode, reason = _classify(
        events, process.returncode, stderr, timed_out, limits, oom_kills
    )
    if timed_out and cancel is not None and cancel.is_set():
        kind, reason = "error", "cancelled while it ran"
    notes = (*notes, *(str(e.get("message", "")) for e in events if e.get("event") == "note"))
    peak = group.peak_bytes() if group is not None else None
    return SandboxResult(
        status=kind,
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        duration_s=time.monotonic() - start,
        isolated=isolated,
        reason=reason,
        notes=notes,
        peak_memory_mb=peak / (1024 * 1024) if peak is not None else None,
    )
