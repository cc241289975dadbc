"""Local model files: scikit-learn (joblib/pickle) and ONNX text classifiers, loaded into one
``predict(texts) -> labels`` call.

Both ``modelmeter serve`` and the in-process ``python`` target load models through here, so a
model answers the same whether it is served over HTTP or called in-process.
"""

from modelmeter.artefacts.loaders import (
    CLASSES_METADATA_KEY,
    INSTALL_HINT,
    ONNX_SUFFIXES,
    SKLEARN_SUFFIXES,
    SUPPORTED,
    Platform,
    ServedModel,
    TensorSpec,
    load_model,
)

__all__ = [
    "CLASSES_METADATA_KEY",
    "INSTALL_HINT",
    "ONNX_SUFFIXES",
    "SKLEARN_SUFFIXES",
    "SUPPORTED",
    "Platform",
    "ServedModel",
    "TensorSpec",
    "load_model",
]
