"""The aiohttp application: Open Inference Protocol v2 (REST) over loaded text classifiers, and
OpenAI's ``POST /v1/embeddings`` over loaded encoders (`_openai_embeddings`).

Each model takes one BYTES input of shape ``[N]`` or ``[N, 1]`` (N texts; the input's name is not
checked, as there is only one) and answers one BYTES output ``label`` of shape ``[N]``. Every
model has the single version ``"1"``. Errors are ``{"error": "..."}`` with status 400 (malformed
request), 404 (unknown model or version), 413 (body over 16 MiB, or more than
``MAX_REQUEST_ROWS`` texts) or 500 (the model failed).

One large request must not stall the others: a body over ``THREAD_PARSE_BYTES`` is decoded in a
thread, and the batcher predicts a request of many rows in a thread of its own (see
`modelmeter.serve.batching`), so the event loop keeps reading and answering meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from modelmeter._exceptions import ModelError
from modelmeter._version import __version__
from modelmeter.artefacts import ServedModel
from modelmeter.serve._binary import (
    BadTensorData,
    bytes_tensor,
    split_binary,
    wants_binary_output,
    with_binary_inputs,
)
from modelmeter.serve._openai_embeddings import (
    BadEmbeddingsRequest,
    EmbeddingsRequest,
    embeddings_answer,
    openai_error,
)
from modelmeter.serve.batching import MicroBatcher
from modelmeter.serve.metrics import UNKNOWN_MODEL, ServeMetrics

SERVER_NAME = "modelmeter"
MODEL_VERSION = "1"
MAX_BODY_BYTES = 16 * 1024 * 1024
# Like Triton's max_batch_size: a request of more texts is refused (413), not run for minutes.
MAX_REQUEST_ROWS = 65_536
# Decoding JSON takes about 20 ms per MiB; above this a body is decoded off the event loop.
THREAD_PARSE_BYTES = 1024 * 1024


class _BadRequest(Exception):
    pass


class _TooManyRows(Exception):
    pass


@dataclass(slots=True)
class _Endpoint:
    model: ServedModel
    batcher: MicroBatcher
    observe_duration: Callable[[float], None]


def create_app(
    models: Mapping[str, ServedModel],
    *,
    registry: CollectorRegistry | None = None,
    max_batch_size: int = 1,
    max_wait_ms: float = 2.0,
    multiprocess_dir: str | None = None,
    bucket_ms: Sequence[float] = (),
) -> web.Application:
    """An aiohttp application serving ``models`` (name → loaded model).

    Metrics go to ``registry`` (a fresh one when None, never the global one); see `ServeMetrics`
    for ``multiprocess_dir``. ``bucket_ms``: latency thresholds (an SLA's) added to the
    request-duration histogram's boundaries.
    """
    if not models:
        raise ValueError("at least one model is needed")
    metrics = ServeMetrics(
        registry if registry is not None else CollectorRegistry(),
        multiprocess_dir=multiprocess_dir,
        thresholds_s=[ms / 1000 for ms in bucket_ms],
    )
    endpoints = {
        name: _endpoint(name, model, metrics, max_batch_size, max_wait_ms)
        for name, model in models.items()
    }
    handlers = _Handlers(endpoints, metrics)
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_json_route_errors])
    get = app.router.add_get
    get("/v2/health/live", handlers.live)
    get("/v2/health/ready", handlers.ready)
    get("/v2", handlers.server_metadata)
    get("/metrics", handlers.metrics)
    for prefix in ("/v2/models/{name}", "/v2/models/{name}/versions/{version}"):
        get(prefix, handlers.model_metadata)
        get(prefix + "/ready", handlers.model_ready)
        app.router.add_post(prefix + "/infer", handlers.infer)
    app.router.add_post("/v1/embeddings", handlers.embeddings)
    get("/v1/models", handlers.openai_models)

    async def close_batchers(app: web.Application) -> None:
        for endpoint in endpoints.values():
            await endpoint.batcher.aclose()

    # on_cleanup runs after the requests in flight are answered, so none finds its batcher closed.
    app.on_cleanup.append(close_batchers)
    return app


def _endpoint(
    name: str, model: ServedModel, metrics: ServeMetrics, max_batch_size: int, max_wait_ms: float
) -> _Endpoint:
    queue_depth = metrics.queue_depth.labels(name)
    batcher = MicroBatcher(
        model.predict,
        name=name,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        on_batch=metrics.batch_size.labels(name).observe,
        on_queue_depth=queue_depth.set if max_batch_size > 1 else None,
    )
    queue_depth.set(0)
    return _Endpoint(model, batcher, metrics.request_duration.labels(name, "predict").observe)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


def _binary(head: Any, data: bytes) -> web.Response:
    """An answer in the binary tensor extension: the JSON head, then the tensor bytes."""
    encoded = json.dumps(head, separators=(",", ":")).encode()
    return web.Response(
        body=encoded + data,
        headers={BINARY_HEADER: str(len(encoded))},
        content_type="application/octet-stream",
    )


def _error(message: str, status: int) -> web.Response:
    return _json({"error": message}, status)


# Triton's binary tensor extension: a JSON head of this many bytes, then raw tensor bytes.
BINARY_HEADER = "Inference-Header-Content-Length"


@web.middleware
async def _json_route_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Unknown paths and wrong methods answer JSON like every other error (aiohttp's own
    answers are plain text)."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPNotFound:
        return _error(f"no route {request.method} {request.path[:200]}; see GET /v2", 404)
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        return _error(f"{request.path[:200]} takes {allowed}, not {request.method}", 405)
    return response


class _Handlers:
    def __init__(self, endpoints: dict[str, _Endpoint], metrics: ServeMetrics) -> None:
        self._endpoints = endpoints
        self._metrics = metrics
        # Counter children by (model, status): labels() takes a lock and builds a tuple each call.
        self._counters: dict[tuple[str, int], Any] = {}

    def _count(self, model: str, status: int) -> None:
        child = self._counters.get((model, status))
        if child is None:
            child = self._metrics.requests.labels(model, str(status))
            self._counters[(model, status)] = child
        child.inc()

    def _find(self, request: web.Request) -> _Endpoint | web.Response:
        name = request.match_info["name"]
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            known = ", ".join(sorted(self._endpoints))
            return _error(f"unknown model {name!r}; this server serves: {known}", 404)
        version = request.match_info.get("version")
        if version is not None and version != MODEL_VERSION:
            return _error(
                f"model {name!r} has no version {version!r}; versions: {MODEL_VERSION}", 404
            )
        return endpoint

    async def live(self, request: web.Request) -> web.Response:
        return _json({"live": True})

    async def ready(self, request: web.Request) -> web.Response:
        # Models are loaded before the socket listens, so answering at all means ready.
        return _json({"ready": True})

    async def server_metadata(self, request: web.Request) -> web.Response:
        return _json(
            {"name": SERVER_NAME, "version": __version__, "extensions": ["binary_tensor_data"]}
        )

    async def metrics(self, request: web.Request) -> web.Response:
        body, content_type = self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def model_metadata(self, request: web.Request) -> web.Response:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        return _json(found.model.metadata([MODEL_VERSION]))

    async def model_ready(self, request: web.Request) -> web.Response:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        return _json({"name": found.model.name, "ready": True})

    async def infer(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        found = self._find(request)
        if isinstance(found, web.Response):
            self._count(UNKNOWN_MODEL, found.status)
            return found
        name = request.match_info["name"]
        if found.model.embed is not None:
            self._count(name, 400)
            return _error(f"{name!r} is an embeddings model: POST /v1/embeddings", 400)
        binary_output = False
        try:
            body = await request.read()
            head_length = request.headers.get(BINARY_HEADER)
            if head_length is None:
                payload = await _decode(body)
            else:
                head, tensors = split_binary(body, head_length)
                payload = await _decode(head)
                with_binary_inputs(payload, tensors)
                binary_output = wants_binary_output(payload)
            rows, request_id = _parse_infer(payload, found.model.inputs[0].name)
        except web.HTTPRequestEntityTooLarge:
            response = _error(f"request body larger than {MAX_BODY_BYTES} bytes", 413)
        except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
            response = _error(f"request body is not valid JSON: {str(exc)[:200]}", 400)
        except RecursionError:
            response = _error("request body is JSON nested too deeply to read", 400)
        except (_BadRequest, BadTensorData) as exc:
            response = _error(str(exc), 400)
        except _TooManyRows as exc:
            response = _error(str(exc), 413)
        else:
            try:
                labels = await found.batcher.submit(rows)
            except ModelError as exc:
                response = _error(str(exc), 500)
            else:
                answer: dict[str, Any] = {"model_name": name, "model_version": MODEL_VERSION}
                if request_id is not None:
                    answer["id"] = request_id
                output = {"name": "label", "shape": [len(labels)], "datatype": "BYTES"}
                if binary_output:
                    data = bytes_tensor(labels)
                    answer["outputs"] = [{**output, "parameters": {"binary_data_size": len(data)}}]
                    response = _binary(answer, data)
                else:
                    answer["outputs"] = [{**output, "data": labels}]
                    response = _json(answer)
        found.observe_duration(time.perf_counter() - started)
        self._count(name, response.status)
        return response

    async def openai_models(self, request: web.Request) -> web.Response:
        models = [
            {"id": name, "object": "model", "created": 0, "owned_by": SERVER_NAME}
            for name in sorted(self._endpoints)
        ]
        return _json({"object": "list", "data": models})

    async def embeddings(self, request: web.Request) -> web.Response:
        """OpenAI's embeddings route over the served encoders (see `_openai_embeddings`)."""
        started = time.perf_counter()
        name = UNKNOWN_MODEL
        try:
            try:
                payload = await _decode(await request.read())
            except web.HTTPRequestEntityTooLarge:
                raise BadEmbeddingsRequest(
                    f"body larger than {MAX_BODY_BYTES} bytes", None, 413
                ) from None
            except (ValueError, RecursionError) as exc:
                raise BadEmbeddingsRequest(
                    f"the body is not valid JSON: {str(exc)[:200]}"
                ) from None
            asked = EmbeddingsRequest(payload, MAX_REQUEST_ROWS)
            found = self._endpoints.get(asked.model)
            if found is None:
                known = ", ".join(sorted(self._endpoints))
                raise BadEmbeddingsRequest(
                    f"unknown model {asked.model[:100]!r}; this server serves: {known}",
                    "model",
                    404,
                )
            model = found.model
            if model.embed is None or model.count_tokens is None:
                raise BadEmbeddingsRequest(
                    f"{asked.model!r} is a classifier: POST /v2/models/{asked.model}/infer", "model"
                )
            name = asked.model
            asked.check_dimensions(payload, model.outputs[0].shape[-1])
            embed, count = model.embed, model.count_tokens
            vectors, tokens = await asyncio.to_thread(
                lambda: (embed(asked.texts), count(asked.texts))
            )
            response = _json(embeddings_answer(asked, vectors, tokens))
            found.observe_duration(time.perf_counter() - started)
        except BadEmbeddingsRequest as exc:
            kind = "not_found_error" if exc.status == 404 else "invalid_request_error"
            response = _json(openai_error(str(exc), kind, exc.param), exc.status)
        except Exception as exc:  # the model failed: the client's request was fine
            response = _json(openai_error(f"{name!r} failed: {exc}", "server_error"), 500)
        self._count(name, response.status)
        return response


async def _decode(body: bytes) -> Any:
    if len(body) > THREAD_PARSE_BYTES:
        return await asyncio.to_thread(json.loads, body)
    return json.loads(body)


def _parse_infer(payload: Any, input_name: str) -> tuple[list[str], str | None]:
    """The texts and the id of an inference request, or `_BadRequest` saying what is allowed."""
    if not isinstance(payload, dict):
        raise _BadRequest('the request body must be a JSON object with "inputs"')
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise _BadRequest(f'"id" must be a string, got {type(request_id).__name__}')
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise _BadRequest(
            '"inputs" must be a list of exactly one tensor '
            '{"name", "shape", "datatype": "BYTES", "data"} holding the texts'
        )
    tensor = inputs[0]
    if "name" in tensor and tensor["name"] != input_name:
        raise _BadRequest(
            f"inputs[0].name is {str(tensor['name'])[:100]!r}; this model's input is "
            f"{input_name!r} (see GET /v2/models/<name>)"
        )
    for field in ("name", "shape", "datatype", "data"):
        if field not in tensor:
            raise _BadRequest(
                f'inputs[0] lacks "{field}"; expected "name", "shape", "datatype", "data"'
            )
    datatype = tensor["datatype"]
    if datatype != "BYTES":
        raise _BadRequest(f"inputs[0].datatype is {datatype!r}; this server takes BYTES (texts)")
    shape = tensor["shape"]
    if (
        not isinstance(shape, list)
        or not all(type(dim) is int and dim >= 0 for dim in shape)
        or not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1))
    ):
        raise _BadRequest(f"inputs[0].shape is {shape!r}; expected [N] or [N, 1]")
    if shape[0] > MAX_REQUEST_ROWS:
        raise _TooManyRows(
            f"inputs[0] holds {shape[0]:,} texts; this server takes at most "
            f"{MAX_REQUEST_ROWS:,} per request: split it"
        )
    data = tensor["data"]
    if not isinstance(data, list):
        raise _BadRequest("inputs[0].data must be a list of strings")
    if data and isinstance(data[0], list):  # nested form [[text], [text], ...]
        if not all(isinstance(row, list) and len(row) == 1 for row in data):
            raise _BadRequest("inputs[0].data rows must each hold one string")
        data = [row[0] for row in data]
    if len(data) != shape[0]:
        raise _BadRequest(f"inputs[0].shape says {shape[0]} texts but data holds {len(data)}")
    if not all(isinstance(text, str) for text in data):
        raise _BadRequest("inputs[0].data must hold strings only (datatype BYTES)")
    outputs = payload.get("outputs")
    if outputs is not None and (
        not isinstance(outputs, list)
        or not all(isinstance(out, dict) and out.get("name") == "label" for out in outputs)
    ):
        raise _BadRequest('"outputs" may only ask for the output "label"')
    return data, request_id
