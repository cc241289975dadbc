"""``python -m modelmeter.serve NAME=PATH [...]``: the server as a process of its own.

This is what `start_server_process` runs; people use ``modelmeter serve``. As the entry point
of its process it reports errors on stderr and exits with 1 (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from modelmeter._exceptions import ModelmeterError
from modelmeter._process import stop_when_parent_dies
from modelmeter.serve.server import ACCESS_LOGGER, parse_model_args, run_server, write_ready_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modelmeter.serve",
        description="Serve scikit-learn and ONNX models over the Open Inference Protocol v2.",
    )
    parser.add_argument("models", nargs="+", metavar="NAME=PATH")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-batch-size", type=int, default=1)
    parser.add_argument("--max-wait-ms", type=float, default=2.0)
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--bucket-ms",
        type=float,
        action="append",
        default=[],
        help="a latency threshold added to the duration histogram's boundaries (repeatable)",
    )
    parser.add_argument(
        "--ready-file", type=Path, help="write {url, port} as JSON here once the server is ready"
    )
    parser.add_argument(
        "--parent-fd",
        type=int,
        help="stop when this pipe closes: the parent that started this server is gone",
    )
    args = parser.parse_args(argv)
    try:
        models = parse_model_args(args.models)
    except ValueError as exc:
        parser.error(str(exc))
    if args.access_log:
        logging.basicConfig(stream=sys.stderr, format="%(message)s")
        logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    ready_file: Path | None = args.ready_file
    if args.parent_fd is not None:
        stop_when_parent_dies(args.parent_fd, ready_file.parent if ready_file else None)

    def on_ready(url: str) -> None:
        if ready_file is not None:
            write_ready_file(ready_file, url)

    try:
        run_server(
            models,
            host=args.host,
            port=args.port,
            workers=args.workers,
            bucket_ms=args.bucket_ms,
            max_batch_size=args.max_batch_size,
            max_wait_ms=args.max_wait_ms,
            access_log=args.access_log,
            on_ready=on_ready,
        )
    except (ModelmeterError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
