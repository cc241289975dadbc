"""Quality metrics with confidence intervals: classification scores per class and per slice.

The intervals themselves (bootstrap percentile, Wilson) are in :mod:`modelmeter.stats`.
"""

from modelmeter.quality.classification import INTERVAL_METRICS, evaluate_classification

__all__ = [
    "INTERVAL_METRICS",
    "evaluate_classification",
]
