"""The three real model variants of the built-in demo, trained once and cached.

All three classify a support message into an intent, and differ in how they are built and served:

``base``
    TF-IDF of word 1-2-grams and character 2-5-grams + multinomial logistic regression, in
    scikit-learn (float64, sparse), saved with joblib. The most accurate of the three, and the
    dearest per call: ``predict`` runs the analysers in Python, about 1 ms for one text. Served
    without batching, as a model is before anyone optimises its serving.
``optimised``
    The same fitted model exported to ONNX (``_onnx``), coefficients stored as int8 with one scale
    per class, float32 arithmetic in onnxruntime's C++ kernels. It agrees with ``base`` on almost
    every text, at about a tenth of its time for one text and half of it per text in a batch of
    32 (batches gain less than in scikit-learn: the n-gram lookups dominate and a batch is padded
    to its longest text). Served with micro-batching (up to 32 texts, 2 ms).
``distilled``
    A student with about a twentieth of the parameters: TF-IDF of word unigrams + logistic
    regression, trained on ``base``'s predictions (not the gold labels) over the training texts,
    exported to ONNX float32. Served without batching: one call costs about ten microseconds, so
    there is nothing to amortise, and waiting for a batch would only add latency. Augmenting the
    training texts with typo'd copies labelled by ``base`` was tried and did not raise its
    held-out F1, so the student sees the training texts only.

``benchmarks/demo_variants_predict.py`` measures the in-process cost of each artefact.

The artefacts live in ``cache_dir/<key>/``, ``key`` hashing the training texts and labels, the
seed, ``VARIANTS_VERSION`` and the versions of the libraries that write them. A ``manifest.json``
written after the artefacts marks a complete set; every file is written to a temporary name and
renamed, so an interrupted run leaves no partial file under a final name. A call whose key has a
complete set reads the manifest and returns, importing neither scikit-learn nor onnxruntime.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from modelmeter._exceptions import DatasetError, ModelError
from modelmeter.data.sample import Sample

__all__ = ["VARIANTS_VERSION", "Variant", "cache_key", "train_variants"]

logger = logging.getLogger(__name__)

VARIANTS_VERSION = 1
"""Bumped whenever a change here changes what is trained, so older caches are not reused."""

_MANIFEST = "manifest.json"
_MANIFEST_FORMAT = 1
_INSTALL_HINT = "pip install 'modelmeter[demo]'"
_KEY_PACKAGES = ("scikit-learn", "numpy", "scipy", "onnx", "onnxruntime")
_MIN_EXPORT_AGREEMENT = 0.95  # below this the ONNX export is broken, not merely rounded
_ONNX_CHUNK = 64  # texts per session call while checking: the features are dense N x vocabulary

BASE_BATCHING = (1, 0.0)
OPTIMISED_BATCHING = (32, 2.0)
DISTILLED_BATCHING = (1, 0.0)


@dataclass(frozen=True, slots=True)
class Variant:
    """One trained variant and how the demo serves it."""

    name: str
    """``"base"``, ``"optimised"`` or ``"distilled"``."""
    path: Path
    """The artefact ``modelmeter serve`` loads (``.joblib`` or ``.onnx``)."""
    description: str
    """One sentence saying what the model is."""
    max_batch_size: int
    """Micro-batching limit the demo serves it with (1: no batching)."""
    max_wait_ms: float
    """Longest a request waits for its batch to fill."""
    size_bytes: int
    """Size of the artefact file."""


ProgressCallback = Callable[[str], None]


def train_variants(
    train: Sequence[Sample],
    cache_dir: Path,
    *,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> list[Variant]:
    """Train (or reuse from ``cache_dir``) the base, optimised and distilled variants.

    ``train`` must be labelled with at least two distinct labels. ``seed`` is part of the cache key
    and is handed to every randomised step (none of the current models draws random numbers).
    ``progress`` receives one-line notes on what is happening. Returns the variants in the order
    base, optimised, distilled.

    Raises `DatasetError` for unusable training data and `ModelError` when the demo's optional
    dependencies are missing or the ONNX export does not reproduce the base model.
    """
    note = progress or _ignore
    texts, labels = _texts_and_labels(train)
    key = cache_key(texts, labels, seed)
    directory = Path(cache_dir) / key
    cached = _read_manifest(directory)
    if cached is not None:
        variants, training = cached
        note(f"reusing the variants trained earlier in {directory}")
        _note_training(note, training)
        return variants

    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    variants, training = _train(texts, labels, seed, directory, note)
    training["seconds"] = round(time.perf_counter() - started, 2)
    _write_manifest(directory, key, variants, training)
    note(f"trained the three variants in {training['seconds']:.1f} s, cached in {directory}")
    return variants


def cache_key(texts: Sequence[str], labels: Sequence[str], seed: int) -> str:
    """The cache directory name for this training set and seed with the installed libraries."""
    digest = hashlib.sha256()

    def add(value: str) -> None:
        encoded = value.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)

    add(f"variants-version={VARIANTS_VERSION}")
    add(f"seed={seed}")
    for package in _KEY_PACKAGES:
        add(f"{package}={_package_version(package)}")
    add(f"samples={len(texts)}")
    for text, label in zip(texts, labels, strict=True):
        add(text)
        add(label)
    return digest.hexdigest()[:24]


def _ignore(message: str) -> None:
    del message


def _texts_and_labels(train: Sequence[Sample]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for sample in train:
        if sample.label is None:
            raise DatasetError(f"training sample {sample.id!r} has no label")
        texts.append(sample.input)
        labels.append(sample.label)
    if len(set(labels)) < 2:
        raise DatasetError(
            f"training needs at least two distinct labels; got {sorted(set(labels))} "
            f"over {len(labels)} samples"
        )
    return texts, labels


def _package_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"training the demo variants needs {package}, which is not installed: {_INSTALL_HINT}"
        ) from None


# --- training --------------------------------------------------------------------------------


def _train(
    texts: list[str], labels: list[str], seed: int, directory: Path, note: ProgressCallback
) -> tuple[list[Variant], dict[str, Any]]:
    try:
        import joblib
        import numpy as np
        import onnxruntime as ort
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        from modelmeter.demo import _onnx
        from modelmeter.demo._features import CharNgrams, WordNgrams
    except ImportError as exc:
        raise ModelError(
            f"training the demo variants needs {exc.name}, which is not installed: {_INSTALL_HINT}"
        ) from exc

    def tfidf(analyzer: object, **options: Any) -> Any:
        return TfidfVectorizer(analyzer=analyzer, lowercase=False, token_pattern=None, **options)

    training: dict[str, Any] = {"texts": len(texts)}
    # Thread pools fight over a few busy cores (lbfgs took 3x longer with two OpenMP threads on
    # two shared cores); these problems are too small to gain from them anyway.
    with threadpool_limits(limits=1):
        note(
            f"training base: TF-IDF word 1-2-grams + character 2-5-grams + logistic regression "
            f"on {len(texts):,} texts"
        )
        base = Pipeline(
            [
                (
                    "features",
                    FeatureUnion(
                        [
                            ("words", tfidf(WordNgrams(1, 2), min_df=2)),
                            ("chars", tfidf(CharNgrams(2, 5), min_df=2)),
                        ]
                    ),
                ),
                ("classifier", LogisticRegression(C=3.0, max_iter=3000, random_state=seed)),
            ]
        )
        base.fit(texts, labels)
        teacher = [str(label) for label in base.predict(texts)]

        note("distilling: word-unigram student trained on the base model's predictions")
        student = Pipeline(
            [
                ("features", tfidf(WordNgrams(1, 1), min_df=2, max_features=3000)),
                ("classifier", LogisticRegression(C=10.0, max_iter=3000, random_state=seed)),
            ]
        )
        student.fit(texts, teacher)

    base_features = sum(
        len(v.vocabulary_) for _, v in base.named_steps["features"].transformer_list
    )
    student_features = len(student.named_steps["features"].vocabulary_)
    classes = len(base.classes_)
    base_parameters = (base_features + 1) * classes
    student_parameters = (student_features + 1) * classes

    base_path = directory / "base.joblib"
    _write_atomically(base_path, lambda file: joblib.dump(base, file))

    note("exporting optimised: ONNX, float32, int8 weights")
    optimised_model = _onnx.to_onnx(
        base, int8_weights=True, doc_string="modelmeter demo: optimised variant"
    )
    optimised_path = directory / "optimised.onnx"
    _write_atomically(optimised_path, lambda file: file.write(optimised_model.SerializeToString()))
    distilled_model = _onnx.to_onnx(student, doc_string="modelmeter demo: distilled variant")
    distilled_path = directory / "distilled.onnx"
    _write_atomically(distilled_path, lambda file: file.write(distilled_model.SerializeToString()))

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    expected = np.array(teacher, dtype=object)
    for name, path in (("optimised", optimised_path), ("distilled", distilled_path)):
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        predicted = np.array(
            [
                label
                for start in range(0, len(texts), _ONNX_CHUNK)
                for label in _onnx.run_labels(session, texts[start : start + _ONNX_CHUNK])
            ],
            dtype=object,
        )
        training[f"{name}_agreement"] = round(float(np.mean(predicted == expected)), 4)
    _note_training(note, training)
    if training["optimised_agreement"] < _MIN_EXPORT_AGREEMENT:
        raise ModelError(
            f"the ONNX export of the base model agrees with it on only "
            f"{training['optimised_agreement']:.1%} of the training texts; the export is broken"
        )

    variants = [
        Variant(
            name="base",
            path=base_path,
            description=(
                f"TF-IDF of word 1-2-grams and character 2-5-grams ({base_features:,} features) "
                f"+ multinomial logistic regression ({base_parameters:,} parameters), "
                "scikit-learn, float64, run in Python"
            ),
            max_batch_size=BASE_BATCHING[0],
            max_wait_ms=BASE_BATCHING[1],
            size_bytes=base_path.stat().st_size,
        ),
        Variant(
            name="optimised",
            path=optimised_path,
            description=(
                f"the base model exported to ONNX and run by onnxruntime: same {base_features:,} "
                "features, weights stored as int8 with one scale per class, float32 arithmetic"
            ),
            max_batch_size=OPTIMISED_BATCHING[0],
            max_wait_ms=OPTIMISED_BATCHING[1],
            size_bytes=optimised_path.stat().st_size,
        ),
        Variant(
            name="distilled",
            path=distilled_path,
            description=(
                f"student distilled from the base model's predictions: TF-IDF of word unigrams "
                f"({student_features:,} words) + logistic regression ({student_parameters:,} "
                "parameters), ONNX float32 run by onnxruntime"
            ),
            max_batch_size=DISTILLED_BATCHING[0],
            max_wait_ms=DISTILLED_BATCHING[1],
            size_bytes=distilled_path.stat().st_size,
        ),
    ]
    training.update(base_features=base_features, student_features=student_features)
    return variants, training


def _note_training(note: ProgressCallback, training: dict[str, Any]) -> None:
    texts = training.get("texts")
    for name, what in (("optimised", "ONNX export"), ("distilled", "distilled student")):
        agreement = training.get(f"{name}_agreement")
        if isinstance(agreement, float) and isinstance(texts, int):
            note(f"{name}: the {what} agrees with base on {agreement:.1%} of {texts:,} texts")


# --- cache files -----------------------------------------------------------------------------


def _write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through a temporary file in the same directory, then rename it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0o600 would hide the cache from other users
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_manifest(
    directory: Path, key: str, variants: list[Variant], training: dict[str, Any]
) -> None:
    manifest = {
        "format": _MANIFEST_FORMAT,
        "key": key,
        "variants_version": VARIANTS_VERSION,
        "packages": {package: _package_version(package) for package in _KEY_PACKAGES},
        "training": training,
        "variants": [
            {
                "name": variant.name,
                "file": variant.path.name,
                "description": variant.description,
                "max_batch_size": variant.max_batch_size,
                "max_wait_ms": variant.max_wait_ms,
                "size_bytes": variant.size_bytes,
            }
            for variant in variants
        ],
    }
    encoded = (json.dumps(manifest, indent=2) + "\n").encode()
    _write_atomically(directory / _MANIFEST, lambda file: file.write(encoded))


def _read_manifest(directory: Path) -> tuple[list[Variant], dict[str, Any]] | None:
    """The cached variants, or None when the set is missing, incomplete or altered."""
    try:
        manifest = json.loads((directory / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    try:
        if manifest["format"] != _MANIFEST_FORMAT:
            return None
        variants = list(_variants_from(directory, manifest["variants"]))
        training = dict(manifest["training"])
    except (KeyError, TypeError, ValueError):
        logger.debug("ignoring the unreadable manifest in %s", directory)
        return None
    for variant in variants:
        try:
            if variant.path.stat().st_size != variant.size_bytes:
                return None
        except OSError:
            return None
    return variants, training


def _variants_from(directory: Path, entries: list[dict[str, Any]]) -> Iterator[Variant]:
    for entry in entries:
        yield Variant(
            name=str(entry["name"]),
            path=directory / Path(str(entry["file"])).name,
            description=str(entry["description"]),
            max_batch_size=int(entry["max_batch_size"]),
            max_wait_ms=float(entry["max_wait_ms"]),
            size_bytes=int(entry["size_bytes"]),
        )
