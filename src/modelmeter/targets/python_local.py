"""A model run in this process: a scikit-learn/ONNX artefact or a ``module:function``.

In-process models run on the event loop's thread, so their latency is the model's own cost with
no network; concurrency beyond one only queues.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelmeter._exceptions import ModelError, ModelFailure, SpecError
from modelmeter.artefacts import ONNX_SUFFIXES, SKLEARN_SUFFIXES, SUPPORTED
from modelmeter.data.sample import Sample
from modelmeter.spec.targets import PythonTargetSpec
from modelmeter.targets.base import Prediction


def import_function(reference: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"cannot import module '{module_name}': {exc}", field="function") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise SpecError(f"'{module_name}' has no function '{attribute}'", field="function")
    return function  # type: ignore[no-any-return]


class PythonTarget:
    kind = "python"

    def __init__(
        self,
        name: str,
        *,
        model_path: Path | None = None,
        function: Callable[[str], Any] | None = None,
    ) -> None:
        if (model_path is None) == (function is None):
            raise ValueError("give exactly one of model_path or function")
        self.name = name
        self._model_path = model_path
        self._function = function
        self._predict_many: Callable[[list[str]], list[str]] | None = None

    async def start(self) -> None:
        if self._model_path is not None and self._predict_many is None:
            from modelmeter.artefacts import load_model

            self._predict_many = load_model(self._model_path).predict

    async def predict(self, sample: Sample) -> Prediction:
        try:
            if self._predict_many is not None:
                result: Any = self._predict_many([sample.input])[0]
            else:
                assert self._function is not None
                result = self._function(sample.input)
                if inspect.isawaitable(result):
                    result = await result
        except ModelError as exc:
            raise ModelFailure(str(exc)) from None
        except Exception as exc:  # a user's model may raise anything; count it, don't crash
            raise ModelFailure(f"{type(exc).__name__}: {exc}") from None
        return Prediction(label=str(result))

    async def close(self) -> None:
        self._predict_many = None


def from_spec(spec: PythonTargetSpec) -> PythonTarget:
    if spec.function is not None:
        return PythonTarget(spec.name, function=import_function(spec.function))
    path = spec.model_path
    if path is not None and path.suffix.lower() not in (*SKLEARN_SUFFIXES, *ONNX_SUFFIXES):
        raise SpecError(
            f"{path.name} is not a model file this target runs: {SUPPORTED}", field="model_path"
        )
    return PythonTarget(spec.name, model_path=path)
