"""Open Inference Protocol v2 over HTTP (KServe, Triton, MLServer, ``modelmeter serve``)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from modelmeter._exceptions import ProtocolFailure
from modelmeter.data.sample import Sample
from modelmeter.targets._http import JsonHttpClient
from modelmeter.targets.base import Prediction
from modelmeter.targets.registry import register_target


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
    ) -> None:
        self.name = name
        self._base = url.rstrip("/")
        model_path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "")
        self._infer_url = self._base + model_path + "/infer"
        self._ready_url = self._base + model_path + "/ready"
        self._input_name = input_name
        self._output_name = output_name
        self._client = JsonHttpClient(timeout_s)
        self._bodies: dict[str, bytes] = {}

    async def start(self) -> None:
        await self._client.open()
        # Some servers answer readiness with an empty body; a 2xx is all we need.
        with contextlib.suppress(ProtocolFailure):
            await self._client.request_json("GET", self._ready_url)

    def _body(self, sample: Sample) -> bytes:
        body = self._bodies.get(sample.id)
        if body is None:
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
            body = self._bodies[sample.id] = json.dumps(request).encode()
        return body

    async def predict(self, sample: Sample) -> Prediction:
        answer = await self._client.request_json("POST", self._infer_url, self._body(sample))
        return Prediction(label=self._label(answer))

    def _label(self, answer: Any) -> str:
        outputs = answer.get("outputs") if isinstance(answer, dict) else None
        if not isinstance(outputs, list) or not outputs:
            raise ProtocolFailure("OIP answer has no 'outputs' list")
        chosen = outputs[0]
        if self._output_name is not None:
            chosen = next((o for o in outputs if o.get("name") == self._output_name), None)
            if chosen is None:
                names = [o.get("name") for o in outputs]
                raise ProtocolFailure(f"OIP answer has no output '{self._output_name}' ({names})")
        data = chosen.get("data") if isinstance(chosen, dict) else None
        while isinstance(data, list) and data:
            data = data[0]
        if data is None or isinstance(data, list):
            raise ProtocolFailure("OIP output has no data")
        return str(data)

    async def close(self) -> None:
        await self._client.close()


@register_target("oip")
def _from_spec(spec: Any) -> OipTarget:
    return OipTarget(
        spec.name,
        spec.url,
        spec.model,
        version=spec.version,
        input_name=spec.input_name,
        output_name=spec.output_name,
        timeout_s=spec.timeout_s,
    )
