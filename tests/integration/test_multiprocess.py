"""One plan over several worker processes against a real local server: merged results are the
single-process run's, each outcome once, and no worker process outlives the run.

No assertion here is a speed claim: bounds follow from the schedule and from the order in which
the engine takes its timestamps (a request is sent after its phase was decided).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from modelmeter._exceptions import ErrorKind, ModelError, SpecError
from modelmeter.data.sample import Sample
from modelmeter.load.multiprocess import WorkerFailed, run_plan_in_processes
from modelmeter.load.outcome import Outcome
from modelmeter.load.recorder import OutcomeRecorder
from modelmeter.load.schedule import (
    NS_PER_S,
    LoadPlan,
    Phase,
    arrival_offsets_ns,
    phases_of,
)
from modelmeter.spec import HttpTargetSpec, PythonTargetSpec
from modelmeter.spec.targets import TargetSettings
from modelmeter.targets.base import Prediction
from modelmeter.targets.registry import register_target

SAMPLES = [Sample(id=f"s{i}", input=f"text {i}", label=f"TEXT {i}") for i in range(20)]


def _spec(url: str, delay_ms: int = 2) -> HttpTargetSpec:
    return HttpTargetSpec(
        kind="http",
        name="t",
        url=f"{url}/label?delay_ms={delay_ms}",
        response_path="prediction.label",
    )


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for a parent that will not reap it."""
    try:
        import psutil
    except ImportError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        try:
            status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
        except OSError:
            return True
        return "\nState:\tZ" not in status
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _run(spec, plan: LoadPlan, processes: int = 2, **kwargs):  # type: ignore[no-untyped-def]
    starts: list[int] = []
    seen: list[Outcome] = []
    outcomes = asyncio.run(
        run_plan_in_processes(
            spec,
            SAMPLES,
            plan,
            processes=processes,
            on_start=starts.append,
            on_outcome=seen.append,
            **kwargs,
        )
    )
    assert len(starts) == 1
    # Progress saw every outcome once, and the merged list is in intended order.
    assert sorted(map(id, seen)) == sorted(map(id, outcomes))
    assert [o.intended_at for o in outcomes] == sorted(o.intended_at for o in outcomes)
    assert multiprocessing.active_children() == []
    return outcomes, starts[0]


@pytest.mark.parametrize(("mode", "processes"), [("constant", 2), ("poisson", 2), ("poisson", 3)])
def test_open_loop_over_processes_is_the_single_process_schedule(
    fault_server, mode, processes
) -> None:  # type: ignore[no-untyped-def]
    plan = LoadPlan(mode=mode, rate_rps=250, warmup_s=0.2, duration_s=0.4, cooldown_s=0.2, seed=3)
    outcomes, start = _run(_spec(fault_server.url), plan, processes)
    schedule = arrival_offsets_ns(plan)
    offsets = np.array([o.intended_at - start for o in outcomes])
    # Exactly the offsets of the one-process schedule, each once, from the common start.
    assert np.array_equal(offsets, schedule)
    # Arrival i carries sample i % len(samples), as in one process.
    assert [o.sample_id for o in outcomes] == [
        SAMPLES[i % len(SAMPLES)].id for i in range(schedule.size)
    ]
    assert all(o.ok for o in outcomes)
    assert all(o.prediction == f"TEXT {o.sample_id[1:]}" for o in outcomes)
    # Phases follow the intended offset.
    phases = phases_of(offsets, plan)
    assert [o.warmup for o in outcomes] == list(phases == Phase.WARMUP)
    assert [o.cooldown for o in outcomes] == list(phases == Phase.COOLDOWN)
    assert {Phase.WARMUP, Phase.MEASURED, Phase.COOLDOWN} <= set(phases.tolist())
    assert all(o.sent_at >= o.intended_at and o.done_at > o.sent_at for o in outcomes)


def test_a_recorder_sink_gets_every_outcome_once(fault_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = LoadPlan(mode="constant", rate_rps=300, warmup_s=0.1, duration_s=0.4, seed=1)
    starts: list[int] = []
    # A small chunk makes the recorder spill to disk during the run.
    with OutcomeRecorder(chunk_rows=16, directory=tmp_path) as recorder:
        returned = asyncio.run(
            run_plan_in_processes(
                _spec(fault_server.url),
                SAMPLES,
                plan,
                processes=2,
                sink=recorder,
                on_start=starts.append,
            )
        )
        assert returned is recorder
        offsets = sorted(o.intended_at - starts[0] for o in recorder)
    assert offsets == arrival_offsets_ns(plan).tolist()


def _peak_in_flight(outcomes: list[Outcome]) -> int:
    events = sorted(
        [(o.sent_at, 1) for o in outcomes] + [(o.done_at, -1) for o in outcomes],
        key=lambda event: (event[0], event[1]),  # an end before a start at the same instant
    )
    peak = level = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_closed_loop_over_two_processes_caps_concurrency_and_request_count(fault_server) -> None:  # type: ignore[no-untyped-def]
    plan = LoadPlan(
        mode="concurrency", concurrency=5, warmup_s=0.0, duration_s=60.0, max_requests=60
    )
    outcomes, start = _run(_spec(fault_server.url, delay_ms=20), plan)
    assert len(outcomes) == 60
    assert all(o.ok for o in outcomes)
    # Request indices 0..59 were each sent once: every sample exactly three times.
    assert Counter(o.sample_id for o in outcomes) == {s.id: 3 for s in SAMPLES}
    peak = _peak_in_flight(outcomes)
    assert peak <= 5
    assert peak > 3  # more than one worker's 3 coroutines: both processes ran at once
    assert all(o.sent_at >= start for o in outcomes)


def test_closed_loop_phases_count_from_the_common_start(fault_server) -> None:  # type: ignore[no-untyped-def]
    plan = LoadPlan(mode="concurrency", concurrency=4, warmup_s=0.2, duration_s=0.3, cooldown_s=0.2)
    cpu: list[float] = []
    outcomes, start = _run(_spec(fault_server.url, delay_ms=5), plan, worker_cpu_s=cpu)
    warm_end = start + int(0.2 * NS_PER_S)
    cool_start = warm_end + int(0.3 * NS_PER_S)
    deadline = cool_start + int(0.2 * NS_PER_S)
    warm = [o for o in outcomes if o.warmup]
    measured = [o for o in outcomes if o.measured]
    cool = [o for o in outcomes if o.cooldown]
    assert warm and measured and cool
    # A phase is decided before the send, so the send is never earlier than its phase start.
    assert all(o.sent_at >= start for o in warm)
    assert all(o.sent_at >= warm_end for o in measured)
    assert all(o.sent_at >= cool_start for o in cool)
    # ... and the decision came before the phase ended (generous: only catches wrong origins).
    slack = int(0.1 * NS_PER_S)
    assert all(o.sent_at < warm_end + slack for o in warm)
    assert all(o.sent_at < cool_start + slack for o in measured)
    assert all(o.sent_at < deadline + slack for o in cool)
    assert all(o.intended_at == o.sent_at for o in outcomes)  # closed loop
    assert len(cpu) == 2 and all(seconds > 0 for seconds in cpu)


def test_connection_refused_gives_typed_error_outcomes() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = HttpTargetSpec(kind="http", name="t", url=f"http://127.0.0.1:{port}/label")
    plan = LoadPlan(mode="constant", rate_rps=100, warmup_s=0.0, duration_s=0.3)
    outcomes, start = _run(spec, plan)
    assert [o.intended_at - start for o in outcomes] == arrival_offsets_ns(plan).tolist()
    assert all(o.error is ErrorKind.CONNECT for o in outcomes)
    assert all(o.error_detail for o in outcomes)


def test_a_target_that_cannot_start_raises_its_own_error_class(tmp_path: Path) -> None:
    plan = LoadPlan(mode="concurrency", concurrency=2, duration_s=0.2)
    missing = PythonTargetSpec(kind="python", name="p", model_path=tmp_path / "missing.onnx")
    with pytest.raises(ModelError, match="model file not found") as raised:
        asyncio.run(run_plan_in_processes(missing, SAMPLES, plan, processes=2))
    assert any("load worker" in note for note in raised.value.__notes__)
    assert multiprocessing.active_children() == []

    unknown = PythonTargetSpec(kind="python", name="p", function="no_such_module_xyz:predict")
    with pytest.raises(SpecError) as raised_spec:
        asyncio.run(run_plan_in_processes(unknown, SAMPLES, plan, processes=2))
    assert raised_spec.value.field == "targets.p.function"  # which target, which field
    assert multiprocessing.active_children() == []


class MisbehavingSpec(TargetSettings):
    """A target for these tests only; the worker imports this module to unpickle it, which
    registers the factory there too."""

    kind: Literal["misbehave"] = "misbehave"
    name: str = "m"
    how: Literal["raise", "exit", "fatal"]
    after: int = 5


class UnexpectedBug(Exception):
    pass


class FatalBug(BaseException):
    """What the engine does not catch (an Exception costs one request, see below)."""


class MisbehavingTarget:
    kind = "misbehave"

    def __init__(self, spec: MisbehavingSpec) -> None:
        self.name = spec.name
        self._spec = spec
        self._answered = 0

    async def start(self) -> None:
        pass

    async def predict(self, sample: Sample) -> Prediction:
        await asyncio.sleep(0.001)
        self._answered += 1
        if self._answered > self._spec.after:
            if self._spec.how == "exit":
                os._exit(3)  # a worker that dies without a word (killed, crashed)
            if self._spec.how == "fatal":
                raise FatalBug("not even an Exception: the run cannot go on")
            raise UnexpectedBug("not a TargetError: the run cannot go on")
        return Prediction(label=sample.input)

    async def close(self) -> None:
        pass


@register_target("misbehave", settings=MisbehavingSpec)
def _misbehaving(spec: MisbehavingSpec) -> MisbehavingTarget:
    return MisbehavingTarget(spec)


def test_a_worker_whose_run_raises_stops_the_run_with_that_error() -> None:
    plan = LoadPlan(mode="concurrency", concurrency=2, duration_s=30.0)
    sink: list[Outcome] = []
    with pytest.raises(FatalBug, match="cannot go on"):
        asyncio.run(
            run_plan_in_processes(
                MisbehavingSpec(how="fatal"), SAMPLES, plan, processes=2, sink=sink
            )
        )
    assert multiprocessing.active_children() == []
    assert len(sink) >= 5  # what was answered before the failure came back


def test_a_target_that_raises_on_an_answer_costs_that_request_not_the_run() -> None:
    # A bug a plugin target (or ours) hits on some answers is a counted protocol error with its
    # message, and the requests after it are still sent.
    plan = LoadPlan(mode="concurrency", concurrency=2, duration_s=30.0, max_requests=20)
    outcomes = asyncio.run(
        run_plan_in_processes(MisbehavingSpec(how="raise"), SAMPLES, plan, processes=2)
    )
    assert len(outcomes) == 20
    failed = [o for o in outcomes if not o.ok]
    assert len(failed) == 20 - 2 * 5  # each worker's target answers its first 5
    assert {o.error for o in failed} == {ErrorKind.PROTOCOL}
    assert all(
        o.error_detail == "unexpected UnexpectedBug reading the answer: not a TargetError: "
        "the run cannot go on"
        for o in failed
    )


def test_a_worker_that_dies_raises_worker_failed() -> None:
    plan = LoadPlan(mode="concurrency", concurrency=2, duration_s=30.0)
    with pytest.raises(WorkerFailed, match="ended before finishing"):
        asyncio.run(run_plan_in_processes(MisbehavingSpec(how="exit"), SAMPLES, plan, processes=2))
    assert multiprocessing.active_children() == []


def test_a_progress_callback_that_raises_stops_the_run() -> None:
    plan = LoadPlan(mode="concurrency", concurrency=2, duration_s=30.0)

    def tick(outcome: Outcome) -> None:
        raise RuntimeError("progress display broke")

    spec = MisbehavingSpec(how="exit", after=10**9)
    with pytest.raises(RuntimeError, match="progress display broke"):
        asyncio.run(run_plan_in_processes(spec, SAMPLES, plan, processes=2, on_outcome=tick))
    assert multiprocessing.active_children() == []


def test_cancellation_keeps_what_arrived_and_leaves_no_processes(fault_server) -> None:  # type: ignore[no-untyped-def]
    plan = LoadPlan(mode="constant", rate_rps=200, warmup_s=0.0, duration_s=30.0)
    sink: list[Outcome] = []
    seen: list[Outcome] = []
    workers: list[multiprocessing.process.BaseProcess] = []

    async def main() -> None:
        arrived = asyncio.Event()

        def tick(outcome: Outcome) -> None:
            seen.append(outcome)
            if len(seen) >= 50:
                arrived.set()

        task = asyncio.create_task(
            run_plan_in_processes(
                _spec(fault_server.url),
                SAMPLES,
                plan,
                processes=2,
                sink=sink,
                on_outcome=tick,
                on_start=lambda _: workers.extend(multiprocessing.active_children()),
            )
        )
        await asyncio.wait_for(arrived.wait(), timeout=20)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert len(workers) == 2
    # The workers stopped when asked (exit code 0), not by signal, and are gone.
    assert [w.exitcode for w in workers] == [0, 0]
    assert not any(_alive(w.pid) for w in workers if w.pid is not None)
    assert multiprocessing.active_children() == []
    # Everything that arrived is kept, once, in intended order, and was passed to progress.
    assert len(sink) >= 50
    assert len({o.intended_at for o in sink}) == len(sink)
    assert sorted(map(id, seen)) == sorted(map(id, sink))
    assert [o.intended_at for o in sink] == sorted(o.intended_at for o in sink)
    # The run was stopped early: far fewer than the 6,000 arrivals of the whole schedule.
    assert len(sink) < 3_000


_ORPHAN_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, multiprocessing
    from modelmeter.data.sample import Sample
    from modelmeter.load.multiprocess import WorkerFailed, run_plan_in_processes
    from modelmeter.load.schedule import LoadPlan
    from modelmeter.spec import HttpTargetSpec

    def started(_):
        pids = [p.pid for p in multiprocessing.active_children()]
        print(" ".join(map(str, pids)), flush=True)

    if __name__ == "__main__":
        spec = HttpTargetSpec(
            kind="http", name="t", url=sys.argv[1], response_path="prediction.label")
        plan = LoadPlan(mode="constant", rate_rps=50, warmup_s=0.0, duration_s=60.0)
        asyncio.run(run_plan_in_processes(
            spec, [Sample(id="a", input="a")], plan, processes=2, on_start=started))
    """
)


def test_workers_stop_when_their_parent_is_killed(fault_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN_SCRIPT, encoding="utf-8")
    parent = subprocess.Popen(
        [sys.executable, str(script), f"{fault_server.url}/label?delay_ms=1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2
        assert all(_alive(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in pids)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
