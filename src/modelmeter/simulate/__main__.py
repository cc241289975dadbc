"""``python -m modelmeter.simulate --config FILE``: the simulator as a process of its own.

This is what `start_simulator` runs; people use ``modelmeter simulate``. As the entry point of
its process it reports errors on stderr and exits with 1 (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from modelmeter._exceptions import ModelmeterError
from modelmeter._process import stop_when_parent_dies
from modelmeter.simulate.config import SimulatorConfig
from modelmeter.simulate.process import run_simulator, write_ready_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modelmeter.simulate",
        description="Serve a simulated OpenAI-compatible model with known timing.",
    )
    parser.add_argument("--config", type=Path, help="SimulatorConfig as a JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--timings-log", type=Path, help="write each request's timings here as a JSON line"
    )
    parser.add_argument(
        "--ready-file", type=Path, help="write {url} as JSON here once the server listens"
    )
    parser.add_argument(
        "--parent-fd",
        type=int,
        help="stop when this pipe closes: the parent that started this server is gone",
    )
    args = parser.parse_args(argv)
    try:
        config = (
            SimulatorConfig.model_validate_json(args.config.read_text())
            if args.config is not None
            else SimulatorConfig()
        )
    except (OSError, ValidationError) as exc:
        parser.error(f"--config: {exc}")
    ready_file: Path | None = args.ready_file
    if args.parent_fd is not None:
        stop_when_parent_dies(args.parent_fd, ready_file.parent if ready_file else None)

    def on_ready(url: str) -> None:
        if ready_file is not None:
            write_ready_file(ready_file, url)

    try:
        run_simulator(config, args.host, args.port, timings_log=args.timings_log, on_ready=on_ready)
    except ModelmeterError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
