"""The check of label-free quality estimation on the demo model: calibrate on a labelled
reference, shift the inputs' mix the way production drifts (another language, more typos,
shorter messages), and hold the estimate against the F1 realised on the same rows.

A shift re-weights the current rows by their slices. The label-noise rows (whose label is
another intent) keep their share in every shift: changing it would change P(label | input),
a concept shift, which no confidence-based estimate can see; :data:`CONCEPT_SHIFT` does
exactly that, to show it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modelmeter.data.sample import Sample
from modelmeter.drift.performance import estimate_f1, fit_calibration, macro_f1

__all__ = ["CONCEPT_SHIFT", "COVARIATE_SHIFTS", "ShiftResult", "check_estimation", "demo_model"]

Weight = Callable[[Sample], float]

COVARIATE_SHIFTS: dict[str, Weight] = {
    "none (same mix as the reference)": lambda s: 1.0,
    "Spanish ×5": lambda s: 5.0 if s.slices.get("language") == "es" else 1.0,
    "English and German only": lambda s: 1.0 if s.slices.get("language") in ("en", "de") else 0.0,
    "typos ×4": lambda s: 4.0 if s.slices.get("noise") == "typo" else 1.0,
    "short messages ×4": lambda s: 4.0 if s.slices.get("noise") == "short" else 1.0,
    "clean messages ×4": lambda s: 4.0 if s.slices.get("noise") == "clean" else 1.0,
}
CONCEPT_SHIFT = "label noise ×6 (concept shift)"
_LABEL_NOISE = "label_noise"


@dataclass(frozen=True)
class ShiftResult:
    shift: str
    realised: float  # mean macro F1 over the resamples
    estimated: float  # mean CBPE estimate over the same resamples
    spread: float  # standard deviation of the realised F1 between resamples
    concept: bool = False

    @property
    def difference(self) -> float:
        return self.estimated - self.realised


def _weights(samples: Sequence[Sample], weight: Weight, label_noise_factor: float) -> np.ndarray:
    raw = np.array([weight(s) for s in samples], dtype=float)
    noisy = np.array([s.slices.get("noise") == _LABEL_NOISE for s in samples])
    share = noisy.mean() * label_noise_factor
    share = share / (share + (1 - noisy.mean())) if label_noise_factor != 1 else noisy.mean()
    weights = np.zeros_like(raw)
    if noisy.any():
        weights[noisy] = raw[noisy] / raw[noisy].sum() * share
    weights[~noisy] = raw[~noisy] / raw[~noisy].sum() * (1 - share if noisy.any() else 1.0)
    normalised: np.ndarray = weights / weights.sum()
    return normalised


def check_estimation(
    predict_proba: Callable[[list[str]], np.ndarray],
    classes: Sequence[str],
    test: Sequence[Sample],
    *,
    seed: int = 0,
    resamples: int = 20,
    size: int = 2000,
) -> list[ShiftResult]:
    """Calibrate on half of ``test``; for each shift, draw ``resamples`` sets of ``size`` rows
    (with replacement, re-weighted) from the other half and compare the estimate with the
    realised macro F1 on each."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(test))
    half = len(test) // 2
    reference = [test[i] for i in order[:half]]
    current = [test[i] for i in order[half:]]
    probabilities = predict_proba([s.input for s in current])
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    labels = np.array([s.label for s in current])
    calibration = fit_calibration(
        predict_proba([s.input for s in reference]), [str(s.label) for s in reference], classes
    )
    shifts = [(name, weight, 1.0) for name, weight in COVARIATE_SHIFTS.items()]
    shifts.append((CONCEPT_SHIFT, COVARIATE_SHIFTS["none (same mix as the reference)"], 6.0))
    results = []
    for name, weight, noise_factor in shifts:
        p = _weights(current, weight, noise_factor)
        pairs = []
        for _ in range(resamples):
            rows = rng.choice(len(current), size=size, replace=True, p=p)
            pairs.append(
                (
                    macro_f1(labels[rows], predicted[rows], classes),
                    estimate_f1(probabilities[rows], calibration).f1_macro,
                )
            )
        realised, estimated = np.array(pairs).T
        results.append(
            ShiftResult(
                name,
                float(realised.mean()),
                float(estimated.mean()),
                float(realised.std(ddof=1)),
                concept=noise_factor != 1.0,
            )
        )
    return results


def demo_model(
    cache_dir: Path, n: int = 9000, n_test: int = 10_000, seed: int = 0
) -> tuple[object, list[Sample]]:
    """The demo's base model trained on the training split of ``n`` generated messages
    (cached), and ``n_test`` fresh messages from another seed of the generator, those seen in
    training left out: large halves keep the luck of the split out of the comparison."""
    import joblib

    from modelmeter.data.demo_intents import generate_intents, train_test_split
    from modelmeter.demo.variants import train_variants

    train, _ = train_test_split(generate_intents(n))
    base = train_variants(train, cache_dir, seed=seed)[0]
    seen = {s.input for s in train}
    fresh = [s for s in generate_intents(n_test, seed=seed + 1001) if s.input not in seen]
    return joblib.load(base.path), fresh
