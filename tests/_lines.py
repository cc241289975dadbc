"""Read a child process's output the way a person does: look for the line, wherever it comes."""

from __future__ import annotations

import queue
import re
import threading
from typing import IO


def wait_for_line(stream: IO[str], pattern: str, timeout_s: float = 60.0) -> re.Match[str]:
    """The first line of ``stream`` matching ``pattern``, however many lines come before it.

    On a loaded machine warnings or other messages can come first, so tests never rely on the
    order of lines. Fails with every line read when the stream ends or ``timeout_s`` passes.
    """
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
            if re.search(pattern, line):
                return
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no line matching {pattern!r} in {timeout_s} s: {seen}") from None
        if not line:
            raise AssertionError(f"output ended with no line matching {pattern!r}: {seen}")
        seen.append(line)
        if match := re.search(pattern, line):
            return match
