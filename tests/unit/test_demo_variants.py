"""The demo's three variants: trained, exported faithfully, cached."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("onnxruntime")

import joblib
import numpy as np
import onnxruntime as ort
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from modelmeter._exceptions import DatasetError
from modelmeter.data.sample import Sample
from modelmeter.demo import _features, _onnx, variants
from modelmeter.demo.variants import Variant, cache_key, train_variants

TEMPLATES = {
    "refund": {
        "en": ["I want my money back for order {n}", "refund the {p} please", "where is my refund"],
        "fr": ["je veux être remboursé pour la commande {n}", "remboursez le {p} svp"],
        "pt": ["quero o reembolso da encomenda {n}", "devolvam o meu dinheiro do {p}"],
        "es": ["quiero un reembolso del pedido {n}", "devuélvanme el dinero del {p}"],
        "de": ["ich möchte mein Geld für Bestellung {n} zurück", "Rückerstattung für {p} bitte"],
    },
    "track_order": {
        "en": ["where is my order {n}", "my {p} has not arrived yet", "tracking for {n}?"],
        "fr": ["où est ma commande {n}", "mon {p} n'est pas encore arrivé"],
        "pt": ["onde está a minha encomenda {n}", "o meu {p} ainda não chegou"],
        "es": ["dónde está mi pedido {n}", "mi {p} todavía no ha llegado"],
        "de": ["wo ist meine Bestellung {n}", "mein {p} ist noch nicht angekommen"],
    },
    "password_reset": {
        "en": ["I forgot my password", "cannot log in to my account", "reset my password"],
        "fr": ["j'ai oublié mon mot de passe", "je ne peux pas me connecter"],
        "pt": ["esqueci a minha palavra-passe", "não consigo entrar na conta"],
        "es": ["olvidé mi contraseña", "no puedo iniciar sesión"],
        "de": ["ich habe mein Passwort vergessen", "ich kann mich nicht anmelden"],
    },
    "speak_to_human": {
        "en": ["let me talk to a human", "I need a real person", "call me back please"],
        "fr": ["je veux parler à un conseiller", "passez-moi un humain"],
        "pt": ["quero falar com uma pessoa", "liguem-me por favor"],
        "es": ["quiero hablar con una persona", "pásenme con un agente"],
        "de": ["ich möchte mit einem Menschen sprechen", "rufen Sie mich bitte zurück"],
    },
}
PRODUCTS = ["laptop", "téléphone", "Kaffeemaschine", "bicicleta", "cafeteira"]
# Inputs the export must treat exactly as scikit-learn does.
AWKWARD_TEXTS = [
    "",
    "   ",
    "!!!",
    "ÉCOLE ÇA ÜBER STRASSE Straße",
    "refund\n\nplease\t\tnow",
    "İstanbul KELVIN ǅ 😀 #123 ## \x00",
    "WHERE IS MY ORDER #48213???",
]


def make_samples(count: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for index in range(count):
        label = sorted(TEMPLATES)[index % len(TEMPLATES)]
        language = rng.choice(sorted(TEMPLATES[label]))
        text = rng.choice(TEMPLATES[label][language]).format(
            n=f"#{rng.randint(10000, 99999)}", p=rng.choice(PRODUCTS)
        )
        text = _noisy(text, rng)
        samples.append(Sample(f"s{index}", text, label, {"language": language}))
    return samples


def _noisy(text: str, rng: random.Random) -> str:
    chars = [c for c in text if not (c.isalpha() and rng.random() < 0.04)]
    text = "".join(chars)
    if rng.random() < 0.2:
        text = "".join(
            c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
        )
    if rng.random() < 0.15:
        text = text.upper()
    return text + rng.choice(["", "", " thanks", " merci!!", "  danke", "\nobrigado"])


LABELS = set(TEMPLATES)


@pytest.fixture(scope="module")
def data() -> tuple[list[Sample], list[Sample]]:
    samples = make_samples(360, seed=7)
    return samples[:280], samples[280:]


@pytest.fixture(scope="module")
def trained(
    data: tuple[list[Sample], list[Sample]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Variant], Path, list[str]]:
    cache_dir = tmp_path_factory.mktemp("variants-cache")
    notes: list[str] = []
    return train_variants(data[0], cache_dir, seed=3, progress=notes.append), cache_dir, notes


def onnx_labels(path: Path, texts: list[str]) -> list[str]:
    session = ort.InferenceSession(str(path))  # default providers, as a user would
    return _onnx.run_labels(session, texts)


def test_three_variants_whose_files_load_and_predict_known_labels(
    trained: tuple[list[Variant], Path, list[str]], data: tuple[list[Sample], list[Sample]]
) -> None:
    found, cache_dir, notes = trained
    texts = [sample.input for sample in data[1]]

    assert [variant.name for variant in found] == ["base", "optimised", "distilled"]
    assert [variant.path.suffix for variant in found] == [".joblib", ".onnx", ".onnx"]
    for variant in found:
        assert variant.path.is_file()
        assert variant.path.parent.parent == cache_dir
        assert variant.size_bytes == variant.path.stat().st_size > 0
        assert variant.description
        assert variant.max_batch_size >= 1
        assert variant.max_wait_ms >= 0
    assert found[1].max_batch_size > 1  # the optimised variant is served with micro-batching
    assert any("agrees with base" in note for note in notes)

    base = joblib.load(found[0].path)
    assert set(base.predict(texts)) <= LABELS
    for variant in found[1:]:
        session = ort.InferenceSession(str(variant.path))
        (model_input,) = session.get_inputs()
        assert (model_input.type, len(model_input.shape)) == ("tensor(string)", 1)
        label_output = {output.name: output for output in session.get_outputs()}["label"]
        assert label_output.type == "tensor(string)"
        classes = json.loads(session.get_modelmeta().custom_metadata_map["modelmeter.classes"])
        assert set(classes) == LABELS
        assert set(_onnx.run_labels(session, texts)) <= LABELS


def test_base_is_accurate_and_the_onnx_export_agrees_with_it(
    trained: tuple[list[Variant], Path, list[str]], data: tuple[list[Sample], list[Sample]]
) -> None:
    found, _, _ = trained
    texts = [sample.input for sample in data[1]]
    gold = np.array([sample.label for sample in data[1]], dtype=object)
    base = np.array(joblib.load(found[0].path).predict(texts), dtype=object)
    optimised = np.array(onnx_labels(found[1].path, texts), dtype=object)

    assert np.mean(base == gold) >= 0.9
    assert np.mean(optimised == base) >= 0.95


def test_distilled_agrees_with_base_more_than_chance(
    trained: tuple[list[Variant], Path, list[str]], data: tuple[list[Sample], list[Sample]]
) -> None:
    found, _, _ = trained
    texts = [sample.input for sample in data[1]]
    base = np.array(joblib.load(found[0].path).predict(texts), dtype=object)
    distilled = np.array(onnx_labels(found[2].path, texts), dtype=object)

    assert np.mean(distilled == base) > 2 / len(LABELS)


def test_float_export_reproduces_scikit_learn_on_awkward_inputs(
    trained: tuple[list[Variant], Path, list[str]], data: tuple[list[Sample], list[Sample]]
) -> None:
    base = joblib.load(trained[0][0].path)
    texts = [sample.input for sample in data[1]] + AWKWARD_TEXTS
    session = ort.InferenceSession(_onnx.to_onnx(base).SerializeToString())

    for batch in ([text] for text in texts), [texts]:  # one at a time, then padded together
        labels, probabilities = zip(
            *(session.run(None, {"text": np.array(b, dtype=object)}) for b in batch), strict=True
        )
        assert list(np.concatenate(labels)) == list(base.predict(texts))
        np.testing.assert_allclose(
            np.concatenate(probabilities), base.predict_proba(texts), atol=1e-5
        )


def test_word_and_single_vectoriser_pipelines_export(
    data: tuple[list[Sample], list[Sample]],
) -> None:
    texts = [sample.input for sample in data[0]]
    labels = [str(sample.label) for sample in data[0]]
    for analyzer in (_features.WordNgrams(1, 3), _features.CharNgrams(1, 3)):
        model = Pipeline(
            [
                ("features", TfidfVectorizer(analyzer=analyzer, lowercase=False, max_features=500)),
                ("classifier", LogisticRegression(max_iter=1000)),
            ]
        ).fit(texts, labels)
        session = ort.InferenceSession(_onnx.to_onnx(model, int8_weights=True).SerializeToString())
        exported = _onnx.run_labels(session, texts + AWKWARD_TEXTS)
        agreement = np.mean(np.array(exported) == model.predict(texts + AWKWARD_TEXTS))
        assert agreement >= 0.97


def test_export_refuses_what_it_cannot_reproduce(data: tuple[list[Sample], list[Sample]]) -> None:
    texts = [sample.input for sample in data[0]]
    labels = [str(sample.label) for sample in data[0]]
    model = Pipeline(
        [
            ("features", TfidfVectorizer(analyzer="char_wb")),
            ("classifier", LogisticRegression(max_iter=1000)),
        ]
    ).fit(texts, labels)
    with pytest.raises(_onnx.UnsupportedPipelineError, match="CharNgrams or WordNgrams"):
        _onnx.to_onnx(model)


def test_second_call_reuses_the_cache_without_touching_the_files(
    trained: tuple[list[Variant], Path, list[str]], data: tuple[list[Sample], list[Sample]]
) -> None:
    found, cache_dir, _ = trained
    mtimes = [variant.path.stat().st_mtime_ns for variant in found]
    notes: list[str] = []

    again = train_variants(data[0], cache_dir, seed=3, progress=notes.append)

    assert again == found
    assert [variant.path.stat().st_mtime_ns for variant in again] == mtimes
    assert "reusing" in notes[0]
    assert [path.name for path in cache_dir.iterdir()] == [cache_key(*_columns(data[0]), 3)]


def test_a_cache_hit_imports_neither_scikit_learn_nor_onnxruntime(
    trained: tuple[list[Variant], Path, list[str]],
    data: tuple[list[Sample], list[Sample]],
    tmp_path: Path,
) -> None:
    found, cache_dir, _ = trained
    samples = tmp_path / "train.json"
    samples.write_text(json.dumps([[s.id, s.input, s.label] for s in data[0]]))
    script = f"""
import json, sys
from pathlib import Path
from modelmeter.data.sample import Sample
from modelmeter.demo.variants import train_variants
rows = json.loads(Path({str(samples)!r}).read_text())
found = train_variants([Sample(*row) for row in rows], Path({str(cache_dir)!r}), seed=3)
heavy = sorted(m for m in ("sklearn", "onnxruntime", "onnx", "joblib") if m in sys.modules)
print(json.dumps({{"paths": [str(v.path) for v in found], "heavy": heavy}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )

    answer = json.loads(result.stdout)
    assert answer == {"paths": [str(v.path) for v in found], "heavy": []}


def test_changed_seed_or_data_changes_the_key(data: tuple[list[Sample], list[Sample]]) -> None:
    texts, labels = _columns(data[0])
    key = cache_key(texts, labels, 0)

    assert cache_key(texts, labels, 0) == key
    assert cache_key(texts, labels, 1) != key
    assert cache_key([*texts[:-1], texts[-1] + "!"], labels, 0) != key
    assert cache_key(texts, [*labels[:-1], "other"], 0) != key
    assert cache_key(texts[:-1], labels[:-1], 0) != key
    # Length-prefixed fields: moving text between a sample and its label is a different set.
    assert cache_key(["ab", "c"], ["x", "y"], 0) != cache_key(["a", "bc"], ["x", "y"], 0)


def test_an_incomplete_cache_is_trained_again(
    data: tuple[list[Sample], list[Sample]], tmp_path: Path
) -> None:
    small = data[0][:120]
    first = train_variants(small, tmp_path, seed=0)
    first[1].path.write_bytes(b"truncated")

    again = train_variants(small, tmp_path, seed=0)

    assert again == first
    assert first[1].path.stat().st_size == first[1].size_bytes
    ort.InferenceSession(str(first[1].path))


def test_an_interrupted_write_leaves_no_file_behind(tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"

    def fail_halfway(file: object) -> None:
        file.write(b"half a model")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        variants._write_atomically(target, fail_halfway)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ([Sample("a", "hello", None), Sample("b", "bye", "x")], "has no label"),
        ([Sample("a", "hello", "x"), Sample("b", "bye", "x")], "two distinct labels"),
        ([], "two distinct labels"),
    ],
)
def test_unusable_training_data_is_refused(
    samples: list[Sample], message: str, tmp_path: Path
) -> None:
    with pytest.raises(DatasetError, match=message):
        train_variants(samples, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_folding_tables_invert_the_folds() -> None:
    for folded in [" ", "e", "é", "ß", "k", "i", "\x02", "😀"]:
        preimages = _features.char_preimages(folded)
        assert folded in preimages
        assert all(_features.fold_char(char) == folded for char in preimages)
    assert set(_features.char_preimages("k")) == {"k", "K", "\u212a"}  # Kelvin sign
    for word in ["commande", "straße", "ich"]:
        assert all(_features.fold_word(w) == word for w in _features.word_preimages(word))
    assert _features.word_preimages("commande") == ["commande", "COMMANDE", "Commande"]
    assert _features.fold_word("cOMMANDE") == "cOMMANDE"


def test_analysers_frame_chars_and_join_words() -> None:
    assert _features.CharNgrams(1, 2)("Ab") == ["\x02", "a", "b", "\x03", "\x02a", "ab", "b\x03"]
    assert _features.CharNgrams(2, 2)("a\tb") == ["\x02a", "a ", " b", "b\x03"]
    assert _features.WordNgrams(1, 2)("L'ÉCOLE, ça!") == [
        "l",
        "école",
        "ça",
        "l école",
        "école ça",
    ]


def _columns(samples: list[Sample]) -> tuple[list[str], list[str]]:
    return [s.input for s in samples], [str(s.label) for s in samples]
