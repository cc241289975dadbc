"""Open Inference Protocol v2 over HTTP (KServe, Triton, MLServer, ``modelmeter serve``)."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import quote

from modelmeter._exceptions import ProtocolFailure
from modelmeter.client import DEFAULT_MAX_BODY_BYTES, PreparedRequest
from modelmeter.data.sample import Sample
from modelmeter.spec.targets import OipTargetSpec
from modelmeter.targets._answers import shown
from modelmeter.targets._http import JsonHttpClient, path_of
from modelmeter.targets.base import Prediction


class OipTarget:
    kind = "oip"

    def __init__(
        self,
        name: str,
        url: str,
        model: str,
        *,
        version: str | None = None,
        input_name: str = "text",
        output_name: str | None = None,
        timeout_s: float = 30.0,
        max_response_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.name = name
        prefix = path_of(url).rstrip("/")
        model_path = f"{prefix}/v2/models/{quote(model)}" + (
            f"/versions/{quote(version)}" if version else ""
        )
        self._infer_path = model_path + "/infer"
        self._ready_path = model_path + "/ready"
        self._input_name = input_name
        self._output_name = output_name
        self._client = JsonHttpClient(url, timeout_s, max_body_bytes=max_response_bytes)
        self._requests: dict[str, PreparedRequest] = {}

    async def start(self) -> None:
        await self._client.open()
        # Some servers answer readiness with an empty body; a 2xx is all we need.
        with contextlib.suppress(ProtocolFailure):
            await self._client.send(self._client.prepare("GET", self._ready_path))

    def _request(self, sample: Sample) -> PreparedRequest:
        prepared = self._requests.get(sample.id)
        if prepared is None:
            request = {
                "inputs": [
                    {
                        "name": self._input_name,
                        "shape": [1],
                        "datatype": "BYTES",
                        "data": [sample.input],
                    }
                ]
            }
            body = json.dumps(request).encode()
            prepared = self._client.prepare("POST", self._infer_path, body)
            self._requests[sample.id] = prepared
        return prepared

    async def predict(self, sample: Sample) -> Prediction:
        response, answer = await self._client.send(self._request(sample))
        return Prediction(
            label=self.read_answer(answer),
            sent_at=response.sent_at,
            first_byte_at=response.first_byte_at,
            done_at=response.done_at,
        )

    def read_answer(self, answer: Any) -> str:
        outputs = answer.get("outputs") if isinstance(answer, dict) else None
        if not isinstance(outputs, list) or not outputs:
            raise ProtocolFailure("OIP answer has no 'outputs' list")
        if not all(isinstance(output, dict) for output in outputs):
            raise ProtocolFailure("OIP answer has an entry in 'outputs' that is not an object")
        chosen = outputs[0]
        if self._output_name is not None:
            chosen = next((o for o in outputs if o.get("name") == self._output_name), None)
            if chosen is None:
                names = [shown(o.get("name")) for o in outputs]
                raise ProtocolFailure(f"OIP answer has no output '{self._output_name}' ({names})")
        data = chosen.get("data")
        while isinstance(data, list) and data:
            data = data[0]
        if data is None or isinstance(data, list | dict):
            raise ProtocolFailure("OIP output has no data")
        return str(data)

    async def close(self) -> None:
        await self._client.close()


def from_spec(spec: OipTargetSpec) -> OipTarget:
    return OipTarget(
        spec.name,
        spec.url,
        spec.model,
        version=spec.version,
        input_name=spec.input_name,
        output_name=spec.output_name,
        timeout_s=spec.timeout_s,
        max_response_bytes=spec.max_response_bytes,
    )
