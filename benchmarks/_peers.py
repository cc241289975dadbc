"""Shared helpers of the benchmarks that put modelmeter side by side with peer tools.

* **Peers** (GuideLLM, AIPerf, locust) live in a virtualenv of their own, never in the project's:
  ``python3 -m venv PEERS && PEERS/bin/pip install guidellm aiperf locust``. The benchmarks find
  it through ``--peers-venv`` or the ``MODELMETER_PEERS_VENV`` environment variable; without it
  the peer runs are skipped and the tables say so.
* **Offline**: peers get a local prompts file and a local tokenizer directory (`build_tokenizer`)
  and run with `peer_env`, which turns Hugging Face offline where a peer supports it and points
  every proxy variable at a closed local port, so that nothing they do reaches the network.
* **Machine facts**: `Meter` records, over one run, the CPU that the machine, this process, its
  waited-for children and given processes (the server) used, CPU steal (the 8th field of the
  ``cpu`` lines of ``/proc/stat``) and the load average. Linux only.
* **Numbers**: `pct` (NumPy's default linear interpolation) and `markdown_table`.
* **Local servers**: `free_port` and `wait_for_port`.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# A run whose CPU steal passed this share of the machine's time is marked noisy (MEASURING.md).
MAX_STEAL_PCT = 3.0
# A local port nothing listens on: proxies pointed here make any stray network access fail fast.
_CLOSED_PROXY = "http://127.0.0.1:9"


# -- peers -----------------------------------------------------------------------------------


def find_peers_venv(given: str | None) -> Path | None:
    """The peers' virtualenv: ``given``, else ``$MODELMETER_PEERS_VENV``; None if neither is one."""
    raw = given or os.environ.get("MODELMETER_PEERS_VENV")
    if not raw:
        return None
    venv = Path(raw).expanduser()
    return venv if (venv / "bin" / "python").exists() else None


def peer_tool(venv: Path | None, name: str) -> Path | None:
    """The console script ``name`` of the peers' virtualenv, if installed there."""
    if venv is None:
        return None
    path = venv / "bin" / name
    return path if path.exists() else None


def peer_version(venv: Path | None, distribution: str) -> str | None:
    """The installed version of ``distribution`` in the peers' virtualenv."""
    if venv is None:
        return None
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    try:
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def peer_env(*, hf_offline: bool = True) -> dict[str, str]:
    """The environment peers run in: no proxy reaches out, Hugging Face offline when asked.

    AIPerf 0.13 cannot load a tokenizer from a local directory with ``HF_HUB_OFFLINE=1`` (it
    then looks the path up in the Hugging Face cache), so it runs with ``hf_offline=False``: a
    local directory path is read from disk, and the closed proxies stop anything else.
    """
    env = dict(os.environ)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env[name] = _CLOSED_PROXY
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env["DO_NOT_TRACK"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    if hf_offline:
        env["HF_HUB_OFFLINE"] = env["TRANSFORMERS_OFFLINE"] = env["HF_DATASETS_OFFLINE"] = "1"
    else:
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            env.pop(name, None)
    return env


def build_tokenizer(directory: Path, words: Iterable[str]) -> Path:
    """A word-level Hugging Face tokenizer over ``words`` (one token per whitespace-separated
    word), saved as ``tokenizer.json`` + ``tokenizer_config.json`` in ``directory``.

    Peers that insist on a tokenizer get this one: it counts the simulator's pseudo-words
    exactly, and nothing is downloaded. Needs the ``tokenizers`` package (in this interpreter).
    """
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab: dict[str, int] = {"[UNK]": 0, "<s>": 1, "</s>": 2}
    for word in words:
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": "[UNK]",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "model_max_length": 1_000_000,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config))
    return directory


def run_peer(
    command: Sequence[str],
    *,
    env: dict[str, str],
    log: Path,
    timeout_s: float,
    cwd: Path | None = None,
) -> tuple[int, float]:
    """Run a peer to completion, its output into ``log``; (exit code, wall seconds).

    124 when it ran past ``timeout_s`` (then it is killed, with its process group).
    """
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 15)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
            code = 124
    return code, time.monotonic() - started


def log_tail(log: Path, limit: int = 1500) -> str:
    try:
        return log.read_bytes()[-limit:].decode(errors="replace")
    except OSError:
        return ""


# -- machine facts ----------------------------------------------------------------------------


def _cpu_lines() -> dict[str, list[int]]:
    lines: dict[str, list[int]] = {}
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith("cpu"):
                name, *values = line.split()
                lines[name] = [int(v) for v in values]
    return lines


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    # after the ")": state is field 3, utime field 14, stime field 15 (1-based, man 5 proc)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _rusage_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Meter:
    """CPU over one run: start it just before, `stop` just after.

    ``pids``: other processes to account (the server); their CPU is read from /proc. The
    process's own CPU and that of its waited-for children (a peer run with `run_peer`) come
    from ``getrusage``.
    """

    pids: dict[str, int] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stat = _cpu_lines()
        self._wall = time.monotonic()
        self._self = _rusage_s(resource.RUSAGE_SELF)
        self._children = _rusage_s(resource.RUSAGE_CHILDREN)
        self._pid_cpu = {name: process_cpu_s(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, Any]:
        wall = time.monotonic() - self._wall
        stat = _cpu_lines()
        facts: dict[str, Any] = {"wall_s": round(wall, 2)}
        # user nice system idle iowait irq softirq steal (guest time is inside user)
        delta = [b - a for a, b in zip(self._stat["cpu"], stat["cpu"], strict=False)]
        total = sum(delta[:8]) or 1
        facts["machine_busy_pct"] = round(100.0 * (total - delta[3] - delta[4]) / total, 1)
        facts["steal_pct"] = round(100.0 * delta[7] / total, 2)
        per_core = []
        for name, values in stat.items():
            if name == "cpu":
                continue
            before = self._stat.get(name)
            if before is None:
                continue
            core = [b - a for a, b in zip(before, values, strict=False)]
            per_core.append(round(100.0 * core[7] / (sum(core[:8]) or 1), 2))
        facts["steal_pct_max_core"] = max(per_core, default=0.0)
        facts["cores"] = len(per_core)
        facts["self_cpu_pct"] = round(
            100.0 * (_rusage_s(resource.RUSAGE_SELF) - self._self) / wall, 1
        )
        facts["children_cpu_pct"] = round(
            100.0 * (_rusage_s(resource.RUSAGE_CHILDREN) - self._children) / wall, 1
        )
        for name, pid in self.pids.items():
            before_s = self._pid_cpu.get(name)
            after_s = process_cpu_s(pid)
            facts[f"{name}_cpu_pct"] = (
                None
                if before_s is None or after_s is None
                else round(100.0 * (after_s - before_s) / wall, 1)
            )
        facts["loadavg_1m"] = os.getloadavg()[0]
        facts["noisy"] = facts["steal_pct"] > MAX_STEAL_PCT
        self.facts = facts
        return facts


def machine_description() -> dict[str, Any]:
    """Cores, CPU model, kernel and Python: stated next to every figure."""
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "loadavg_at_start": os.getloadavg(),
    }


def wait_quiet(max_load: float, patience_s: float) -> float:
    """Wait up to ``patience_s`` for the 1-minute load average to drop below ``max_load``."""
    deadline = time.monotonic() + patience_s
    load = os.getloadavg()[0]
    while load > max_load and time.monotonic() < deadline:
        time.sleep(2.0)
        load = os.getloadavg()[0]
    return load


# -- numbers ----------------------------------------------------------------------------------


def pct(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """The ``q``-th percentile (0–100), linear interpolation; None for no values."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return None
    return float(np.percentile(array, q))


def fmt(value: float | None, spec: str = ".2f", signed: bool = False) -> str:
    if value is None:
        return "–"
    return format(value, ("+" if signed else "") + spec)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def which(name: str) -> str | None:
    return shutil.which(name)


# -- local servers ---------------------------------------------------------------------------


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on just now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[Any], what: str = "the server", timeout_s: float = 30
) -> None:
    """Until ``process`` accepts connections on ``port``; RuntimeError when it exits first
    or does not within ``timeout_s``."""
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{what} did not start listening in {timeout_s:.0f} s")
