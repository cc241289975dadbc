"""Model artefacts: scikit-learn (joblib/pickle) and ONNX text classifiers, and sentence encoders.

Every classifier answers the same call, ``predict(texts) -> labels``, one label string per input
text, so the server and the micro-batcher never need to know which runtime is underneath. A
sentence-transformers folder is an encoder: ``embed(texts) -> vectors`` instead (served as
OpenAI's ``/v1/embeddings``).

Loading a joblib or pickle file runs code stored in it: load only artefacts you trust.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from modelmeter._exceptions import ModelError

Platform = Literal["sklearn", "onnx", "sentence_transformers"]

SKLEARN_SUFFIXES = (".joblib", ".pkl")
ONNX_SUFFIXES = (".onnx",)
SUPPORTED = (
    "a scikit-learn estimator or Pipeline saved with joblib/pickle (.joblib, .pkl) whose predict "
    "takes a list of strings, or an ONNX text classifier (.onnx) with one tensor(string) input of "
    "shape [N] or [N, 1] and a string or int64 output, or a sentence-transformers folder of a "
    "BERT encoder (config.json, model.safetensors, tokenizer.json) for /v1/embeddings"
)
CLASSES_METADATA_KEY = "modelmeter.classes"
INSTALL_HINT = "pip install 'modelmeter[demo]'"


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One input or output as the Open Inference Protocol describes it; -1 is a variable size."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclass(frozen=True, slots=True)
class ServedModel:
    """A loaded model: ``predict`` maps a list of texts to one label each; an encoder's
    ``embed`` maps them to one vector each (its ``predict`` refuses, naming the route to use).

    Both are synchronous and CPU-bound; they raise whatever the runtime raises.
    """

    name: str
    platform: Platform
    path: Path
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    predict: Callable[[list[str]], list[str]]
    embed: Callable[[list[str]], Any] | None = None  # texts -> float32 array (N, dimensions)
    count_tokens: Callable[[list[str]], int] | None = None

    def metadata(self, versions: Sequence[str] = ("1",)) -> dict[str, Any]:
        """The body of ``GET /v2/models/{name}``."""
        return {
            "name": self.name,
            "versions": list(versions),
            "platform": self.platform,
            "inputs": [spec.to_json() for spec in self.inputs],
            "outputs": [spec.to_json() for spec in self.outputs],
        }


def load_model(path: Path, *, name: str | None = None) -> ServedModel:
    """Load the artefact at ``path``; its runtime is chosen by the file suffix.

    ``name`` defaults to the file name without its suffix. Raises `ModelError` when the file is
    missing, of an unsupported kind, or cannot be loaded by its runtime.
    """
    path = Path(path)
    model_name = name if name is not None else path.stem
    if path.is_dir():
        return _load_encoder(path, model_name)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found; expected {SUPPORTED}")
    suffix = path.suffix.lower()
    if suffix in SKLEARN_SUFFIXES:
        return _load_sklearn(path, model_name)
    if suffix in ONNX_SUFFIXES:
        return _load_onnx(path, model_name)
    raise ModelError(f"{path}: unsupported model file suffix {suffix!r}; expected {SUPPORTED}")


def _load_sklearn(path: Path, name: str) -> ServedModel:
    try:
        import joblib
    except ImportError as exc:
        raise ModelError(
            f"{path}: serving scikit-learn models needs joblib: {INSTALL_HINT}"
        ) from exc
    try:
        estimator = joblib.load(path)
    except ImportError as exc:
        raise ModelError(
            f"{path}: the model needs a package that is not installed ({exc}); "
            f"for scikit-learn models: {INSTALL_HINT}"
        ) from exc
    except Exception as exc:
        raise ModelError(
            f"{path}: cannot load as a scikit-learn artefact ({type(exc).__name__}: {exc}); "
            f"expected {SUPPORTED}"
        ) from exc
    estimator_predict = getattr(estimator, "predict", None)
    if not callable(estimator_predict):
        raise ModelError(
            f"{path}: the file holds a {type(estimator).__name__}, which has no predict(); "
            f"expected {SUPPORTED}"
        )

    def predict(texts: list[str]) -> list[str]:
        return [str(label) for label in estimator_predict(texts)]

    text = TensorSpec("text", "BYTES", (-1,))
    label = TensorSpec("label", "BYTES", (-1,))
    return ServedModel(name, "sklearn", path, (text,), (label,), predict)


def _load_onnx(path: Path, name: str) -> ServedModel:
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError(f"{path}: serving ONNX models needs onnxruntime: {INSTALL_HINT}") from exc

    options = ort.SessionOptions()
    # One model call per batch and one batch at a time per worker: parallelism comes from
    # workers (processes), so a thread pool inside onnxruntime would only fight them for cores.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors surface as exceptions; no warnings on stderr
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        hint = ""
        if "locale" in str(exc).lower():
            hint = (
                "; the model's StringNormalizer names a locale this machine lacks: install it, "
                "or convert with skl2onnx options {TfidfVectorizer: {'locale': 'C.UTF-8'}}"
            )
        raise ModelError(
            f"{path}: onnxruntime cannot load the model ({type(exc).__name__}: {exc}){hint}"
        ) from exc

    session_inputs = session.get_inputs()
    if len(session_inputs) != 1 or session_inputs[0].type != "tensor(string)":
        found = ", ".join(f"{i.name}: {i.type} {i.shape}" for i in session_inputs)
        raise ModelError(
            f"{path}: the ONNX model has inputs [{found}]; expected one tensor(string) input "
            "of shape [N] or [N, 1]"
        )
    model_input = session_inputs[0]
    input_shape = list(model_input.shape)
    if len(input_shape) == 1:
        column = False
    elif len(input_shape) == 2 and input_shape[1] == 1:
        column = True
    else:
        raise ModelError(
            f"{path}: the ONNX input {model_input.name!r} has shape {input_shape}; "
            "expected [N] or [N, 1]"
        )

    session_outputs = session.get_outputs()
    if not session_outputs:
        raise ModelError(f"{path}: the ONNX model has no outputs")
    by_name = {output.name: output for output in session_outputs}
    model_output = by_name.get("label", session_outputs[0])
    if model_output.type not in ("tensor(string)", "tensor(int64)"):
        raise ModelError(
            f"{path}: the ONNX output {model_output.name!r} is {model_output.type}; "
            "expected tensor(string) or tensor(int64) labels"
        )
    classes = _onnx_classes(path, session) if model_output.type == "tensor(int64)" else None

    input_name = model_input.name
    output_names = [model_output.name]
    run = session.run

    def predict(texts: list[str]) -> list[str]:
        batch = np.array(texts, dtype=object)
        if column:
            batch = batch.reshape(-1, 1)
        labels = run(output_names, {input_name: batch})[0].ravel()
        if classes is None:
            return [str(label) for label in labels]
        try:
            return [classes[index] for index in labels.tolist()]
        except IndexError:
            raise ModelError(
                f"{path}: the model returned class index outside {CLASSES_METADATA_KEY} "
                f"(which has {len(classes)} names)"
            ) from None

    text = TensorSpec(input_name, "BYTES", (-1, 1) if column else (-1,))
    label = TensorSpec("label", "BYTES", (-1,))
    return ServedModel(name, "onnx", path, (text,), (label,), predict)


def _onnx_classes(path: Path, session: Any) -> list[str] | None:
    """Class names for int64 labels from the model's metadata; None means labels stay numbers."""
    raw = session.get_modelmeta().custom_metadata_map.get(CLASSES_METADATA_KEY)
    if raw is None:
        return None
    try:
        classes = json.loads(raw)
    except ValueError as exc:
        raise ModelError(
            f"{path}: metadata {CLASSES_METADATA_KEY!r} is not JSON ({exc}); "
            'expected a list of class names such as ["neg", "pos"]'
        ) from exc
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ModelError(
            f"{path}: metadata {CLASSES_METADATA_KEY!r} must be a JSON list of strings, "
            f"got {raw[:100]!r}"
        )
    return classes


def _load_encoder(path: Path, name: str) -> ServedModel:
    from modelmeter.artefacts.sentence_encoder import is_encoder_folder, load_encoder

    if not is_encoder_folder(path):
        raise ModelError(f"{path}: a folder, but not a model one; expected {SUPPORTED}")
    encoder = load_encoder(path)

    def predict(texts: list[str]) -> list[str]:
        raise ModelError(f"{name!r} is an embeddings model: POST /v1/embeddings")

    text = TensorSpec("text", "BYTES", (-1,))
    vector = TensorSpec("embedding", "FP32", (-1, encoder.dimensions))
    return ServedModel(
        name,
        "sentence_transformers",
        path,
        (text,),
        (vector,),
        predict,
        embed=encoder.encode,
        count_tokens=encoder.count_tokens,
    )
