"""In-process cost and quality of the demo's three variants (base, optimised, distilled).

Trains the variants on the built-in dataset's training split (or reuses them from ``--cache-dir``)
and, for each artefact, loads it the way ``modelmeter serve`` does (``joblib.load``, or an
onnxruntime session with one intra-op thread) and reports:

* the time of one ``predict`` call for 1 text and for a batch of 32 (best and median of
  ``--rounds`` rounds, the variants interleaved so that machine noise hits them alike);
* the artefact size, macro-F1 and accuracy on the held-out split, and agreement with base.

No HTTP here: this is the model's own cost, the floor under what the served benchmark measures.
Run on demand: ``python benchmarks/demo_variants_predict.py [--rounds 7] [--cache-dir DIR]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import onnxruntime as ort
from sklearn.metrics import f1_score

from modelmeter.data.demo_intents import generate_intents, train_test_split
from modelmeter.demo.variants import Variant, train_variants

Predict = Callable[[list[str]], list[str]]


def load(variant: Variant) -> Predict:
    if variant.path.suffix == ".joblib":
        estimator = joblib.load(variant.path)
        return lambda texts: [str(label) for label in estimator.predict(texts)]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # as the server does: workers, not threads, use the cores
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(variant.path), options, providers=["CPUExecutionProvider"])

    def predict(texts: list[str]) -> list[str]:
        (labels,) = session.run(["label"], {"text": np.array(texts, dtype=object)})
        return [str(label) for label in labels]

    return predict


def time_call(predict: Predict, texts: list[str], seconds: float) -> float:
    """Mean seconds per call over a loop of about ``seconds``."""
    predict(texts)
    calls = 0
    started = time.perf_counter()
    while True:
        predict(texts)
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.3, help="per measurement")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()

    train, test = train_test_split(generate_intents())
    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = args.cache_dir or Path(scratch)
        started = time.perf_counter()
        variants = train_variants(train, cache_dir, progress=lambda note: print(f"  {note}"))
        print(f"train_variants: {time.perf_counter() - started:.1f} s\n")
        report(variants, [s.input for s in test], [str(s.label) for s in test], args)


def report(
    variants: list[Variant], texts: list[str], gold: list[str], args: argparse.Namespace
) -> None:
    models = {variant.name: load(variant) for variant in variants}
    predictions = {name: predict(texts) for name, predict in models.items()}
    cases = {"1 text": texts[:1], "32 texts": texts[:32]}
    timings: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, predict in models.items():
            for case, batch in cases.items():
                timings.setdefault((name, case), []).append(time_call(predict, batch, args.seconds))

    print(f"held-out split: {len(texts):,} texts; times in microseconds per call (best / median)")
    header = (
        f"{'variant':<10} {'size':>9} {'macro-F1':>8} {'acc':>6} {'=base':>6} "
        f"{'1 text':>15} {'32 texts':>17} {'per text @32':>12}"
    )
    print(header)
    base = np.array(predictions["base"], dtype=object)
    for variant in variants:
        predicted = np.array(predictions[variant.name], dtype=object)
        single = timings[(variant.name, "1 text")]
        batch = timings[(variant.name, "32 texts")]
        print(
            f"{variant.name:<10} {variant.size_bytes / 1e6:>7.2f}MB "
            f"{f1_score(gold, predicted, average='macro'):>8.4f} "
            f"{np.mean(predicted == np.array(gold, dtype=object)):>6.3f} "
            f"{np.mean(predicted == base):>6.3f} "
            f"{min(single) * 1e6:>7.0f} /{statistics.median(single) * 1e6:>6.0f} "
            f"{min(batch) * 1e6:>8.0f} /{statistics.median(batch) * 1e6:>7.0f} "
            f"{min(batch) / 32 * 1e6:>12.1f}"
        )
    for variant in variants:
        print(f"  {variant.name}: {variant.description}")


if __name__ == "__main__":
    main()
