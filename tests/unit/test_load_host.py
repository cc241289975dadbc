"""The host reading before a phase sees other processes' work and leaves out this process's."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest

from modelmeter.load.host import busy_before, cpu_times

pytestmark = pytest.mark.skipif(cpu_times() is None, reason="no /proc/stat on this system")

SPIN = "import time\nend = time.monotonic() + 3\nwhile time.monotonic() < end: pass\n"


def test_a_process_spinning_beside_us_makes_the_host_busy() -> None:
    with subprocess.Popen([sys.executable, "-c", SPIN]) as spinner:
        time.sleep(0.5)  # started and spinning
        busy = asyncio.run(busy_before(0.5))
        spinner.kill()
    # One spinning process keeps one core busy: at least half of that must show, however
    # busy the machine already is.
    assert busy is not None and busy >= 50.0 / (os.cpu_count() or 1)


def test_this_process_spinning_is_not_counted_as_other_work() -> None:
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    quiet = asyncio.run(busy_before(0.5))
    thread = threading.Thread(target=spin)
    thread.start()
    try:
        spinning = asyncio.run(busy_before(0.5))
    finally:
        stop.set()
        thread.join()
    assert quiet is not None and spinning is not None
    # Our own spinning thread is taken out: what is left is what was there anyway (within the
    # noise of the readings), not one more core's worth.
    cores = os.cpu_count() or 1
    assert spinning < quiet + 0.5 * 100.0 / cores
