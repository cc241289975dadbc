"""Reference sentence embeddings from sentence-transformers itself, for the NumPy encoder's test.

Run with a Python that has sentence-transformers (a virtualenv of its own, never the project's):

    PEER/bin/python benchmarks/embeddings_reference.py MODEL_DIR OUT.json

(OUT.json: tests/fixtures/minilm-reference.json).

MODEL_DIR is the sentence-transformers folder (all-MiniLM-L6-v2: see docs/gateway.md, "Semantic
cache"). The texts cover an empty string, punctuation, accents, a number, and one longer than the
model's 256-token window, so truncation is compared too.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

TEXTS = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    "",
    "What is 5 km in miles?",
    "Crème brûlée — naïve café façade, déjà vu.",
    "def reverse(s): return s[::-1]",
    " ".join(f"word{i} and the sentence goes on" for i in range(120)),
]


def main() -> None:
    from sentence_transformers import SentenceTransformer

    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    model = SentenceTransformer(str(folder), device="cpu")
    vectors = model.encode(TEXTS, convert_to_numpy=True)
    weights = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    import sentence_transformers

    record = {
        "made_by": f"sentence-transformers {sentence_transformers.__version__}",
        "weights_sha256": weights,
        "texts": TEXTS,
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }
    out.write_text(json.dumps(record) + "\n")
    print(f"{len(TEXTS)} vectors of {vectors.shape[1]} written to {out}")


if __name__ == "__main__":
    main()
