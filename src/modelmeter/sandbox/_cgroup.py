"""One control group per sandboxed program: a memory and process budget for the whole program.

Resource limits (``setrlimit``) bound each process on its own: a program that forks twelve
children of 200 MB each stays under a 256 MB address-space limit in every one of them and still
takes 2.4 GB, and memory that belongs to no process's address space (``memfd_create`` files,
System V segments, files in a tmpfs, the kernel memory of empty files and open files) counts
against no limit at all. A cgroup's memory controller charges all of it, to the group, whichever
process made it: one budget for the program, its children and everything they keep in memory.

Where the group lives. The group is made below the cgroup of this process (cgroup v1: in the
``memory`` and ``pids`` hierarchies; cgroup v2: beside this process's cgroup, because v2 allows
controllers only in groups without processes of their own, and this process's group has one:
this process). That needs write access there: root has it; an unprivileged user has it where
systemd delegated a subtree (``Delegate=yes``, ``systemd-run --user --scope -p Delegate=yes``).
Where no group can be made, `support` says why, and the sandbox bounds memory per process only
and says so in every result.

The launcher moves the program into the group (writing ``0``, "myself", to ``cgroup.procs``)
after it forked it and before it drops privileges, so the launcher's own processes stay outside
the budget and a program that hits it is the one the kernel's OOM killer stops.

Groups are named ``modelmeter-sandbox-<pid>-<n>`` after the process that made them: a group
left by a modelmeter that was killed (SIGKILL runs no cleanup) is removed by the next one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from modelmeter._process import process_alive

__all__ = ["CgroupError", "CgroupSupport", "ProgramCgroup", "create", "support"]

PREFIX = "modelmeter-sandbox-"
_CONTROLLERS = ("memory", "pids")
_REMOVE_WAIT_S = 5.0
_counter = itertools.count()
_lock = threading.Lock()
_support: CgroupSupport | None = None
_orphans_removed = False


class CgroupError(Exception):
    """No group could be made here, or it could not be given its limits; says which and why."""


class CgroupSupport(NamedTuple):
    available: bool
    reason: str


@dataclass(frozen=True, slots=True)
class _Place:
    """Where program groups are made: one folder per hierarchy (v2: one; v1: memory, pids)."""

    version: int
    parents: tuple[Path, ...]


class ProgramCgroup:
    """The group of one program; `remove` it when the program has ended."""

    def __init__(self, version: int, folders: tuple[Path, ...]) -> None:
        self.version = version
        self.folders = folders

    @property
    def procs_files(self) -> list[str]:
        """The files the program writes ``0`` to, to join the group."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def _memory_file(self, v1: str, v2: str) -> Path:
        return self.folders[0] / (v1 if self.version == 1 else v2)

    def oom_kills(self) -> int:
        """Processes of the program the kernel killed because the group was out of memory."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        with contextlib.suppress(OSError, ValueError):
            text = (self.folders[0] / name).read_text()
            found = re.search(r"^oom_kill (\d+)$", text, re.MULTILINE)
            if found:
                return int(found[1])
        return 0

    def peak_bytes(self) -> int | None:
        """The most memory the group held at once (None where the kernel does not say)."""
        with contextlib.suppress(OSError, ValueError):
            return int(self._memory_file("memory.max_usage_in_bytes", "memory.peak").read_text())
        return None

    def kill(self) -> None:
        """Kill every process in the group (v2: at once; v1: until none is left)."""
        kill_file = self.folders[0] / "cgroup.kill"
        if self.version == 2 and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
                return
        for _ in range(100):
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def _pids(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        return sorted(pids)

    def remove(self) -> None:
        """Kill what is left and remove the group's folders; a group is removable only once
        its last process has been reaped, so this waits a little for the kernel."""
        self.kill()
        deadline = time.monotonic() + _REMOVE_WAIT_S
        for folder in self.folders:
            while True:
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)


def support() -> CgroupSupport:
    """Whether program groups can be made here (probed once: a group is made, limited and
    removed), and why not."""
    global _support
    with _lock:
        if _support is None:
            try:
                group = _create(64 * 1024 * 1024, 8)
            except CgroupError as exc:
                _support = CgroupSupport(False, str(exc))
            else:
                group.remove()
                where = "cgroup v2" if group.version == 2 else "cgroup v1 (memory, pids)"
                _support = CgroupSupport(True, where)
        return _support


def create(memory_bytes: int, max_processes: int) -> ProgramCgroup:
    """A new group for one program, limited to ``memory_bytes`` of memory (swap included, so
    nothing is pushed out to disk to make room) and ``max_processes`` processes and threads."""
    with _lock:
        return _create(memory_bytes, max_processes)


def _create(memory_bytes: int, max_processes: int) -> ProgramCgroup:
    global _orphans_removed
    place = _place()
    if not _orphans_removed:
        _orphans_removed = True
        for parent in place.parents:
            _remove_orphans(parent)
    name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
    folders: list[Path] = []
    group = ProgramCgroup(place.version, ())
    try:
        for parent in place.parents:
            folder = parent / name
            folder.mkdir()
            folders.append(folder)
        group = ProgramCgroup(place.version, tuple(folders))
        if place.version == 2:
            _write(folders[0] / "memory.max", memory_bytes)
            with contextlib.suppress(FileNotFoundError):  # kernels built without swap
                _write(folders[0] / "memory.swap.max", 0)
            _write(folders[0] / "pids.max", max_processes)
        else:
            memory, pids = folders
            _write(memory / "memory.limit_in_bytes", memory_bytes)
            with contextlib.suppress(FileNotFoundError):  # swap accounting off
                _write(memory / "memory.memsw.limit_in_bytes", memory_bytes)
            _write(pids / "pids.max", max_processes)
    except OSError as exc:
        group.remove()
        for folder in folders:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise CgroupError(f"{exc.filename or 'a cgroup'}: {exc.strerror}") from None
    return group


def _write(path: Path, value: int) -> None:
    path.write_text(str(value))


def _remove_orphans(parent: Path) -> None:
    """Remove the groups of modelmeter processes that are gone (killed before cleaning up)."""
    with contextlib.suppress(OSError):
        for folder in parent.glob(f"{PREFIX}*"):
            pid = folder.name.removeprefix(PREFIX).split("-", 1)[0]
            if pid.isdigit() and not process_alive(int(pid)):
                ProgramCgroup(1, (folder,)).remove()


# ---------------------------------------------------------------------------------------------
# Where this process's groups are, from /proc/self/cgroup and /proc/self/mountinfo


class _Mount(NamedTuple):
    root: str
    point: str
    fstype: str
    options: set[str]


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def _mounts() -> list[_Mount]:
    found: list[_Mount] = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split()
            if "-" not in fields:
                continue
            dash = fields.index("-")
            fstype = fields[dash + 1]
            if fstype in ("cgroup", "cgroup2") and len(fields) > dash + 3:
                options = set(fields[dash + 3].split(","))
                found.append(_Mount(_unescape(fields[3]), _unescape(fields[4]), fstype, options))
    return found


def _folder(mount: _Mount, path: str) -> Path:
    """The folder of cgroup ``path`` under a mount of (part of) its hierarchy."""
    root = mount.root.rstrip("/")
    if root and not (path == root or path.startswith(root + "/")):
        raise CgroupError(f"this process's cgroup {path} is not under {mount.point}")
    return Path(mount.point + path[len(root) :])


def _place() -> _Place:
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as handle:
            lines = [line.rstrip("\n").split(":", 2) for line in handle]
        mounts = _mounts()
    except OSError as exc:
        raise CgroupError(f"cgroups cannot be read here: {exc.strerror}") from None
    v1 = {c: path for _, names, path in lines for c in names.split(",") if names}
    if all(c in v1 for c in _CONTROLLERS):
        parents = []
        for controller in _CONTROLLERS:
            mount = next(
                (m for m in mounts if m.fstype == "cgroup" and controller in m.options), None
            )
            if mount is None:
                raise CgroupError(f"the cgroup v1 {controller} hierarchy is not mounted")
            parents.append(_folder(mount, v1[controller]))
        return _Place(1, tuple(parents))
    unified = next((path for number, names, path in lines if number == "0" and not names), None)
    mount = next((m for m in mounts if m.fstype == "cgroup2"), None)
    if unified is None or mount is None:
        raise CgroupError("no cgroup memory controller is available to this process")
    own = _folder(mount, unified)
    # v2: controllers only in groups without processes; this process's group has one (this
    # process), so program groups go beside it, where the parent already delegates them.
    parent = own.parent if own != Path(mount.point) else own
    try:
        enabled = (parent / "cgroup.subtree_control").read_text().split()
    except OSError as exc:
        raise CgroupError(f"{parent}: {exc.strerror}") from None
    missing = [c for c in _CONTROLLERS if c not in enabled]
    if missing:
        raise CgroupError(
            f"cgroup v2 at {parent} does not hand the {' and '.join(missing)} controller"
            f"{'s' if len(missing) > 1 else ''} down to its groups"
        )
    return _Place(2, (parent,))
