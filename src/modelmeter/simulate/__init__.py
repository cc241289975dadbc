"""A simulated OpenAI-compatible model server whose timing is known, for trying modelmeter
without a GPU and for checking that measured TTFT and ITL match what was sent.

``start_simulator(config)`` runs it as a child process (tests, benchmarks), ``run_simulator``
in the foreground (``modelmeter simulate``), `Simulator` on an event loop you already run. An
answer book (`load_answer_book`, ``SimulatorConfig.answers``) makes it give fixed answers to
known prompts, so that evaluations can be tested offline. The server logs, per request, its
arrival, the start of its slot and the time of every write, against the time each write was
due: ``GET /debug/timings`` or ``timings_log`` (see `modelmeter.simulate.timings`).
"""

from modelmeter.simulate.answers import (
    AnswerBook,
    AnswerRule,
    load_answer_book,
    split_tokens,
    write_answer_book,
)
from modelmeter.simulate.config import Delay, DelayKind, SimulatorConfig
from modelmeter.simulate.process import SimulatorHandle, run_simulator, start_simulator
from modelmeter.simulate.server import Simulator
from modelmeter.simulate.timings import ChunkTiming, RequestTiming, SendAccuracy, send_accuracy

__all__ = [
    "AnswerBook",
    "AnswerRule",
    "ChunkTiming",
    "Delay",
    "DelayKind",
    "RequestTiming",
    "SendAccuracy",
    "Simulator",
    "SimulatorConfig",
    "SimulatorHandle",
    "load_answer_book",
    "run_simulator",
    "send_accuracy",
    "split_tokens",
    "start_simulator",
    "write_answer_book",
]
