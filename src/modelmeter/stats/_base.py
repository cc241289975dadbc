"""The base of the statistics result models and the checks every function runs on its input.

Results are pydantic models so that they can go into the JSON report as they are; they are frozen
because a test result must not change after it was computed. Input checks raise ``ValueError``
naming the argument, the position and what is allowed, as ``modelmeter.quality`` does: these
functions are called by the library on values it built, so a wrong input is a caller's mistake,
but the message must still say exactly where it is.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class StatsModel(BaseModel):
    """Frozen, strict base of every result model in ``modelmeter.stats``."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_level(level: float, name: str = "level") -> None:
    """A confidence level must lie strictly between 0 and 1."""
    if not (isinstance(level, int | float) and 0.0 < level < 1.0):
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {level!r}")


def as_booleans(values: npt.ArrayLike, name: str) -> BoolArray:
    """A 1-D array of right/wrong outcomes; only booleans and the numbers 0 and 1 are allowed."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of booleans, got shape {array.shape}")
    if array.dtype == np.bool_:
        return array
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must hold booleans (or 0/1), got values of type {array.dtype.name}"
        )
    bad = np.flatnonzero((array != 0) & (array != 1))
    if bad.size:
        index = int(bad[0])
        value = array[index].item()
        raise ValueError(f"{name}[{index}] is {value!r}; only True/False or 0/1 allowed")
    return array.astype(np.bool_)


def as_scores(values: npt.ArrayLike, name: str) -> FloatArray:
    """A 1-D array of finite numeric scores."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a flat sequence of numbers: {exc}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        index = int(bad[0])
        raise ValueError(f"{name}[{index}] is {array[index]}; scores must be finite numbers")
    return array


def check_paired(first: npt.NDArray[np.generic], second: npt.NDArray[np.generic]) -> int:
    """Both models must be scored on the same, non-empty list of items; returns its length."""
    if first.shape[0] != second.shape[0]:
        raise ValueError(
            "paired outcomes must cover the same items in the same order: "
            f"the first model has {first.shape[0]} items, the second {second.shape[0]}"
        )
    if first.shape[0] == 0:
        raise ValueError("paired outcomes are empty: at least one item is needed")
    return int(first.shape[0])


def check_probability(value: float, name: str) -> float:
    """A p-value or probability must be a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    number = float(value)
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return number
