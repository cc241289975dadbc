"""The gate as JUnit XML, the format every CI system shows as a test report.

One ``testsuite``; one ``testcase`` per model pair and check (quality, latency, sla, budget),
so a failed gate shows in GitHub, GitLab or Jenkins as the named checks that failed, each with
its sentence. Only the attributes of the common JUnit schema (the one Jenkins and GitLab read)
are written: ``testsuites``/``testsuite`` (name, tests, failures, errors, skipped, time) and
``testcase`` (classname, name, time). A warning passes and keeps its sentence in
``system-out``; a skipped check is ``skipped`` with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from modelmeter.compare.model import ComparisonResult

__all__ = ["to_junit"]

# The gate measures nothing itself: its checks take no time worth reporting.
_TIME = "0"


def to_junit(result: ComparisonResult) -> str:
    """The comparison as a JUnit XML document (UTF-8 text with its XML declaration)."""
    cases = [(model, check) for model in result.models for check in model.checks]
    failures = sum(1 for _, check in cases if check.status == "fail")
    skipped = sum(1 for _, check in cases if check.status == "skip")
    counts = {
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": _TIME,
    }
    root = ET.Element("testsuites", {"name": "modelmeter compare", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": f"modelmeter compare {result.baseline_run} → {result.new_run}", **counts},
    )
    for model, check in cases:
        case = ET.SubElement(
            suite, "testcase", {"classname": model.label, "name": check.name, "time": _TIME}
        )
        if check.status == "fail":
            failure = ET.SubElement(
                case, "failure", {"message": check.message, "type": "regression"}
            )
            failure.text = check.message
        elif check.status == "skip":
            ET.SubElement(case, "skipped", {"message": check.message})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{'warning: ' if check.status == 'warn' else ''}{check.message}"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
