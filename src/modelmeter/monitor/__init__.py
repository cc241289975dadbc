"""`modelmeter monitor`: Prometheus rules, alerts and their tests from a spec's SLA.

``monitoring_files`` turns the SLA into objectives (`slos`), recording rules and
multi-window multi-burn-rate alerts (`rules`) and ``promtool`` unit tests proving each alert
fires within its stated time and stays silent under background noise (`rule_tests`);
``promtool`` runs Prometheus's own checks on them where it is installed.
"""

from modelmeter.monitor.files import MonitorFiles, monitoring_files, promtool
from modelmeter.monitor.slos import Slo, slos_from_sla
from modelmeter.monitor.sources import SOURCES, Source

__all__ = [
    "SOURCES",
    "MonitorFiles",
    "Slo",
    "Source",
    "monitoring_files",
    "promtool",
    "slos_from_sla",
]
