"""Nothing modelmeter starts outlives it, even when it is killed with SIGKILL.

Before: kill -9 of `modelmeter demo` left its model servers running and its temporary folders
(53 MB of spill files for a 20 s run) in /tmp. Child servers now stop when the pipe from their
parent closes, and remove the folder made for them; a spill folder of a process that is gone is
removed when the next recorder starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder import OutcomeRecorder

PARENT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from modelmeter.load.outcome import Outcome
    from modelmeter.load.recorder import OutcomeRecorder
    from modelmeter.serve import start_server_process
    from modelmeter.simulate import start_simulator

    simulator = start_simulator()
    server = start_server_process({"m": Path(sys.argv[1])})
    recorder = OutcomeRecorder(chunk_rows=8, directory=sys.argv[2])
    recorder.extend(Outcome("s", "t", i, i, i + 1) for i in range(100))  # spilled to disk
    print(json.dumps({
        "pids": [simulator.pid, server.pid],
        "folders": [str(simulator._workdir), str(server._workdir), str(recorder.directory)],
    }), flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_children_and_folders_of_a_killed_parent_go_away(tmp_path: Path) -> None:
    model = tmp_path / "m.joblib"
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression())
    joblib.dump(pipeline.fit(["good", "bad"] * 3, ["pos", "neg"] * 3), model)
    spills = tmp_path / "spills"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(model), str(spills)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    started = json.loads(parent.stdout.readline())
    pids, folders = started["pids"], [Path(f) for f in started["folders"]]
    assert all(_alive(pid) for pid in pids) and all(f.is_dir() for f in folders)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()

    deadline = time.monotonic() + 60  # a bound for a loaded machine, not a speed claim
    while any(_alive(pid) for pid in pids) or any(f.exists() for f in folders[:2]):
        assert time.monotonic() < deadline, "a child server outlived its parent"
        time.sleep(0.1)

    # The spill folder stays until the next recorder starts, which removes it (its owner is
    # gone) and keeps a live process's.
    spill = folders[2]
    assert spill.is_dir()
    with OutcomeRecorder(chunk_rows=8, directory=spills) as recorder:
        recorder.extend(Outcome("s", "t", i, i, i + 1) for i in range(100))
        assert recorder.directory is not None and recorder.directory.is_dir()
        assert not spill.exists()
        assert [p for p in spills.iterdir()] == [recorder.directory]
