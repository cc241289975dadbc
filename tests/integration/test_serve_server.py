"""A real `modelmeter.serve` subprocess on 127.0.0.1, spoken to with aiohttp's client."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import joblib
import pytest
from prometheus_client.parser import text_string_to_metric_families
from skl2onnx import to_onnx
from skl2onnx.common.data_types import StringTensorType
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from modelmeter._exceptions import ServerError
from modelmeter.serve import ServerProcess, start_server_process

TEXTS = ["good movie", "great film", "bad movie", "terrible film", "awful plot", "lovely acting"]
LABELS = ["pos", "pos", "neg", "neg", "neg", "pos"]
QUERIES = [f"{a} {b}" for a in ("good", "awful", "lovely", "bad") for b in ("film", "plot")]


@dataclass
class Artefacts:
    pipeline: Pipeline
    joblib_path: Path
    onnx_path: Path


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    folder = tmp_path_factory.mktemp("models")
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS * 3, LABELS * 3)
    joblib_path = folder / "sentiment.joblib"
    joblib.dump(pipeline, joblib_path)
    options = {
        id(pipeline.steps[0][1]): {"locale": "C.UTF-8"},
        id(pipeline.steps[-1][1]): {"zipmap": False},
    }
    exported = to_onnx(
        pipeline, initial_types=[("text", StringTensorType([None, 1]))], options=options
    )
    onnx_path = folder / "sentiment.onnx"
    onnx_path.write_bytes(exported.SerializeToString())
    return Artefacts(pipeline, joblib_path, onnx_path)


@pytest.fixture(scope="module")
def server(artefacts: Artefacts) -> Iterator[ServerProcess]:
    models = {"sentiment": artefacts.joblib_path, "sentiment-onnx": artefacts.onnx_path}
    with start_server_process(models) as running:
        yield running


def infer_body(texts: list[str], **extra: Any) -> dict[str, Any]:
    tensor = {"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}
    return {"inputs": [tensor], **extra}


async def fetch(
    session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any]:
    async with session.request(method, url, **kwargs) as response:
        text = await response.text()
        if response.content_type == "application/json":
            return response.status, json.loads(text)
        return response.status, text


def request(method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async def go() -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            return await fetch(session, method, url, **kwargs)

    return asyncio.run(go())


def infer_concurrently(url: str, model: str, texts: list[str]) -> list[tuple[int, Any]]:
    async def go() -> list[tuple[int, Any]]:
        async with aiohttp.ClientSession() as session:
            endpoint = f"{url}/v2/models/{model}/infer"
            return await asyncio.gather(
                *(fetch(session, "POST", endpoint, json=infer_body([text])) for text in texts)
            )

    return asyncio.run(go())


def metric_samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, text = request("GET", f"{url}/metrics")
    assert status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_health_and_server_metadata(server: ServerProcess) -> None:
    assert request("GET", f"{server.url}/v2/health/live")[0] == 200
    assert request("GET", f"{server.url}/v2/health/ready")[0] == 200
    status, body = request("GET", f"{server.url}/v2")
    assert status == 200
    assert body["name"] == "modelmeter"
    assert isinstance(body["version"], str)
    assert body["extensions"] == ["binary_tensor_data"]


@pytest.mark.parametrize("suffix", ["", "/versions/1"])
def test_model_metadata_and_readiness(server: ServerProcess, suffix: str) -> None:
    status, body = request("GET", f"{server.url}/v2/models/sentiment-onnx{suffix}")

    assert status == 200
    assert body == {
        "name": "sentiment-onnx",
        "versions": ["1"],
        "platform": "onnx",
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1, 1]}],
        "outputs": [{"name": "label", "datatype": "BYTES", "shape": [-1]}],
    }
    assert request("GET", f"{server.url}/v2/models/sentiment{suffix}/ready")[0] == 200


@pytest.mark.parametrize("model", ["sentiment", "sentiment-onnx"])
def test_predictions_equal_calling_the_model(
    server: ServerProcess, artefacts: Artefacts, model: str
) -> None:
    status, body = request(
        "POST", f"{server.url}/v2/models/{model}/infer", json=infer_body(QUERIES, id="req-7")
    )

    assert status == 200
    assert body == {
        "model_name": model,
        "model_version": "1",
        "id": "req-7",
        "outputs": [
            {
                "name": "label",
                "shape": [len(QUERIES)],
                "datatype": "BYTES",
                "data": list(artefacts.pipeline.predict(QUERIES)),
            }
        ],
    }


def test_nested_data_of_shape_n_by_1_and_versioned_path(
    server: ServerProcess, artefacts: Artefacts
) -> None:
    tensor = {"name": "text", "shape": [2, 1], "datatype": "BYTES", "data": [["good"], ["awful"]]}
    status, body = request(
        "POST", f"{server.url}/v2/models/sentiment/versions/1/infer", json={"inputs": [tensor]}
    )

    assert status == 200
    assert "id" not in body
    assert body["outputs"][0]["data"] == list(artefacts.pipeline.predict(["good", "awful"]))


@pytest.mark.parametrize(
    ("path", "payload", "status", "message"),
    [
        ("sentiment", b"{not json", 400, "request body is not valid JSON"),
        ("sentiment", {"id": "x"}, 400, '"inputs" must be a list of exactly one tensor'),
        (
            "sentiment",
            {"inputs": [{"name": "text", "shape": [1], "datatype": "FP32", "data": [1.0]}]},
            400,
            "inputs[0].datatype is 'FP32'; this server takes BYTES",
        ),
        (
            "sentiment",
            {"inputs": [{"name": "text", "shape": [3], "datatype": "BYTES", "data": ["a"]}]},
            400,
            "inputs[0].shape says 3 texts but data holds 1",
        ),
        (
            "sentiment",
            {"inputs": [{"name": "text", "datatype": "BYTES", "data": ["a"]}]},
            400,
            'inputs[0] lacks "shape"',
        ),
        ("nope", infer_body(["a"]), 404, "unknown model 'nope'; this server serves: sentiment,"),
        ("sentiment/versions/2", infer_body(["a"]), 404, "has no version '2'; versions: 1"),
    ],
)
def test_errors_are_json_and_say_what_is_allowed(
    server: ServerProcess, path: str, payload: Any, status: int, message: str
) -> None:
    kwargs = {"data": payload} if isinstance(payload, bytes) else {"json": payload}

    answered, body = request("POST", f"{server.url}/v2/models/{path}/infer", **kwargs)

    assert answered == status
    assert set(body) == {"error"}
    assert message in body["error"]


def test_unknown_model_metadata_is_404(server: ServerProcess) -> None:
    status, body = request("GET", f"{server.url}/v2/models/nope")

    assert status == 404
    assert body == {"error": "unknown model 'nope'; this server serves: sentiment, sentiment-onnx"}


def test_metrics_count_requests_and_batches_stay_single_without_batching(
    server: ServerProcess,
) -> None:
    before = metric_samples(server.url)

    answers = infer_concurrently(server.url, "sentiment", QUERIES * 2)
    request("POST", f"{server.url}/v2/models/sentiment/infer", data=b"{")

    after = metric_samples(server.url)
    assert all(status == 200 for status, _ in answers)
    ok = ("modelmeter_serve_requests_total", {"model": "sentiment", "status": "200"})
    bad = ("modelmeter_serve_requests_total", {"model": "sentiment", "status": "400"})
    assert sample(after, ok[0], **ok[1]) - sample(before, ok[0], **ok[1]) == len(answers)
    assert sample(after, bad[0], **bad[1]) - sample(before, bad[0], **bad[1]) == 1
    latency = "gen_ai_server_request_duration_seconds_count"
    assert (
        sample(after, latency, gen_ai_request_model="sentiment", gen_ai_operation_name="predict")
        >= len(answers) + 1
    )
    assert sample(after, "modelmeter_serve_queue_depth", model="sentiment") == 0

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    # max_batch_size=1 and one-row requests: every model call had exactly one row.
    assert delta("modelmeter_serve_batch_size_count", model="sentiment") == len(answers)
    assert delta("modelmeter_serve_batch_size_bucket", model="sentiment", le="1.0") == len(answers)


def test_concurrent_requests_are_batched(artefacts: Artefacts) -> None:
    texts = QUERIES * 4
    # A generous wait so that batches form even on a busy machine.
    with start_server_process(
        {"sentiment": artefacts.joblib_path}, max_batch_size=16, max_wait_ms=50
    ) as running:
        answers = infer_concurrently(running.url, "sentiment", texts)
        after = metric_samples(running.url)

    assert running.process.returncode == 0  # a graceful stop
    assert [body["outputs"][0]["data"][0] for _, body in answers] == list(
        artefacts.pipeline.predict(texts)
    )
    batches = sample(after, "modelmeter_serve_batch_size_count", model="sentiment")
    single = sample(after, "modelmeter_serve_batch_size_bucket", model="sentiment", le="1.0")
    assert sample(after, "modelmeter_serve_batch_size_sum", model="sentiment") == len(texts)
    assert single < batches  # at least one model call merged several requests


def test_two_workers_serve_and_report_metrics_together(artefacts: Artefacts) -> None:
    texts = QUERIES * 5
    with start_server_process(
        {"sentiment": artefacts.joblib_path}, workers=2, max_batch_size=4
    ) as running:
        answers = infer_concurrently(running.url, "sentiment", texts)
        after = metric_samples(running.url)

    assert [status for status, _ in answers] == [200] * len(texts)
    assert [body["outputs"][0]["data"][0] for _, body in answers] == list(
        artefacts.pipeline.predict(texts)
    )
    # Multiprocess metrics: one scrape counts the requests of both workers.
    assert sample(after, "modelmeter_serve_requests_total", model="sentiment", status="200") == len(
        texts
    )
    assert sample(after, "modelmeter_serve_batch_size_sum", model="sentiment") == len(texts)


def test_a_server_that_cannot_start_reports_its_stderr(tmp_path: Path) -> None:
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a pickle")

    with pytest.raises(ServerError) as raised:
        start_server_process({"broken": broken}, ready_timeout_s=30)

    assert "exited with code 1 before it was ready" in str(raised.value)
    assert "cannot load as a scikit-learn artefact" in str(raised.value)


def test_a_port_in_use_is_reported(server: ServerProcess, artefacts: Artefacts) -> None:
    with pytest.raises(ServerError, match=r"cannot listen on 127\.0\.0\.1:\d+: "):
        start_server_process({"sentiment": artefacts.joblib_path}, port=server.port)


def _raw(server: ServerProcess, data: bytes) -> bytes:
    """Send ``data`` as it is and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _post(body: bytes) -> bytes:
    return (
        b"POST /v2/models/sentiment/infer HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )


def test_json_nested_too_deeply_is_400_not_500(server: ServerProcess) -> None:
    answer = _raw(server, _post(b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body) == {"error": "request body is JSON nested too deeply to read"}


def test_a_request_of_too_many_texts_is_413(server: ServerProcess) -> None:
    status, body = request(
        "POST", f"{server.url}/v2/models/sentiment/infer", json=infer_body(["a"] * 70_000)
    )
    assert status == 413
    assert body == {
        "error": "inputs[0] holds 70,000 texts; this server takes at most 65,536 per request: "
        "split it"
    }


def test_a_malformed_request_is_one_log_line(server: ServerProcess) -> None:
    marker = f"X-Marker-{uuid.uuid4().hex}"
    answer = _raw(
        server, f"GET /v2 HTTP/1.1\r\nHost: x\r\n{marker}: {'a' * 10_000}\r\n\r\n".encode()
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"431"
    assert json.loads(body) == {"error": "a header line over 8,190 bytes"}
    assert request("GET", f"{server.url}/v2/health/live") == (200, {"live": True})
    log = server.log_tail(100_000)
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if "Got more than 8190 bytes" in line]
    assert lines and all(
        line.startswith("Error handling request from 127.0.0.1: 400") for line in lines
    )


def test_a_large_request_does_not_hold_the_others(server: ServerProcess) -> None:
    # 60,000 texts take a good part of a second to predict; health checks sent meanwhile are
    # answered while it is still in flight (inline, they all waited for it).
    texts = ["a good film with a terrible plot and lovely acting"] * 60_000

    async def go() -> tuple[int, int]:
        async with aiohttp.ClientSession() as session:
            payload = io.BytesIO(json.dumps(infer_body(texts)).encode())
            big = asyncio.create_task(
                fetch(
                    session,
                    "POST",
                    f"{server.url}/v2/models/sentiment/infer",
                    data=payload,
                    headers={"Content-Type": "application/json"},
                )
            )
            answered_meanwhile = 0
            while not big.done():
                status, _ = await fetch(session, "GET", f"{server.url}/v2/health/live")
                assert status == 200
                answered_meanwhile += not big.done()
                await asyncio.sleep(0.005)
            status, body = await big
            assert len(body["outputs"][0]["data"]) == len(texts)
            return status, answered_meanwhile

    status, answered_meanwhile = asyncio.run(go())
    assert status == 200
    assert answered_meanwhile >= 2


@pytest.mark.parametrize(
    ("raw", "status", "error"),
    [
        (
            b"GET /v2/" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            414,
            "request target over 8,190 bytes",
        ),
        (
            b"GET /v2 HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-N%d: 1\r\n" % n for n in range(200))
            + b"\r\n",
            431,
            "too many headers",
        ),
        (
            b"POST /v2 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            400,
            "malformed HTTP request",
        ),
        (b"\x16\x03\x01 not http\r\n\r\n", 400, "malformed HTTP request"),
    ],
    ids=["long-target", "many-headers", "bad-length", "tls-on-http"],
)
def test_unparsable_requests_get_their_status_and_a_json_error(
    server: ServerProcess, raw: bytes, status: int, error: str
) -> None:
    # aiohttp's own answer was a plain-text 400 that quoted the client's bytes back.
    head, _, body = _raw(server, raw).partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode()
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body) == {"error": error}
    assert request("GET", f"{server.url}/v2/health/live") == (200, {"live": True})


def test_unknown_routes_and_methods_answer_json(server: ServerProcess) -> None:
    assert request("GET", f"{server.url}/nowhere") == (
        404,
        {"error": "no route GET /nowhere; see GET /v2"},
    )
    status, body = request("GET", f"{server.url}/v2/models/sentiment/infer")
    assert status == 405
    assert body["error"].startswith("/v2/models/sentiment/infer takes POST")


def test_a_wrong_input_name_is_refused_with_the_right_one(server: ServerProcess) -> None:
    payload = infer_body(["good"])
    payload["inputs"][0]["name"] = "INPUT0"
    status, body = request("POST", f"{server.url}/v2/models/sentiment/infer", json=payload)
    assert status == 400
    assert body["error"].startswith("inputs[0].name is 'INPUT0'; this model's input is 'text'")


def _binary_head(size: int) -> bytes:
    tensor = {"name": "text", "shape": [1], "datatype": "BYTES"}
    return json.dumps({"inputs": [{**tensor, "parameters": {"binary_data_size": size}}]}).encode()


def test_binary_tensor_data_is_read_and_answered_in_kind(
    server: ServerProcess, artefacts: Artefacts
) -> None:
    """What tritonclient sends by default (binary_data=True): a JSON head, then raw bytes."""
    head = json.loads(_binary_head(8))
    head["parameters"] = {"binary_data_output": True}
    encoded = json.dumps(head).encode()

    async def go() -> tuple[int, dict[str, str], bytes]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{server.url}/v2/models/sentiment/infer",
                data=encoded + b"\x04\x00\x00\x00good",
                headers={"Inference-Header-Content-Length": str(len(encoded))},
            ) as response,
        ):
            return response.status, dict(response.headers), await response.read()

    status, headers, body = asyncio.run(go())
    assert status == 200, body
    length = int(headers["Inference-Header-Content-Length"])
    answer = json.loads(body[:length])
    assert answer["outputs"][0]["parameters"] == {"binary_data_size": len(body) - length}
    label = artefacts.pipeline.predict(["good"])[0]
    assert body[length:] == len(label).to_bytes(4, "little") + label.encode()


@pytest.mark.parametrize(
    ("head", "data", "problem"),
    [
        ("999999", b"", "Inference-Header-Content-Length is '999999'"),
        ("x", b"", "Inference-Header-Content-Length is 'x'"),
        (None, b"\x04\x00\x00\x00go", "says 8 bytes of binary data but 6 are left"),
        (None, b"\x04\x00\x00\x00goodEXTRA", "5 bytes of binary data follow the last tensor"),
        (None, b"\x09\x00\x00\x00good", "a BYTES element is longer than its data"),
        (None, b"\x04\x00\x00\x00\xff\xfe\xfd\xfc", "an element is not UTF-8 text"),
    ],
)
def test_broken_binary_tensor_data_is_a_400_saying_what_is_wrong(
    server: ServerProcess, head: str | None, data: bytes, problem: str
) -> None:
    encoded = _binary_head(8)
    status, body = request(
        "POST",
        f"{server.url}/v2/models/sentiment/infer",
        data=encoded + data,
        headers={"Inference-Header-Content-Length": head or str(len(encoded))},
    )
    assert status == 400
    assert problem in body["error"]


def test_tritonclient_works_with_its_default_settings(
    server: ServerProcess, artefacts: Artefacts
) -> None:
    """NVIDIA's own client, binary tensors both ways, as a Triton user calls it."""
    import numpy as np

    tritonclient = pytest.importorskip("tritonclient.http")
    client = tritonclient.InferenceServerClient(server.url.removeprefix("http://"))
    try:
        texts = np.array([[q.encode()] for q in QUERIES], dtype=object)
        tensor = tritonclient.InferInput("text", list(texts.shape), "BYTES")
        tensor.set_data_from_numpy(texts)  # binary_data=True by default
        result = client.infer("sentiment", [tensor])
        requested = client.infer(
            "sentiment", [tensor], outputs=[tritonclient.InferRequestedOutput("label")]
        )
        assert client.is_server_live()
    finally:
        client.close()
    expected = list(artefacts.pipeline.predict(QUERIES))
    assert [label.decode() for label in result.as_numpy("label")] == expected
    assert [label.decode() for label in requested.as_numpy("label")] == expected
