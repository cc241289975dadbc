"""A regression gate for CI: does NEW do worse than BASELINE?

``compare_reports(baseline, new)`` holds two reports (two runs, or two models of one run) against
each other, model by model: quality on the shared items with a paired test (McNemar exact or the
paired bootstrap), Holm-adjusted over the models, failing only on a significant drop larger than
the tolerance; P95 latency against a relative tolerance and the SLA's limit; an SLA newly missed;
a monthly budget overrun. :func:`to_junit` and :func:`to_markdown` render the result for CI;
``modelmeter compare`` is the command. The rules are in docs/compare.md.
"""

from modelmeter._exceptions import CompareError
from modelmeter.compare.gate import LATENCY_RULE, compare_reports
from modelmeter.compare.junit import to_junit
from modelmeter.compare.markdown import to_markdown
from modelmeter.compare.model import (
    CHECKS,
    COMPARE_SCHEMA_VERSION,
    Check,
    CheckName,
    CheckStatus,
    ComparisonResult,
    LatencyComparison,
    ModelComparison,
    ModelFigures,
    QualityComparison,
    QualityVerdict,
)
from modelmeter.compare.source import REPORT_FILE, read_report

__all__ = [
    "CHECKS",
    "COMPARE_SCHEMA_VERSION",
    "LATENCY_RULE",
    "REPORT_FILE",
    "Check",
    "CheckName",
    "CheckStatus",
    "CompareError",
    "ComparisonResult",
    "LatencyComparison",
    "ModelComparison",
    "ModelFigures",
    "QualityComparison",
    "QualityVerdict",
    "compare_reports",
    "read_report",
    "to_junit",
    "to_markdown",
]
