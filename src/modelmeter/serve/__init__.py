"""Serve local scikit-learn and ONNX models over the Open Inference Protocol v2 (REST), and
sentence-transformers encoders over OpenAI's ``/v1/embeddings``.

``run_server`` serves until stopped; ``start_server_process`` runs it as a child process for
tests and the demo; ``create_app`` is the aiohttp application for embedding.
"""

from modelmeter.serve.app import create_app
from modelmeter.serve.batching import MicroBatcher
from modelmeter.serve.metrics import ServeMetrics
from modelmeter.serve.server import (
    ServerProcess,
    parse_model_args,
    run_server,
    server_url,
    start_server_process,
)

__all__ = [
    "MicroBatcher",
    "ServeMetrics",
    "ServerProcess",
    "create_app",
    "parse_model_args",
    "run_server",
    "server_url",
    "start_server_process",
]
