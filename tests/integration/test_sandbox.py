"""The sandbox against escape attempts, each checked by its effect outside the sandbox.

Every attempt runs for real: a TCP server the program must not reach, a canary file in the real
home directory, a file outside the temporary directory, a secret in the parent's environment,
a fork bomb whose processes must all be gone afterwards. Where this machine can create the
namespaces (util-linux ``unshare`` tells, independently of our code), the sandbox must be
available; elsewhere the isolation tests are skipped, never silently passed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from modelmeter._exceptions import ModelmeterError
from modelmeter.sandbox import (
    Isolation,
    SandboxLimits,
    SandboxResult,
    SandboxUnavailableError,
    _runner,
    isolation_status,
    run_many,
    run_python,
)
from tests._processes import processes_with

FAST = SandboxLimits(cpu_s=5, timeout_s=60)


def _kernel_allows_namespaces() -> bool:
    """An oracle independent of modelmeter: can util-linux create the same namespaces?"""
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    command = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--ipc"]
    command += ["--fork", "--mount-proc", "true"]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


KERNEL_ALLOWS = _kernel_allows_namespaces()
needs_isolation = pytest.mark.skipif(
    not KERNEL_ALLOWS, reason="this machine cannot create user/mount/net/pid namespaces"
)


def _run(code: str, limits: SandboxLimits = FAST) -> SandboxResult:
    return run_python(textwrap.dedent(code), limits=limits)


class _Listener:
    """A TCP or abstract Unix socket server that records every connection it accepts."""

    def __init__(self, family: int, address: object) -> None:
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.bind(address)
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.accepted: list[object] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, peer = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(peer)
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()


@pytest.fixture
def tcp_server() -> Iterator[_Listener]:
    server = _Listener(socket.AF_INET, ("127.0.0.1", 0))
    yield server
    server.close()


# ---------------------------------------------------------------------------------------------
# Availability, refusal, the unsafe flag


def test_the_facade_is_sorted_and_resolves() -> None:
    import modelmeter.sandbox as sandbox

    assert sandbox.__all__ == sorted(sandbox.__all__)
    for name in sandbox.__all__:
        assert getattr(sandbox, name) is not None


def test_isolation_is_available_where_the_kernel_allows_it() -> None:
    status = isolation_status()
    if KERNEL_ALLOWS:
        assert status.available, status.reason
    else:
        assert not status.available
        assert status.reason


def test_refuses_without_isolation_and_names_the_unsafe_flag() -> None:
    with pytest.raises(SandboxUnavailableError) as caught:
        run_python("print(1)", isolation=Isolation(False, "no namespaces in this test"))
    message = str(caught.value)
    assert "no namespaces in this test" in message
    assert "allow_unsafe=True" in message
    assert isinstance(caught.value, ModelmeterError)
    with pytest.raises(SandboxUnavailableError):
        run_many(["print(1)"], isolation=Isolation(False, "no namespaces in this test"))


def test_the_cached_probe_answer_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_runner, "_probed", Isolation(False, "probe said no"))
    assert isolation_status() == Isolation(False, "probe said no")
    with pytest.raises(SandboxUnavailableError, match="probe said no"):
        run_python("print(1)")


def test_unsafe_flag_runs_with_limits_and_says_so() -> None:
    no = Isolation(False, "simulated")
    limits = SandboxLimits(cpu_s=1, timeout_s=60)
    result = run_python("print('hello')", limits=limits, allow_unsafe=True, isolation=no)
    assert result.status == "ok"
    assert result.stdout == "hello\n"
    assert result.isolated is False
    assert any("not isolated" in note for note in result.notes)
    spin = run_python("while True: pass", limits=limits, allow_unsafe=True, isolation=no)
    assert spin.status == "timeout"
    assert "CPU time limit" in spin.reason
    assert spin.isolated is False


def test_unsafe_run_has_a_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-{uuid.uuid4().hex}"
    monkeypatch.setenv("MODELMETER_TEST_API_KEY", secret)
    code = "import os; print(sorted(os.environ.items()))"
    result = run_python(code, allow_unsafe=True, isolation=Isolation(False, "simulated"))
    assert result.status == "ok"
    assert secret not in result.stdout
    assert "MODELMETER_TEST_API_KEY" not in result.stdout


def test_limits_are_validated() -> None:
    with pytest.raises(ValidationError, match="memory_mb"):
        SandboxLimits(memory_mb=1)
    with pytest.raises(ValidationError, match="extra"):
        SandboxLimits(cpu=3)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="workers"):
        run_many(["print(1)"], workers=0)


# ---------------------------------------------------------------------------------------------
# Ordinary programs


@needs_isolation
def test_a_passing_and_failing_program_are_told_apart() -> None:
    ok = _run("import sys; print('out'); print('err', file=sys.stderr)")
    assert (ok.status, ok.returncode, ok.stdout, ok.stderr) == ("ok", 0, "out\n", "err\n")
    assert ok.isolated
    exited = _run("import sys; sys.exit(3)")
    assert (exited.status, exited.returncode) == ("failed", 3)
    raised = _run("assert 1 + 1 == 3, 'arithmetic'")
    assert raised.status == "failed"
    assert "AssertionError: arithmetic" in raised.stderr


@needs_isolation
def test_run_many_keeps_the_order_of_the_programs() -> None:
    programs = [f"print({n} * {n})" for n in range(6)]
    results = run_many(programs, limits=FAST, workers=3)
    assert [result.stdout.strip() for result in results] == [str(n * n) for n in range(6)]
    assert run_many([], limits=FAST) == []


@needs_isolation
def test_endless_output_is_bounded_and_keeps_start_and_end() -> None:
    limits = SandboxLimits(output_kb=4, timeout_s=60)
    result = _run("for i in range(200_000): print('line', i)", limits)
    assert result.status == "ok"
    assert result.stdout.startswith("line 0\n")
    assert result.stdout.endswith("line 199999\n")
    assert "bytes of output omitted" in result.stdout
    assert len(result.stdout) < 5 * 1024


@needs_isolation
def test_the_temporary_directory_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = _run("open('note.txt', 'w').write('x'); import os; print(os.getcwd())")
    assert result.status == "ok"
    assert result.stdout.strip() == "/sandbox"
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Escape attempts


@needs_isolation
def test_cannot_reach_a_server_on_the_loopback(tcp_server: _Listener) -> None:
    port = tcp_server.socket.getsockname()[1]
    result = _run(
        f"""
        import socket
        for host in ("127.0.0.1", "localhost"):
            try:
                socket.create_connection((host, {port}), timeout=3).sendall(b"leak")
                print("connected", host)
            except OSError as exc:
                print("refused", host, type(exc).__name__)
        """
    )
    assert result.status == "ok", result.stderr
    assert "connected" not in result.stdout
    assert tcp_server.accepted == []


@needs_isolation
def test_cannot_resolve_names_or_reach_outside_addresses() -> None:
    result = _run(
        """
        import socket
        try:
            socket.getaddrinfo("example.com", 443)
            print("resolved")
        except OSError as exc:
            print("no dns", type(exc).__name__)
        for address in (("192.0.2.1", 80), ("1.1.1.1", 53)):
            try:
                socket.create_connection(address, timeout=3)
                print("connected", address)
            except OSError as exc:
                print("unreachable", exc.errno)
        """
    )
    assert result.status == "ok", result.stderr
    assert "resolved" not in result.stdout
    assert "connected" not in result.stdout
    assert result.stdout.count("unreachable") == 2


@needs_isolation
def test_cannot_reach_an_abstract_unix_socket_of_the_host() -> None:
    name = f"\0modelmeter-test-{uuid.uuid4().hex}"
    server = _Listener(socket.AF_UNIX, name)
    try:
        result = _run(
            f"""
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect({name!r})
                print("connected")
            except OSError as exc:
                print("refused", exc.errno)
            """
        )
    finally:
        server.close()
    assert result.status == "ok", result.stderr
    assert "connected" not in result.stdout
    assert server.accepted == []


@needs_isolation
def test_cannot_write_outside_its_directory(tmp_path: Path) -> None:
    existing = tmp_path / "existing.txt"
    existing.write_text("original")
    created = tmp_path / "created.txt"
    stdlib_file = Path(os.__file__).parent / f"modelmeter-{uuid.uuid4().hex}.py"
    result = _run(
        f"""
        for path, mode in (({str(existing)!r}, "w"), ({str(created)!r}, "w"),
                           ({str(stdlib_file)!r}, "w"), ("/usr/modelmeter-escape", "w")):
            try:
                with open(path, mode) as handle:
                    handle.write("pwned")
                print("wrote", path)
            except OSError as exc:
                print("denied", path, exc.errno)
        """
    )
    assert result.status == "ok", result.stderr
    assert "wrote" not in result.stdout
    assert existing.read_text() == "original"
    assert not created.exists()
    assert not stdlib_file.exists()
    assert not Path("/usr/modelmeter-escape").exists()


@needs_isolation
def test_cannot_undo_the_read_only_mounts() -> None:
    result = _run(
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        MS_REMOUNT, MS_BIND = 32, 4096
        CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x20000
        print("remount", libc.mount(None, b"/usr", None, MS_REMOUNT | MS_BIND, None))
        # Even with a user and mount namespace of its own, the mounts it got are locked.
        print("unshare", libc.unshare(CLONE_NEWUSER | CLONE_NEWNS))
        print("remount2", libc.mount(None, b"/usr", None, MS_REMOUNT | MS_BIND, None))
        try:
            open("/usr/modelmeter-escape", "w")
            print("wrote")
        except OSError as exc:
            print("denied", exc.errno)
        """
    )
    assert result.status == "ok", result.stderr
    assert "remount -1" in result.stdout
    assert "remount2 -1" in result.stdout
    assert "wrote" not in result.stdout
    assert not Path("/usr/modelmeter-escape").exists()


@needs_isolation
def test_cannot_read_the_users_home() -> None:
    secret = f"canary-{uuid.uuid4().hex}"
    canary = Path.home() / f".modelmeter-canary-{uuid.uuid4().hex}"
    canary.write_text(secret)
    try:
        result = _run(
            f"""
            import os
            try:
                print(open({str(canary)!r}).read())
            except OSError as exc:
                print("cannot read", exc.errno)
            for root, dirs, files in os.walk({str(Path.home())!r}):
                for name in files:
                    if name.startswith(".modelmeter-canary"):
                        print("found", os.path.join(root, name))
            """
        )
    finally:
        canary.unlink()
    assert result.status == "ok", result.stderr
    assert secret not in result.stdout + result.stderr
    assert "found" not in result.stdout
    assert "cannot read" in result.stdout


@needs_isolation
def test_parent_environment_does_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-{uuid.uuid4().hex}"
    monkeypatch.setenv("MODELMETER_TEST_API_KEY", secret)
    result = _run(
        """
        import os
        print(sorted(os.environ.items()))
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    print(open(f"/proc/{pid}/environ", "rb").read())
                except OSError as exc:
                    print(pid, "unreadable", exc.errno)
        """
    )
    assert result.status == "ok", result.stderr
    assert secret not in result.stdout
    assert "MODELMETER_TEST_API_KEY" not in result.stdout


@needs_isolation
def test_sees_none_of_the_hosts_processes() -> None:
    result = _run("import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    assert result.status == "ok", result.stderr
    # The namespace's init and the program itself, nothing else.
    assert result.stdout.strip() == "[1, 2]"


@needs_isolation
def test_endless_loop_hits_the_cpu_limit() -> None:
    result = _run("while True: pass", SandboxLimits(cpu_s=1, timeout_s=60))
    assert result.status == "timeout"
    assert "CPU time limit of 1 s" in result.reason


@needs_isolation
def test_ignoring_the_cpu_limit_signal_does_not_help() -> None:
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass"
    result = _run(code, SandboxLimits(cpu_s=1, timeout_s=60))
    assert result.status == "timeout"
    assert result.returncode == -9  # SIGKILL, a second after the ignored SIGXCPU
    assert "CPU time limit of 1 s" in result.reason


@needs_isolation
def test_sleeping_forever_hits_the_wall_clock_limit() -> None:
    marker = f"modelmeter-sleeper-{uuid.uuid4().hex}"
    # The marker must be in a command line to be found: the sleep runs as a child process.
    code = (
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-c', 'import time; time.sleep(3600)', {marker!r}])"
    )
    result = _run(code, SandboxLimits(cpu_s=5, timeout_s=1.5))
    assert result.status == "timeout"
    assert "wall-clock timeout after 1.5 s" in result.reason
    assert processes_with(marker) == []


@needs_isolation
def test_fork_bomb_ends_and_leaves_no_process_behind() -> None:
    marker = f"modelmeter-bomb-{uuid.uuid4().hex}"
    # The first generation execs a Python whose command line carries the marker; it and every
    # fork of it then fork without end.
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    code = f"""
    import os, sys
    while True:
        try:
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", {bomb!r}, {marker!r}])
        except OSError:
            pass
    """
    result = _run(code, SandboxLimits(cpu_s=5, timeout_s=2, max_processes=32))
    assert result.status == "timeout"
    assert processes_with(marker) == []


@needs_isolation
def test_the_process_limit_holds() -> None:
    result = _run(
        """
        import os, time
        children = 0
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
        print(children)
        """,
        SandboxLimits(max_processes=10, timeout_s=60),
    )
    assert result.status == "ok", result.stderr
    assert int(result.stdout) == 9  # the program itself is the tenth


@needs_isolation
def test_a_daemon_that_left_the_session_dies_with_the_program() -> None:
    marker = f"modelmeter-daemon-{uuid.uuid4().hex}"
    result = _run(
        f"""
        import subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", {marker!r}],
                         start_new_session=True)
        print("started")
        """
    )
    assert result.status == "ok", result.stderr
    assert result.stdout == "started\n"
    assert processes_with(marker) == []


@needs_isolation
def test_memory_hog_hits_the_memory_limit() -> None:
    result = _run(
        "block = bytearray(1024 * 1024 * 1024)", SandboxLimits(memory_mb=256, timeout_s=60)
    )
    assert result.status == "memory"
    assert "memory limit of 256 MB" in result.reason


@needs_isolation
def test_huge_file_hits_the_file_size_limit() -> None:
    result = _run(
        """
        import os
        with open("big.bin", "wb") as handle:
            try:
                handle.write(b"x" * (8 * 1024 * 1024))
            except OSError as exc:
                print("error", exc.errno)
        print(os.path.getsize("big.bin"))
        open("big.bin", "ab").write(b"y" * (8 * 1024 * 1024))
        """,
        SandboxLimits(file_size_mb=1, timeout_s=60),
    )
    assert result.status == "failed"
    assert "error 27" in result.stdout
    assert int(result.stdout.split()[-1]) <= 1024 * 1024
    assert "file size limit of 1 MB" in result.reason


@needs_isolation
def test_many_files_hit_the_disk_limit() -> None:
    result = _run(
        """
        for n in range(100):
            with open(f"part{n}.bin", "wb") as handle:
                handle.write(b"x" * (1024 * 1024))
        """,
        SandboxLimits(disk_mb=4, file_size_mb=2, timeout_s=60),
    )
    assert result.status == "failed"
    assert "disk limit of 4 MB" in result.reason


@needs_isolation
def test_cannot_forge_the_launchers_report() -> None:
    result = _run(
        """
        import json, os, sys
        fake = (json.dumps({"event": "exit", "code": 0, "signal": None, "cpu_s": 0}) + "\\n")
        for pid in ("1", "self"):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    os.write(os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY), fake.encode())
                except OSError:
                    pass
        sys.exit(1)
        """
    )
    assert (result.status, result.returncode) == ("failed", 1)
