"""The NumPy sentence encoder against sentence-transformers' own vectors, and its refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from modelmeter import ModelError
from modelmeter.artefacts import load_model
from modelmeter.artefacts.sentence_encoder import load_encoder
from tests._embeddings import minilm_folder

REFERENCE = Path(__file__).parents[1] / "fixtures" / "minilm-reference.json"


def test_vectors_match_sentence_transformers() -> None:
    """benchmarks/embeddings_reference.py wrote these with sentence-transformers 6.3.0 from the
    same weights: truncation at 256 tokens, an empty text and accents included."""
    reference = json.loads(REFERENCE.read_text())
    encoder = load_encoder(minilm_folder())
    vectors = encoder.encode(reference["texts"])
    expected = np.array(reference["vectors"], dtype=np.float32)
    assert vectors.shape == expected.shape == (8, 384)
    assert np.abs(vectors - expected).max() < 1e-5
    # the order of texts does not matter (they are batched by length)
    backwards = encoder.encode(reference["texts"][::-1])
    assert np.abs(backwards[::-1] - expected).max() < 1e-5


def test_similarities_are_the_documented_ones() -> None:
    """sentence-transformers' quick start prints 0.6660, 0.1046 and 0.1411 for these three."""
    encoder = load_encoder(minilm_folder())
    v = encoder.encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    similarity = v @ v.T
    assert similarity[0, 1] == pytest.approx(0.6660, abs=5e-5)
    assert similarity[0, 2] == pytest.approx(0.1046, abs=5e-5)
    assert similarity[1, 2] == pytest.approx(0.1411, abs=5e-5)


def test_load_model_serves_a_folder_as_an_encoder() -> None:
    model = load_model(minilm_folder(), name="minilm")
    assert model.platform == "sentence_transformers"
    assert model.embed is not None and model.outputs[0].shape == (-1, 384)
    with pytest.raises(ModelError, match="embeddings model"):
        model.predict(["hello"])


def test_folders_that_are_not_encoders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a model one"):
        load_model(tmp_path)
    folder = tmp_path / "copy"
    # the weights linked (90 MB), every file the test rewrites copied
    shutil.copytree(minilm_folder(), folder, ignore=shutil.ignore_patterns("model.safetensors"))
    (folder / "model.safetensors").symlink_to(minilm_folder() / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    with pytest.raises(ModelError, match="model_type 'roberta' is not supported"):
        load_encoder(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"config\.json: cannot read it as JSON"):
        load_encoder(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match=r"missing model\.safetensors"):
        load_encoder(folder)
