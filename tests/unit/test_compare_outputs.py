"""to_junit and to_markdown: what CI systems and reviewers read, parsed back and checked."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from modelmeter.compare import ComparisonResult, compare_reports, to_junit, to_markdown
from modelmeter.results import SlaCheck
from tests.unit.test_compare_builders import budget, model, paired_grades, regression_pair, report

_SUITE_ATTRIBUTES = {"name", "tests", "failures", "errors", "skipped", "time"}


def _mixed_result() -> ComparisonResult:
    """clf: quality regression and SLA breach; 'a|b': budget breach, no quality, no load."""
    baseline, new = regression_pair()
    new.models[0].sla = SlaCheck(met=False, violations=["P95 130 ms > limit 120 ms"])
    baseline.models.append(model("a|b", p95=None))
    new.models.append(model("a|b", monthly=budget("1250", "1000")))
    return compare_reports(baseline, new)


def test_junit_counts_cases_and_failures() -> None:
    result = _mixed_result()
    root = ET.fromstring(to_junit(result))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    for element in (root, suite):
        assert set(element.attrib) >= _SUITE_ATTRIBUTES
        assert element.get("tests") == "8"
        assert element.get("failures") == "3"
        assert element.get("errors") == "0"
        assert element.get("skipped") == "3"
        float(element.get("time", "x"))
    assert suite.get("name") == (
        "modelmeter compare 20260105-120000-aaaaaa → 20260106-120000-bbbbbb"
    )
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        (label, check)
        for label in ("clf", "a|b")
        for check in ("quality", "latency", "sla", "budget")
    ]
    for case in cases:
        float(case.get("time", "x"))
    failed = {
        (case.get("classname"), case.get("name")): case.find("failure")
        for case in cases
        if case.find("failure") is not None
    }
    assert set(failed) == {("clf", "quality"), ("clf", "sla"), ("a|b", "budget")}
    quality = failed["clf", "quality"]
    assert quality is not None
    message = quality.get("message", "")
    assert message.startswith("regression: accuracy 90.0% → 80.0%")
    assert quality.text == message
    sla = failed["clf", "sla"]
    assert sla is not None and "P95 130 ms > limit 120 ms" in sla.get("message", "")
    budget_failure = failed["a|b", "budget"]
    assert budget_failure is not None
    assert "1,250.00 EUR is over the budget of 1,000.00 EUR" in budget_failure.get("message", "")
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [(c.get("classname"), c.get("name")) for c in skipped] == [
        ("clf", "budget"),
        ("a|b", "quality"),
        ("a|b", "latency"),
    ]
    passed = cases[1].find("system-out")
    assert passed is not None and "within the 20% latency tolerance" in (passed.text or "")


def test_junit_of_a_passing_gate_has_no_failure() -> None:
    base, new = paired_grades(both=170, baseline_only=10, new_only=9, neither=11)
    result = compare_reports(
        report("r1", [model("clf", base, p95_spread=0.3)]),
        report("r2", [model("clf", new, p95=150.0, p95_spread=0.3)]),
    )
    text = to_junit(result)
    assert text.startswith("<?xml")
    root = ET.fromstring(text)
    assert root.get("failures") == "0" and root.get("tests") == "4"
    assert root.find(".//failure") is None
    warned = [
        out.text or "" for out in root.iter("system-out") if (out.text or "").startswith("warn")
    ]
    assert len(warned) == 1 and "P95 100.0 [70.0–130.0] ms → 150.0 [105.0–195.0] ms" in warned[0]


def test_markdown_has_verdict_checks_figures_and_escapes_pipes() -> None:
    result = _mixed_result()
    text = to_markdown(result)
    assert text.startswith("## modelmeter compare: 20260105-120000-aaaaaa → 20260106-120000-bbbbbb")
    assert "**❌ 3 regression(s) or breach(es).**" in text
    quality = result.models[0].quality
    assert quality is not None
    assert f"- clf: {quality.sentence}." in text
    assert "| clf | quality | ❌ fail | regression: accuracy 90.0% → 80.0%" in text
    assert "| a\\|b | budget | ❌ fail |" in text
    assert "| clf | accuracy | 0.9000 | 0.8000 | -0.1000 (" in text
    assert "| 200 | 0 / 0 | mcnemar-exact |" in text
    assert "| clf | new (clf) | f1_macro 0.800 (0.750–0.850) | 100.0 |" in text
    assert "missed: P95 130 ms > limit 120 ms" in text
    assert "1,250.00 EUR of 1,000.00 EUR" in text
    assert "Latency has no paired test" in text
    # Every table row has as many cells as its header.
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            widths = {len(row.replace("\\|", "").split("|")) for row in rows}
            assert len(widths) == 1, block


def test_markdown_of_a_passing_gate() -> None:
    base, new = paired_grades(both=170, baseline_only=10, new_only=9, neither=11)
    run = report("r1", [model("current", base), model("candidate", new)])
    text = to_markdown(compare_reports(run, run, pairs=[("current", "candidate")]))
    assert text.startswith("## modelmeter compare: run r1")
    assert "**✅ No regression.**" in text
    assert "| current → candidate | quality | ✅ pass | no significant change:" in text
