"""The live processes of this machine as tests look for them: by a marker in the command line."""

from __future__ import annotations

from pathlib import Path


def live_processes() -> dict[int, tuple[list[str], bytes]]:
    """pid: (the fields of /proc/pid/stat after the name, the command line), zombies left out."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if stat[0] != "Z":
                found[int(entry.name)] = (stat, cmdline)
    return found


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker``."""
    return [pid for pid, (_, cmdline) in live_processes().items() if marker.encode() in cmdline]
