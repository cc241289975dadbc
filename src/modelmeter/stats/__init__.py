"""Statistics behind defensible decisions: is model A really better than model B?

Pure functions over numbers (numpy and scipy only), each cross-checked in the tests against
statsmodels or scipy and a published example. ``docs/statistics.md`` gives the formulas and the
references.

- :func:`mcnemar_exact`: two models' right/wrong outcomes on the same items (McNemar's exact
  test, Newcombe's paired interval for the difference in accuracy).
- :func:`paired_bootstrap`: two models' graded scores on the same items.
- :func:`holm`: adjusted p-values for many comparisons at once.
- :func:`pairwise_comparisons` and :func:`tie_groups`: every pair of several models, and a
  ranking that groups the models it cannot tell apart.
- :func:`quantile_interval`: a distribution-free interval for a latency percentile.
- :func:`wilson_interval`: the interval for one proportion; :func:`percentile_interval`: the
  central share of bootstrap samples.
"""

from modelmeter.stats.bootstrap import (
    BOOTSTRAP_PERCENTILE,
    PAIRED_BOOTSTRAP,
    PairedScoreTest,
    Statistic,
    paired_bootstrap,
)
from modelmeter.stats.intervals import (
    BOOTSTRAP_METHOD,
    WILSON_METHOD,
    percentile_interval,
    wilson_interval,
)
from modelmeter.stats.multiple import holm
from modelmeter.stats.paired import (
    MCNEMAR_EXACT,
    NEWCOMBE_PAIRED,
    PairedProportionTest,
    mcnemar_exact,
    newcombe_paired_interval,
)
from modelmeter.stats.pairwise import (
    HOLM,
    ComparisonMethod,
    Comparisons,
    comparison_sentence,
    format_p_value,
    pairwise_comparisons,
    tie_groups,
)
from modelmeter.stats.quantile import ORDER_STATISTICS, QuantileInterval, quantile_interval

__all__ = [
    "BOOTSTRAP_METHOD",
    "BOOTSTRAP_PERCENTILE",
    "HOLM",
    "MCNEMAR_EXACT",
    "NEWCOMBE_PAIRED",
    "ORDER_STATISTICS",
    "PAIRED_BOOTSTRAP",
    "WILSON_METHOD",
    "ComparisonMethod",
    "Comparisons",
    "PairedProportionTest",
    "PairedScoreTest",
    "QuantileInterval",
    "Statistic",
    "comparison_sentence",
    "format_p_value",
    "holm",
    "mcnemar_exact",
    "newcombe_paired_interval",
    "paired_bootstrap",
    "pairwise_comparisons",
    "percentile_interval",
    "quantile_interval",
    "tie_groups",
    "wilson_interval",
]
