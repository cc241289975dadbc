"""The process that sets up a sandbox and runs the program in it (run as a script, stdlib only).

`modelmeter.sandbox` starts this file as ``python -I -S _launcher.py CONFIG STATUS_FD`` in a new
session, with a minimal environment. It must not import modelmeter: ``-I -S`` keeps the parent's
environment, user site and site-packages out, so nothing but the standard library is imported
before the program runs. It talks back over the status pipe ``STATUS_FD``, one JSON object per
line: ``{"event": "error", "message": ...}`` when the sandbox could not be set up, and
``{"event": "exit", "code": ..., "signal": ..., "cpu_s": ...}`` when the program ended. The
program's stdout and stderr are the launcher's own, which the parent captures.

Isolated mode builds three processes, each for a reason:

* **supervisor** (this process). ``unshare(2)`` puts it into new mount, network, PID and IPC
  namespaces (plus a user namespace when not root, which is what lets an unprivileged user
  create the others). A new PID namespace only applies to children, so it forks:
* **init** (PID 1 of the new PID namespace). It builds the file system the program sees (below)
  and mounts a fresh ``/proc`` that shows only the sandbox's processes, then forks the program
  and reaps every process that exits. When it exits, the kernel kills every process left in the
  namespace, so a program cannot leave anything running behind it: not a fork bomb's children,
  not a daemon that called ``setsid`` to leave the process group. The supervisor stays outside
  the namespace so that the parent can ask it (SIGTERM) to kill init and wait until the
  namespace is gone, instead of killing blindly and returning while processes still die.
* **program**: drops privileges and limits itself, then ``exec``s Python on the program.

The file system is an allow-list: a small tmpfs becomes the new root (``pivot_root``), and only
``/usr``, ``/bin``, ``/lib*``, ``/sbin``, ``/etc`` and the Python installation are bind-mounted
into it, read-only. Home directories, ``/tmp``, ``/run``, ``/var``, ``/proc`` of the host, the
user's projects: none of them exist inside. The program's directory ``/sandbox`` (its cwd, HOME
and TMPDIR) is a tmpfs of bounded size that vanishes with the mount namespace. ``/dev`` is a tmpfs
holding only null, zero, full, random and urandom, and a bounded ``/dev/shm``. The network
namespace has only a loopback interface, down: no address, local or remote, can be reached,
abstract Unix sockets of the host included.

Privileges, limits and their order: as root, the program switches to uid/gid 65534 (nobody),
because RLIMIT_NPROC is not enforced for root and because root could undo the read-only mounts.
Then it enters a user namespace of its own, mapping only its own uid: the kernel then counts
RLIMIT_NPROC per namespace, so concurrent sandboxes do not share one budget of processes, and a
non-root user's program loses the capabilities it had while setting up (it is uid 0 of the outer
user namespace, which owns the mount namespace; in the inner one it is an ordinary uid with no
power over mounts). Resource limits come last, then ``PR_SET_NO_NEW_PRIVS`` so that no setuid
program can give privileges back, then ``exec``. At the CPU limit the kernel sends SIGXCPU (core
dumps are off), and SIGKILL a second later to a program that ignores it; the init process
reports how the program ended and the CPU time it used.

Unsafe mode (``allow_unsafe``) skips the namespaces: the supervisor forks the program, which
drops root (when the interpreter is reachable by uid 65534), limits itself and execs in the
temporary directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import resource
import select
import signal
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
KEYCTL_JOIN_SESSION_KEYRING = 1
ENOSYS = 38
EPERM = 1

# Flags a remount must repeat: in a user namespace the kernel refuses to clear flags that a
# more privileged namespace set (nosuid, nodev, noexec, atime), so they are read and kept.
_KEPT_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME

# Where glibc has no pivot_root symbol the system call is made by number.
_PIVOT_ROOT_SYSCALL = {
    "x86_64": 155,
    "aarch64": 41,
    "riscv64": 41,
    "loongarch64": 41,
    "ppc64le": 203,
    "ppc64": 203,
    "s390x": 217,
    "i686": 217,
    "i386": 217,
    "armv7l": 218,
}

# keyctl(2) has no glibc wrapper either.
_KEYCTL_SYSCALL = {
    "x86_64": 250,
    "aarch64": 219,
    "riscv64": 219,
    "loongarch64": 219,
    "ppc64le": 271,
    "ppc64": 271,
    "s390x": 280,
    "i686": 288,
    "i386": 288,
    "armv7l": 311,
}

SANDBOX_DIR = "/sandbox"
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")
SETUP_FAILED = 125

_child_pid = 0
_terminate = False


class SetupError(Exception):
    """The sandbox could not be built; the message says which step failed and why."""


def _report(status_fd: int, **event: Any) -> None:
    line = json.dumps(event)[:4000] + "\n"
    with contextlib.suppress(OSError):
        os.write(status_fd, line.encode())


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, step: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SetupError(f"{step}: {os.strerror(errno)}")


def _mount(
    libc: ctypes.CDLL,
    source: str | None,
    target: str,
    fstype: str | None,
    flags: int,
    data: str | None = None,
) -> None:
    result = libc.mount(
        source.encode() if source is not None else None,
        target.encode(),
        fstype.encode() if fstype is not None else None,
        ctypes.c_ulong(flags),
        data.encode() if data is not None else None,
    )
    _check(result, f"mount {source or fstype or ''} on {target}")


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as handle:
            handle.write(text)
    except OSError as exc:
        raise SetupError(f"writing {path!r}: {exc.strerror}") from None


def _map_user(inside_uid: int, outside_uid: int, inside_gid: int, outside_gid: int) -> None:
    """Map one uid and gid into the user namespace just entered (the only mapping allowed to an
    unprivileged process); setgroups must be denied before gid_map can be written."""
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{inside_uid} {outside_uid} 1")
    _write("/proc/self/gid_map", f"{inside_gid} {outside_gid} 1")


# ---------------------------------------------------------------------------------------------
# The file system the program sees


def _mount_points_under(root: str) -> list[str]:
    with open("/proc/self/mountinfo", "rb") as handle:
        lines = handle.read().splitlines()
    points: list[str] = []
    for line in lines:
        raw = line.split(b" ")[4]
        point = os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8)]), raw))
        if point.startswith(root + "/") and point not in points:
            points.append(point)
    return points


def _bind_read_only(libc: ctypes.CDLL, newroot: str, paths: list[str]) -> None:
    """Mirror each path into newroot: top-level symlinks (/bin -> usr/bin) as symlinks, real
    directories as recursive read-only bind mounts at the same path."""
    bound: list[str] = []
    for path in paths:
        if not os.path.lexists(path):
            continue
        target = newroot + path
        if os.path.islink(path):
            if not os.path.lexists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(os.readlink(path), target)
            continue
        real = os.path.realpath(path)
        if any(real == done or real.startswith(done + "/") for done in bound):
            continue
        target = newroot + real
        if os.path.isdir(real):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        _mount(libc, real, target, None, MS_BIND | MS_REC)
        bound.append(real)
    for point in _mount_points_under(newroot):
        kept = os.statvfs(point).f_flag & _KEPT_FLAGS
        _mount(libc, None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)


def _build_dev(libc: ctypes.CDLL, dev: str, shm_mb: int, inodes: int) -> None:
    os.makedirs(dev)
    _mount(libc, "tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
    for name in DEVICES:
        open(f"{dev}/{name}", "a").close()
        _mount(libc, f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(f"{dev}/shm")
    _mount(
        libc,
        "tmpfs",
        f"{dev}/shm",
        "tmpfs",
        MS_NOSUID | MS_NODEV | MS_NOEXEC,
        f"mode=1777,size={shm_mb}m,nr_inodes={inodes}",
    )
    _mount(libc, None, dev, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC)


def _pivot_root(libc: ctypes.CDLL, newroot: str) -> None:
    """Make newroot the root and detach the old one, so no path leads back to the host's files.
    (``chroot`` would not do: the old root would stay in the namespace, and a chrooted process
    may not create the user namespace the program enters next.)"""
    os.chdir(newroot)
    if hasattr(libc, "pivot_root"):
        result = libc.pivot_root(b".", b".")
    else:
        number = _PIVOT_ROOT_SYSCALL.get(os.uname().machine)
        if number is None:
            raise SetupError(f"pivot_root: unknown system call number on {os.uname().machine}")
        result = libc.syscall(ctypes.c_long(number), b".", b".")
    _check(result, "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "detaching the old root")
    os.chdir("/")


def _build_filesystem(config: dict[str, Any]) -> None:
    libc = _libc()
    newroot = config["staging"]
    limits = config["limits"]
    # Private first: nothing mounted below may propagate back to the host's namespace.
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, "tmpfs", newroot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    _bind_read_only(libc, newroot, [*SYSTEM_PATHS, *config["expose"]])

    work = newroot + SANDBOX_DIR
    os.makedirs(work)
    _mount(
        libc,
        "tmpfs",
        work,
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        # nr_inodes: without it empty files cost no bytes of the size but kernel memory each.
        f"mode=0700,size={limits['disk_mb']}m,nr_inodes={limits['max_files']}",
    )
    with open(config["program"], "rb") as source, open(f"{work}/main.py", "wb") as copy:
        copy.write(source.read())
    if config["drop_uid"] is not None:
        for path in (work, f"{work}/main.py"):
            os.chown(path, config["drop_uid"], config["drop_gid"])

    _build_dev(libc, newroot + "/dev", limits["disk_mb"], limits["max_files"])
    os.makedirs(newroot + "/proc")
    # A proc mount of this PID namespace: the program sees its own processes only, never the
    # host's (whose /proc/<pid>/environ would hold the parent's secrets).
    _mount(libc, "proc", newroot + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount(libc, None, newroot, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _pivot_root(libc, newroot)
    os.chdir(SANDBOX_DIR)


# ---------------------------------------------------------------------------------------------
# The program process


def _die_with_parent(parent: int | None) -> None:
    """SIGKILL this process when its parent dies, so that nothing of a sandbox outlives the
    modelmeter that started it, even one killed with SIGKILL that runs no cleanup: the launcher
    dies with modelmeter, init with the launcher (taking the PID namespace with it), the
    program with its parent. ``parent``: the pid the parent should have, to catch a parent
    that died before the request was made (None: checked another way by the caller)."""
    _check(_libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if parent is not None and os.getppid() != parent:
        os._exit(SETUP_FAILED)


def _join_cgroup(fds: list[int]) -> None:
    """Move this process (``0``: the writer) into the program's group, while it still has the
    privileges to; every process it starts is born in the group."""
    for fd in fds:
        try:
            os.write(fd, b"0")
        except OSError as exc:
            raise SetupError(f"joining the program's cgroup: {exc.strerror}") from None
        os.close(fd)


def _own_keyring() -> None:
    """Give the program a new, empty session keyring: the one it inherits is the caller's,
    whose keys (tokens a login or a tool stored there) it could otherwise read and add to."""
    number = _KEYCTL_SYSCALL.get(os.uname().machine)
    if number is None:
        raise SetupError(f"keyctl: unknown system call number on {os.uname().machine}")
    libc = _libc()
    if libc.syscall(ctypes.c_long(number), KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        errno = ctypes.get_errno()
        # A kernel without keys, or a seccomp filter that refuses keyctl: the program, which
        # inherits the filter, cannot reach any keyring either.
        if errno not in (ENOSYS, EPERM):
            raise SetupError(f"keyctl(JOIN_SESSION_KEYRING): {os.strerror(errno)}")


def _limit_and_exec(config: dict[str, Any], status_fd: int, isolated: bool, parent: int) -> None:
    """Drop privileges, set the limits and exec the program; only returns by raising."""
    limits = config["limits"]
    drop_uid, drop_gid = config["drop_uid"], config["drop_gid"]
    if sys.platform == "linux":
        _join_cgroup(config["cgroup_fds"])
    try:
        if drop_uid is not None:
            os.setgroups([])
            os.setgid(drop_gid)
            os.setuid(drop_uid)
    except OSError as exc:
        raise SetupError(f"switching to uid {drop_uid}: {exc.strerror}") from None
    if isolated:
        uid, gid = os.geteuid(), os.getegid()
        inside_uid = uid if drop_uid is not None else config["host_uid"]
        inside_gid = gid if drop_uid is not None else config["host_gid"]
        libc = _libc()
        # Undumpable (inherited from init, and changing uid clears the flag too), its /proc
        # files would be root's and it could not write its own uid_map. exec resets it anyway.
        _check(libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
        if libc.unshare(CLONE_NEWUSER) == 0:
            _map_user(inside_uid, uid, inside_gid, gid)
        elif drop_uid is None:
            # Not root: this namespace is what takes the setup capabilities away; required.
            # Root (now uid 65534): it only gives the process limit a budget of its own.
            _check(-1, "unshare(user namespace for the program)")
    if sys.platform == "linux":
        _own_keyring()
    memory = limits["memory_mb"] * 1024 * 1024
    file_size = limits["file_size_mb"] * 1024 * 1024
    nproc = limits["max_processes"]
    files = limits["max_open_files"]
    for name, soft, hard in (
        ("RLIMIT_CORE", 0, 0),
        # SIGXCPU at the limit says unambiguously why the program died; SIGKILL a second
        # later if it ignores that. (The kernel's CPU clock for limits is sampled at ticks,
        # the one reported after death is exact: they differ under load, so "it used its CPU
        # time" cannot be told from the time reported after a SIGKILL.)
        ("RLIMIT_CPU", limits["cpu_s"], limits["cpu_s"] + 1),
        ("RLIMIT_AS", memory, memory),
        ("RLIMIT_FSIZE", file_size, file_size),
        ("RLIMIT_NPROC", nproc, nproc),
        ("RLIMIT_NOFILE", files, files),
    ):
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (OSError, ValueError) as exc:
            # macOS refuses an address-space limit; only there is one limit allowed to fail.
            if not (name == "RLIMIT_AS" and sys.platform != "linux"):
                raise SetupError(f"setting {name} to {soft}: {exc}") from None
    if sys.platform == "linux":
        _check(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        # Last: the kernel clears the parent-death signal whenever credentials change (the
        # switch to uid 65534, entering a user namespace); exec of a plain binary keeps it.
        _die_with_parent(parent)
    python = config["python"]
    program = f"{SANDBOX_DIR}/main.py" if isolated else config["program"]
    try:
        os.execv(python, [python, "-I", "-B", program])
    except OSError as exc:
        who = f" as uid {os.getuid()}" if drop_uid is not None else ""
        raise SetupError(f"starting {python}{who}: {exc.strerror}") from None


def _run_program(config: dict[str, Any], status_fd: int, isolated: bool) -> int:
    """Fork the program, reap every child until it ends, report how it ended."""
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        raise SetupError(f"fork: {exc.strerror}") from None
    if pid == 0:
        try:
            _limit_and_exec(config, status_fd, isolated, parent)
        except SetupError as exc:
            _report(status_fd, event="error", message=str(exc))
        os._exit(SETUP_FAILED)
    while True:
        # As PID 1 this process inherits every orphan; reaping them keeps them off the
        # process limit. The loop ends with the program itself.
        done, status, usage = os.wait4(-1, 0)
        if done == pid:
            break
    cpu_s = usage.ru_utime + usage.ru_stime
    if os.WIFSIGNALED(status):
        _report(status_fd, event="exit", code=None, signal=os.WTERMSIG(status), cpu_s=cpu_s)
    else:
        _report(status_fd, event="exit", code=os.WEXITSTATUS(status), signal=None, cpu_s=cpu_s)
    return 0


def _limit_ipc(limits: dict[str, Any], status_fd: int) -> None:
    """Bound System V shared memory in the new IPC namespace, whose defaults are unbounded:
    segments outlive the processes that made them and count against no address space. (Where
    a kernel before 6.0 refuses these writes to a user namespace, the result says so; the
    program's cgroup, where there is one, still counts the segments.)"""
    memory = limits["memory_mb"] * 1024 * 1024
    for name, value in (
        ("shmmax", memory),
        ("shmall", memory // os.sysconf("SC_PAGE_SIZE")),
        ("shmmni", 64),
    ):
        try:
            _write(f"/proc/sys/kernel/{name}", str(value))
        except SetupError as exc:
            _report(status_fd, event="note", message=f"System V shared memory unbounded: {exc}")
            return


def _open_cgroup(config: dict[str, Any]) -> None:
    """Open the group's ``cgroup.procs`` files while the host's /sys is still in view; the
    program writes to them after the root has changed."""
    try:
        config["cgroup_fds"] = [os.open(path, os.O_WRONLY) for path in config["cgroup_procs"]]
    except OSError as exc:
        raise SetupError(f"opening the program's cgroup {exc.filename}: {exc.strerror}") from None


def _init(config: dict[str, Any], status_fd: int, lifeline: int) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # init's parent, the launcher, is outside this PID namespace (getppid() says 0): whether it
    # died before PR_SET_PDEATHSIG took effect is told by the pipe only it holds open.
    _die_with_parent(None)
    if select.select([lifeline], [], [], 0)[0]:
        os._exit(SETUP_FAILED)
    os.close(lifeline)
    # Not dumpable: the program (the same outer uid when not root) must not reach this
    # process's files in /proc, such as its status pipe through /proc/1/fd, to forge a report.
    _check(_libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
    _open_cgroup(config)
    _limit_ipc(config["limits"], status_fd)
    try:
        _build_filesystem(config)
    except OSError as exc:
        raise SetupError(f"building the sandbox file system: {exc}") from None
    return _run_program(config, status_fd, isolated=True)


def _on_terminate(signum: int, frame: object) -> None:
    """The parent's timeout: kill init, which takes the whole PID namespace with it."""
    global _terminate
    _terminate = True
    if _child_pid:
        with contextlib.suppress(OSError):
            os.kill(_child_pid, signal.SIGKILL)


def _isolated(config: dict[str, Any], status_fd: int) -> int:
    global _child_pid
    libc = _libc()
    config["host_uid"], config["host_gid"] = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    root = os.geteuid() == 0
    if not root:
        flags |= CLONE_NEWUSER
    _check(libc.unshare(flags), "unshare(mount, network, PID, IPC namespaces)")
    if not root:
        _map_user(0, config["host_uid"], 0, config["host_gid"])
        _die_with_parent(config["parent_pid"])  # entering the user namespace cleared it
    signal.signal(signal.SIGTERM, _on_terminate)
    lifeline, held = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(held)
        code = SETUP_FAILED
        try:
            code = _init(config, status_fd, lifeline)
        except SetupError as exc:
            _report(status_fd, event="error", message=str(exc))
        except BaseException as exc:
            _report(status_fd, event="error", message=f"sandbox init failed: {exc!r}")
        os._exit(code)
    _child_pid = pid
    os.close(lifeline)
    if _terminate:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return 0


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    status_fd = int(sys.argv[2])
    os.set_inheritable(status_fd, False)
    config["cgroup_fds"] = []
    try:
        if sys.platform == "linux":
            _die_with_parent(config["parent_pid"])
        if config["mode"] == "isolated":
            code = _isolated(config, status_fd)
        else:
            _open_cgroup(config)
            code = _run_program(config, status_fd, isolated=False)
    except SetupError as exc:
        _report(status_fd, event="error", message=str(exc))
        code = SETUP_FAILED
    os._exit(code)


if __name__ == "__main__":
    main()
