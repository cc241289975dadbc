"""Online A/B analysis from logged outcomes: SRM, intervals, CUPED, always-valid looks, power.

``analyse(load_csv(path, variant=..., metric=...))`` gives an :class:`ABResult`; the CLI
(``modelmeter ab``) renders it. The methods, formulas and references are in docs/ab-testing.md.
"""

from modelmeter.abtest.analysis import analyse
from modelmeter.abtest.cuped import CupedAdjustment, cuped_adjust
from modelmeter.abtest.data import (
    STORE_METRICS,
    Observations,
    StoreMetric,
    from_rows,
    from_store,
    load_csv,
)
from modelmeter.abtest.differences import Difference, proportion_test, welch_test
from modelmeter.abtest.markdown import render_markdown
from modelmeter.abtest.model import (
    AB_SCHEMA_VERSION,
    ABResult,
    Comparison,
    CupedResult,
    MetricKind,
    SampleSize,
    SequentialLook,
    SequentialResult,
    SrmCheck,
    VariantSummary,
)
from modelmeter.abtest.power import (
    power_means,
    power_proportions,
    proportion_effect_size,
    sample_size_means,
    sample_size_proportions,
)
from modelmeter.abtest.sequential import (
    MIN_UNITS,
    MsprtPath,
    default_mixing_sd,
    msprt,
    sequential_test,
)
from modelmeter.abtest.srm import SRM_THRESHOLD, planned_shares, sample_ratio_mismatch

__all__ = [
    "AB_SCHEMA_VERSION",
    "MIN_UNITS",
    "SRM_THRESHOLD",
    "STORE_METRICS",
    "ABResult",
    "Comparison",
    "CupedAdjustment",
    "CupedResult",
    "Difference",
    "MetricKind",
    "MsprtPath",
    "Observations",
    "SampleSize",
    "SequentialLook",
    "SequentialResult",
    "SrmCheck",
    "StoreMetric",
    "VariantSummary",
    "analyse",
    "cuped_adjust",
    "default_mixing_sd",
    "from_rows",
    "from_store",
    "load_csv",
    "msprt",
    "planned_shares",
    "power_means",
    "power_proportions",
    "proportion_effect_size",
    "proportion_test",
    "render_markdown",
    "sample_ratio_mismatch",
    "sample_size_means",
    "sample_size_proportions",
    "sequential_test",
    "welch_test",
]
