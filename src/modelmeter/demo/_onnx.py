"""Export of the demo's scikit-learn text classifiers to ONNX, built node by node.

skl2onnx's text converters cannot export the demo's featurisation faithfully (see ``_features``), so
this module writes the graph itself. A supported pipeline is ``TfidfVectorizer`` or a
``FeatureUnion`` of them, each with a ``CharNgrams`` or ``WordNgrams`` analyser, followed by a
``LogisticRegression``. Each vectoriser becomes one branch::

    text [N] -> Tokenizer -> LabelEncoder (fold case) -> TfIdfVectorizer (counts x idf)
             -> MatMul (the branch's rows of the coefficients) / L2 norm of the features

the branch scores are summed with the intercept, ``ArgMax`` + ``Gather`` give the ``label`` output
(strings) and ``Softmax`` the ``probabilities`` output; the class names are also stored in the
metadata key ``modelmeter.classes``. Everything runs on onnxruntime's default CPU provider with no
locale and no extension library.

With ``int8_weights=True`` the coefficient matrices are stored as int8 with one scale per class
and turned back into float32 by ``Cast`` and ``Mul`` nodes on constants, which onnxruntime folds
once, when the session is created: the file shrinks, the arithmetic stays float32, and the result
for a text never depends on the other texts of its batch (dynamic activation quantisation, as
``onnxruntime.quantization.quantize_dynamic`` does it, takes one scale per batch).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from modelmeter.demo._features import (
    WORD_PATTERN,
    CharNgrams,
    WordNgrams,
    char_preimages,
    word_preimages,
)

CLASSES_METADATA_KEY = "modelmeter.classes"
INPUT_NAME = "text"
LABEL_OUTPUT = "label"
PROBABILITIES_OUTPUT = "probabilities"

# onnxruntime >= 1.18 (the oldest the demo supports) reads IR 10 at most and these opsets.
_IR_VERSION = 9
_OPSETS = {"": 17, "ai.onnx.ml": 3, "com.microsoft": 1}
# Neither can be a token: character tokens are one code point, word tokens have no control chars.
_PAD = "\x00pad"
_UNKNOWN = "\x00unknown"
_L2_FLOOR = 1e-12


class UnsupportedPipelineError(ValueError):
    """The pipeline has a step or a setting this exporter cannot reproduce exactly."""


@dataclass(frozen=True)
class _Branch:
    analyzer: CharNgrams | WordNgrams
    vocabulary: dict[str, int]
    idf: np.ndarray[Any, np.dtype[np.float64]] | None
    l2_normalise: bool
    column_offset: int


def to_onnx(pipeline: Any, *, int8_weights: bool = False, doc_string: str = "") -> onnx.ModelProto:
    """The ONNX model computing the same labels as ``pipeline.predict`` (float32 instead of 64)."""
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) != 2:
        raise UnsupportedPipelineError("expected Pipeline([features, LogisticRegression])")
    branches = _branches(steps[0][1])
    classifier = steps[1][1]
    if type(classifier).__name__ != "LogisticRegression":
        raise UnsupportedPipelineError(
            f"the classifier must be a LogisticRegression, not {type(classifier).__name__}"
        )
    if getattr(classifier, "multi_class", None) == "ovr" and len(classifier.classes_) > 2:
        raise UnsupportedPipelineError("one-vs-rest LogisticRegression is not supported")
    coef = np.asarray(classifier.coef_, dtype=np.float64)
    intercept = np.asarray(classifier.intercept_, dtype=np.float64)
    classes = [str(label) for label in classifier.classes_]
    if coef.shape[0] == 1:  # binary: predict is classes[score > 0], probability sigmoid(score)
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])

    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    partial_scores = []
    for index, branch in enumerate(branches):
        prefix = f"b{index}_"
        features, ordered_columns = _featurise(branch, prefix, nodes, initializers)
        weights = coef[:, branch.column_offset + ordered_columns].T.astype(np.float32)
        scores = _matmul(features, weights, prefix, int8_weights, nodes, initializers)
        if branch.l2_normalise:
            # (x / |x|) W == (x W) / |x|: dividing the N x classes scores instead of the N x
            # vocabulary features saves a pass over the largest tensor of the graph.
            scores = _divide_by_l2_norm(scores, features, prefix, nodes, initializers)
        partial_scores.append(scores)

    initializers.append(numpy_helper.from_array(intercept.astype(np.float32), "intercept"))
    summed = partial_scores[0]
    for index, partial in enumerate(partial_scores[1:], start=1):
        nodes.append(helper.make_node("Add", [summed, partial], [f"sum{index}"]))
        summed = f"sum{index}"
    nodes.append(helper.make_node("Add", [summed, "intercept"], ["scores"]))
    nodes.append(helper.make_node("ArgMax", ["scores"], ["best"], axis=1, keepdims=0))
    initializers.append(numpy_helper.from_array(np.array(classes, dtype=object), "classes"))
    nodes.append(helper.make_node("Gather", ["classes", "best"], [LABEL_OUTPUT], axis=0))
    nodes.append(helper.make_node("Softmax", ["scores"], [PROBABILITIES_OUTPUT], axis=1))

    # Declared because onnx's shape inference does not know the com.microsoft Tokenizer, and
    # crashes inferring the LabelEncoder after it when this type is missing.
    token_types = [
        helper.make_tensor_value_info(node.output[0], TensorProto.STRING, ["N", f"tokens{index}"])
        for index, node in enumerate(nodes)
        if node.op_type == "Tokenizer"
    ]
    graph = helper.make_graph(
        nodes,
        "modelmeter_text_classifier",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.STRING, ["N"])],
        [
            helper.make_tensor_value_info(LABEL_OUTPUT, TensorProto.STRING, ["N"]),
            helper.make_tensor_value_info(
                PROBABILITIES_OUTPUT, TensorProto.FLOAT, ["N", len(classes)]
            ),
        ],
        initializer=initializers,
        value_info=token_types,
    )
    model = helper.make_model(
        graph,
        ir_version=_IR_VERSION,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in _OPSETS.items()],
        producer_name="modelmeter",
        doc_string=doc_string,
    )
    helper.set_model_props(model, {CLASSES_METADATA_KEY: json.dumps(classes)})
    onnx.checker.check_model(model, full_check=True)
    return model


def _branches(features: Any) -> list[_Branch]:
    if type(features).__name__ == "FeatureUnion":
        if features.transformer_weights:
            raise UnsupportedPipelineError("FeatureUnion transformer_weights are not supported")
        vectorizers = [vectorizer for _, vectorizer in features.transformer_list]
    else:
        vectorizers = [features]
    branches = []
    offset = 0
    for vectorizer in vectorizers:
        branches.append(_branch(vectorizer, offset))
        offset += len(vectorizer.vocabulary_)
    return branches


def _branch(vectorizer: Any, column_offset: int) -> _Branch:
    name = type(vectorizer).__name__
    if name != "TfidfVectorizer":
        raise UnsupportedPipelineError(f"features must be TfidfVectorizers, not {name}")
    if not isinstance(vectorizer.analyzer, CharNgrams | WordNgrams):
        raise UnsupportedPipelineError(
            f"the analyzer must be CharNgrams or WordNgrams, not {vectorizer.analyzer!r}"
        )
    if vectorizer.binary or vectorizer.sublinear_tf:
        raise UnsupportedPipelineError("binary=True and sublinear_tf=True are not supported")
    if vectorizer.norm not in ("l2", None):
        raise UnsupportedPipelineError(f"norm={vectorizer.norm!r} is not supported (l2 or None)")
    return _Branch(
        analyzer=vectorizer.analyzer,
        vocabulary=dict(vectorizer.vocabulary_),
        idf=vectorizer.idf_ if vectorizer.use_idf else None,
        l2_normalise=vectorizer.norm == "l2",
        column_offset=column_offset,
    )


def _featurise(
    branch: _Branch, prefix: str, nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto]
) -> tuple[str, np.ndarray[Any, np.dtype[np.int64]]]:
    """Add the branch's featurisation; return its output and the vocabulary column of each slot."""
    is_char = isinstance(branch.analyzer, CharNgrams)

    def tokens_of(ngram: str) -> list[str]:
        return list(ngram) if is_char else ngram.split(" ")

    ngrams = sorted(branch.vocabulary, key=lambda ngram: (len(tokens_of(ngram)), ngram))
    ordered_columns = np.array([branch.vocabulary[ngram] for ngram in ngrams], dtype=np.int64)
    pool: list[str] = []
    starts = []
    for n in range(1, branch.analyzer.max_n + 1):
        starts.append(len(pool))
        for ngram in ngrams:
            tokens = tokens_of(ngram)
            if len(tokens) == n:
                pool.extend(tokens)

    folded_tokens = sorted(set(pool))
    preimages = char_preimages if is_char else word_preimages
    keys, values = [], []
    for token in folded_tokens:
        for original in preimages(token):
            keys.append(original)
            values.append(token)

    nodes.append(
        helper.make_node(
            "Tokenizer",
            [INPUT_NAME],
            [prefix + "tokens"],
            domain="com.microsoft",
            tokenexp="(?s)." if is_char else WORD_PATTERN,
            mark=1 if is_char else 0,
            pad_value=_PAD,
            mincharnum=1,
        )
    )
    nodes.append(
        helper.make_node(
            "LabelEncoder",
            [prefix + "tokens"],
            [prefix + "folded"],
            domain="ai.onnx.ml",
            keys_strings=keys,
            values_strings=values,
            default_string=_UNKNOWN,
        )
    )
    weights = (
        branch.idf[ordered_columns].astype(np.float32).tolist()
        if branch.idf is not None
        else [1.0] * len(ngrams)
    )
    counts = prefix + "counts"
    nodes.append(
        helper.make_node(
            "TfIdfVectorizer",
            [prefix + "folded"],
            [counts],
            min_gram_length=branch.analyzer.min_n,
            max_gram_length=branch.analyzer.max_n,
            max_skip_count=0,
            mode="TFIDF",
            pool_strings=pool,
            ngram_counts=starts,
            ngram_indexes=list(range(len(ngrams))),
            weights=weights,
        )
    )
    return counts, ordered_columns


def _divide_by_l2_norm(
    scores: str,
    features: str,
    prefix: str,
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
) -> str:
    floor = prefix + "l2_floor"
    initializers.append(numpy_helper.from_array(np.array(_L2_FLOOR, dtype=np.float32), floor))
    nodes.append(helper.make_node("ReduceL2", [features], [prefix + "norm"], axes=[1], keepdims=1))
    nodes.append(helper.make_node("Max", [prefix + "norm", floor], [prefix + "safe_norm"]))
    nodes.append(helper.make_node("Div", [scores, prefix + "safe_norm"], [prefix + "scores_l2"]))
    return prefix + "scores_l2"


def _matmul(
    features: str,
    weights: np.ndarray[Any, np.dtype[np.float32]],
    prefix: str,
    int8_weights: bool,
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
) -> str:
    output = prefix + "scores"
    if not int8_weights:
        initializers.append(numpy_helper.from_array(weights, prefix + "weights"))
        nodes.append(helper.make_node("MatMul", [features, prefix + "weights"], [output]))
        return output
    quantised, scales = quantise_per_column(weights)
    initializers.append(numpy_helper.from_array(quantised, prefix + "weights_int8"))
    initializers.append(numpy_helper.from_array(scales, prefix + "weights_scale"))
    # Cast + Mul rather than DequantizeLinear: onnxruntime folds this constant subgraph into a
    # float32 matrix once, at session creation, whereas it keeps DequantizeLinear and either runs
    # it on every call or fuses it into MatMulNBits, several times slower than a float32 MatMul
    # on batches of 32 texts (measured with onnxruntime 1.23).
    nodes.append(
        helper.make_node(
            "Cast", [prefix + "weights_int8"], [prefix + "weights_cast"], to=TensorProto.FLOAT
        )
    )
    nodes.append(
        helper.make_node(
            "Mul", [prefix + "weights_cast", prefix + "weights_scale"], [prefix + "weights"]
        )
    )
    nodes.append(helper.make_node("MatMul", [features, prefix + "weights"], [output]))
    return output


def quantise_per_column(
    weights: np.ndarray[Any, np.dtype[np.float32]],
) -> tuple[np.ndarray[Any, np.dtype[np.int8]], np.ndarray[Any, np.dtype[np.float32]]]:
    """Symmetric int8 quantisation with one scale per column (per class)."""
    largest = np.abs(weights).max(axis=0)
    scales = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
    quantised = np.clip(np.rint(weights / scales), -127, 127).astype(np.int8)
    return quantised, scales


def run_labels(session: Any, texts: Sequence[str]) -> list[str]:
    """Labels an onnxruntime session of an exported model gives to ``texts``."""
    (labels,) = session.run([LABEL_OUTPUT], {INPUT_NAME: np.array(texts, dtype=object)})
    return [str(label) for label in labels]
