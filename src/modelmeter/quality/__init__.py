"""Quality metrics with confidence intervals: classification scores, bootstrap and Wilson."""

from modelmeter.quality.bootstrap import (
    BOOTSTRAP_METHOD,
    WILSON_METHOD,
    percentile_interval,
    wilson_interval,
)
from modelmeter.quality.classification import INTERVAL_METRICS, evaluate_classification

__all__ = [
    "BOOTSTRAP_METHOD",
    "INTERVAL_METRICS",
    "WILSON_METHOD",
    "evaluate_classification",
    "percentile_interval",
    "wilson_interval",
]
