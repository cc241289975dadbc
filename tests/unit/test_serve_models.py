"""Loading scikit-learn and ONNX artefacts, and the errors for everything else."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import joblib
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import StringTensorType
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from modelmeter._exceptions import ModelError
from modelmeter.artefacts import CLASSES_METADATA_KEY, load_model
from modelmeter.serve import parse_model_args

TEXTS = ["good movie", "great film", "bad movie", "terrible film", "awful plot", "lovely acting"]
LABELS = ["pos", "pos", "neg", "neg", "neg", "pos"]
QUERIES = ["a great movie", "awful film", "lovely plot", "terrible acting"]


def train(labels: list[str] | list[int]) -> Pipeline:
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS * 3, labels * 3)


def export_onnx(pipeline: Pipeline, path: Path, shape: list[int | None]) -> onnx.ModelProto:
    # A fixed locale: skl2onnx's default (en_US) is missing on minimal systems.
    options = {
        id(pipeline.steps[0][1]): {"locale": "C.UTF-8"},
        id(pipeline.steps[-1][1]): {"zipmap": False},
    }
    model = to_onnx(pipeline, initial_types=[("text", StringTensorType(shape))], options=options)
    path.write_bytes(model.SerializeToString())
    return model


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return train(LABELS)


def test_a_joblib_pipeline_predicts_like_the_pipeline(pipeline: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "sentiment.joblib"
    joblib.dump(pipeline, path)

    model = load_model(path)

    assert model.name == "sentiment"
    assert model.platform == "sklearn"
    assert model.predict(QUERIES) == list(pipeline.predict(QUERIES))
    assert model.metadata() == {
        "name": "sentiment",
        "versions": ["1"],
        "platform": "sklearn",
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": "label", "datatype": "BYTES", "shape": [-1]}],
    }


def test_a_pickle_loads_under_the_given_name(pipeline: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(pipeline))

    model = load_model(path, name="clf")

    assert model.name == "clf"
    assert model.predict(["good film"]) == [str(pipeline.predict(["good film"])[0])]


@pytest.mark.parametrize("shape", [[None], [None, 1]], ids=["N", "N-1"])
def test_an_onnx_text_classifier_predicts_like_the_pipeline(
    pipeline: Pipeline, tmp_path: Path, shape: list[int | None]
) -> None:
    path = tmp_path / "sentiment.onnx"
    export_onnx(pipeline, path, shape)

    model = load_model(path)

    assert model.platform == "onnx"
    assert model.predict(QUERIES) == list(pipeline.predict(QUERIES))
    assert model.inputs[0].shape == ((-1,) if len(shape) == 1 else (-1, 1))
    assert model.outputs[0].name == "label"


def test_int64_labels_are_named_from_metadata(tmp_path: Path) -> None:
    pipeline = train([1 if label == "pos" else 0 for label in LABELS])
    path = tmp_path / "numeric.onnx"
    exported = export_onnx(pipeline, path, [None, 1])
    entry = exported.metadata_props.add()
    entry.key, entry.value = CLASSES_METADATA_KEY, json.dumps(["neg", "pos"])
    path.write_bytes(exported.SerializeToString())

    model = load_model(path)

    expected = ["pos" if label == 1 else "neg" for label in pipeline.predict(QUERIES)]
    assert model.predict(QUERIES) == expected


def test_int64_labels_without_class_names_stay_numbers(tmp_path: Path) -> None:
    pipeline = train([1 if label == "pos" else 0 for label in LABELS])
    path = tmp_path / "numeric.onnx"
    export_onnx(pipeline, path, [None])

    assert load_model(path).predict(QUERIES) == [str(x) for x in pipeline.predict(QUERIES)]


def write_graph(path: Path, input_type: int, input_shape: list[int | str | None]) -> None:
    """An ONNX model that passes its one input through unchanged."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["label"])],
        "passthrough",
        [helper.make_tensor_value_info("x", input_type, input_shape)],
        [helper.make_tensor_value_info("label", input_type, input_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


def test_a_hand_built_string_graph_satisfies_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "echo.onnx"
    write_graph(path, TensorProto.STRING, ["N"])

    assert load_model(path).predict(["a", "b"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("input_type", "shape", "message"),
    [
        (TensorProto.FLOAT, ["N", 1], r"expected one tensor\(string\) input"),
        (TensorProto.STRING, ["N", 2], r"has shape \['N', 2\]; expected \[N\] or \[N, 1\]"),
    ],
)
def test_onnx_models_outside_the_contract_are_refused(
    tmp_path: Path, input_type: int, shape: list[int | str | None], message: str
) -> None:
    path = tmp_path / "other.onnx"
    write_graph(path, input_type, shape)

    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_bad_class_metadata_is_refused(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["label"], value_int64s=[0])],
        "constant",
        [helper.make_tensor_value_info("x", TensorProto.STRING, ["N"])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    entry = model.metadata_props.add()
    entry.key, entry.value = CLASSES_METADATA_KEY, '{"not": "a list"}'
    path = tmp_path / "constant.onnx"
    path.write_bytes(model.SerializeToString())

    with pytest.raises(ModelError, match="must be a JSON list of strings"):
        load_model(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "unsupported model file suffix '.txt'"),
        ("broken.joblib", b"not a pickle", "cannot load as a scikit-learn artefact"),
        ("broken.onnx", b"not a graph", "onnxruntime cannot load the model"),
    ],
)
def test_unloadable_files_name_the_path_and_what_is_supported(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ModelError, match=message) as raised:
        load_model(path)

    assert str(path) in str(raised.value)


def test_an_object_without_predict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.joblib"
    joblib.dump({"threshold": 0.5}, path)

    with pytest.raises(ModelError, match="holds a dict, which has no predict"):
        load_model(path)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "absent.joblib")


def test_a_missing_runtime_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "echo.onnx"
    write_graph(path, TensorProto.STRING, ["N"])
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail

    with pytest.raises(ModelError, match=r"pip install 'modelmeter\[demo\]'"):
        load_model(path)


def test_predictions_come_back_as_plain_strings(tmp_path: Path) -> None:
    pipeline = train([1 if label == "pos" else 0 for label in LABELS])
    path = tmp_path / "numeric.joblib"
    joblib.dump(pipeline, path)

    labels = load_model(path).predict(QUERIES)

    assert labels == [str(x) for x in pipeline.predict(QUERIES)]
    assert all(type(label) is str for label in labels)
    assert not isinstance(labels, np.ndarray)


def test_model_arguments_parse_into_names_and_paths() -> None:
    assert parse_model_args(["a=x.joblib", "b.v2=dir/y.onnx"]) == {
        "a": Path("x.joblib"),
        "b.v2": Path("dir/y.onnx"),
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["model.joblib"], "is not NAME=PATH"),
        (["a="], "is not NAME=PATH"),
        (["a b=x.joblib"], "may hold only letters, digits"),
        (["a=x.joblib", "a=y.joblib"], "given twice"),
        ([], "no model given"),
    ],
)
def test_bad_model_arguments_say_what_is_wrong(items: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_model_args(items)
