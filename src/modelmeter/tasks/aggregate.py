"""From per-item grades to a task's quality: accuracy and mean score, with intervals and slices.

Two figures summarise a task. *Accuracy* is the share of items graded right; being a proportion,
its 95% interval is Wilson's, which stays inside [0, 1] and behaves for small counts. *Mean
score* averages the graded scores (token F1, a judge's normalised score; equal to accuracy for
right/wrong tasks); its interval is a seeded percentile bootstrap over items, vectorised as an
index matrix of shape ``(resamples, n)`` drawn in blocks of bounded size, so memory stays bounded
and a seed always gives the same interval.

Every sample counts. A sample whose request failed, or that has no grade at all, is wrong with
score 0, so that a model cannot look better by failing on hard items; ``n_failed`` says how many.
The same figures are given per slice value (``by_slice["subject"]["geography"]``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt

from modelmeter.data.sample import Sample
from modelmeter.quality.bootstrap import FloatArray
from modelmeter.results import METRICS, Interval, SliceScore, TaskMetric, TaskQuality
from modelmeter.stats.intervals import percentile_interval, wilson_interval
from modelmeter.tasks.base import ItemScore

__all__ = ["METRICS", "SliceScore", "TaskMetric", "TaskQuality", "summarize_scores"]

# Upper bound on the elements of one block of resampled indices (8 bytes each: ~32 MiB).
_MAX_BLOCK_ELEMENTS = 4_000_000


def _bootstrap_mean(
    values: FloatArray, n_bootstrap: int, rng: np.random.Generator, level: float
) -> Interval:
    n = int(values.shape[0])
    block = max(1, min(n_bootstrap, _MAX_BLOCK_ELEMENTS // n))
    means: list[FloatArray] = []
    done = 0
    while done < n_bootstrap:
        size = min(block, n_bootstrap - done)
        rows = rng.integers(0, n, size=(size, n), dtype=np.intp)
        means.append(values[rows].mean(axis=1))
        done += size
    return percentile_interval(np.concatenate(means), level)


def _slice_rng(seed: int, key: str, value: str) -> np.random.Generator:
    # crc32, not hash(): str hashes change between processes and the intervals must not.
    entropy = [seed, zlib.crc32(key.encode()), zlib.crc32(value.encode())]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def _figures(
    correct: npt.NDArray[np.bool_],
    values: FloatArray,
    failed: int,
    *,
    n_bootstrap: int,
    rng: np.random.Generator,
    level: float,
) -> SliceScore:
    n = int(values.shape[0])
    n_correct = int(correct.sum())
    return SliceScore(
        n=n,
        n_failed=failed,
        n_correct=n_correct,
        accuracy=n_correct / n,
        accuracy_ci=wilson_interval(n_correct, n, level),
        mean_score=min(1.0, float(values.mean())),
        mean_score_ci=(
            _bootstrap_mean(values, n_bootstrap, rng, level) if n_bootstrap > 0 else None
        ),
    )


def summarize_scores(
    samples: Sequence[Sample],
    scores: Sequence[ItemScore],
    *,
    metric: str,
    n_bootstrap: int,
    seed: int,
    failed: Collection[str] = frozenset(),
    level: float = 0.95,
) -> TaskQuality:
    """Summarise the grades of one target on one task.

    ``metric`` is one of :data:`METRICS`. ``scores`` holds at most one grade per sample id; a
    sample without one, or whose id is in ``failed`` (its request failed), is wrong with score 0
    whatever its grade. Intervals are at ``level``; ``n_bootstrap=0`` leaves out the mean
    score's bootstrap interval. Per slice value, resamples are seeded from ``seed`` and the
    slice name and value, so adding a slice does not move the intervals of another.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    if not samples:
        raise ValueError("cannot summarise a task over zero samples")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be 0 (no interval) or more, got {n_bootstrap}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (exclusive), got {level}")

    position: dict[str, int] = {}
    for i, sample in enumerate(samples):
        if sample.id in position:
            raise ValueError(f"sample id '{sample.id}' appears twice")
        position[sample.id] = i
    n = len(samples)
    graded = np.zeros(n, dtype=np.bool_)
    correct = np.zeros(n, dtype=np.bool_)
    values = np.zeros(n, dtype=np.float64)
    for item in scores:
        i = position.get(item.sample_id, -1)
        if i < 0:
            raise ValueError(f"a score names sample '{item.sample_id}', which is not among them")
        if graded[i]:
            raise ValueError(f"sample '{item.sample_id}' is scored twice")
        if not (math.isfinite(item.score) and 0.0 <= item.score <= 1.0):
            raise ValueError(
                f"sample '{item.sample_id}' has score {item.score}; scores must be in [0, 1]"
            )
        graded[i] = True
        correct[i] = item.correct
        values[i] = item.score
    lost = ~graded
    lost |= np.fromiter((sample.id in failed for sample in samples), dtype=np.bool_, count=n)
    correct &= ~lost
    values[lost] = 0.0

    overall = _figures(
        correct,
        values,
        int(lost.sum()),
        n_bootstrap=n_bootstrap,
        rng=np.random.default_rng(seed),
        level=level,
    )

    groups: dict[str, dict[str, list[int]]] = {}
    for i, sample in enumerate(samples):
        for key, value in sample.slices.items():
            groups.setdefault(key, {}).setdefault(value, []).append(i)
    by_slice: dict[str, dict[str, SliceScore]] = {}
    for key in sorted(groups):
        by_slice[key] = {}
        for value in sorted(groups[key]):
            index = np.asarray(groups[key][value], dtype=np.intp)
            by_slice[key][value] = _figures(
                correct[index],
                values[index],
                int(lost[index].sum()),
                n_bootstrap=n_bootstrap,
                rng=_slice_rng(seed, key, value),
                level=level,
            )

    return TaskQuality(
        metric=metric,
        n=overall.n,
        n_failed=overall.n_failed,
        n_correct=overall.n_correct,
        accuracy=overall.accuracy,
        accuracy_ci=overall.accuracy_ci,
        mean_score=overall.mean_score,
        mean_score_ci=overall.mean_score_ci,
        n_bootstrap=n_bootstrap,
        seed=seed,
        by_slice=by_slice,
    )
