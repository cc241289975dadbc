"""`modelmeter monitor`: Prometheus rules, alerts and their tests from a spec's SLA.

``monitoring_files`` turns the SLA into objectives (`slos`), recording rules and
multi-window multi-burn-rate alerts (`rules`) and ``promtool`` unit tests proving each alert
fires within its stated time and stays silent under background noise (`rule_tests`);
``promtool`` runs Prometheus's own checks on them where it is installed. A Grafana dashboard
(`dashboard`) and an Alertmanager route example (`alertmanager`) come with them; `preview`
renders the dashboard's panels from a live Prometheus as static HTML.
"""

from modelmeter.monitor.files import MonitorFiles, amtool, monitoring_files, promtool
from modelmeter.monitor.slos import Slo, slos_from_sla
from modelmeter.monitor.sources import SOURCES, Source

__all__ = [
    "SOURCES",
    "MonitorFiles",
    "Slo",
    "Source",
    "amtool",
    "monitoring_files",
    "promtool",
    "slos_from_sla",
]
