"""The decision parts of a report in HTML and Markdown: paired comparisons and tie groups,
latency intervals, the capacity plan with its manifests, and the business case."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import markupsafe
import pytest

from modelmeter.production import business_case, plan_capacity
from modelmeter.report import render_html, render_markdown
from modelmeter.report.markdown import escape
from modelmeter.results import (
    Advice,
    BusinessCase,
    CapacityPlan,
    Interval,
    LatencySummary,
    LlmLoadMetrics,
    PairComparison,
    Report,
)
from tests.unit.test_report_llm_tasks import _md_table, _row, llm_report
from tests.unit.test_report_render import _model, _parse, make_report

HOSTILE = "<script>alert('x')</script> & *co* | x"
MANIFEST = "kubernetes.yaml"
HOLM_DEFINITION = "Holm's step-down adjustment of the p-values of all pairs."


def _pair(
    a: str,
    b: str,
    difference: float,
    interval: tuple[float, float],
    p_value: float,
    p_adjusted: float,
    *,
    method: str = "mcnemar-exact",
    sentence: str = "",
) -> PairComparison:
    return PairComparison(
        a=a,
        b=b,
        difference=difference,
        interval=Interval(low=interval[0], high=interval[1], method=method),
        p_value=p_value,
        p_adjusted=p_adjusted,
        distinguishable=p_adjusted <= 0.05,
        method=method,
        items=1100,
        sentence=sentence or f"{a} vs {b}: Holm-adjusted p = {p_adjusted}",
    )


def _comparisons(a: str = "optimised", b: str = "base") -> list[PairComparison]:
    return [
        _pair(
            a,
            b,
            0.072,
            (0.041, 0.103),
            0.00002,
            0.00006,
            sentence=f"{a} scores higher than {b} at 95% (McNemar exact, Holm-adjusted p < 0.001)",
        ),
        _pair(a, "distilled", 0.041, (0.012, 0.070), 0.004, 0.008),
        _pair(
            "distilled",
            b,
            0.031,
            (-0.004, 0.066),
            0.21,
            0.21,
            sentence=f"distilled and {b} are not distinguishable at 95% (McNemar exact, "
            "Holm-adjusted p = 0.21)",
        ),
    ]


def _plan(*, price: Decimal | None = Decimal("0.35"), peak: float = 2000.0) -> CapacityPlan:
    return plan_capacity(
        450.0,
        source="sla_search",
        peak_rps=peak,
        headroom=0.3,
        price_per_hour=price,
        currency="EUR" if price is not None else None,
        average_rps=600.0 if peak >= 600 else None,
    )


def _case(
    lift_interval: tuple[float, float] = (0.041, 0.103),
    *,
    baseline: str = "base",
    candidate: str = "optimised",
    baseline_accuracy: float = 0.812,
    candidate_accuracy: float = 0.884,
    costs: bool = True,
) -> BusinessCase:
    return business_case(
        value_per_correct=Decimal("0.02"),
        currency="EUR",
        monthly_requests=1_000_000,
        baseline_accuracy=baseline_accuracy,
        candidate_accuracy=candidate_accuracy,
        monthly_cost_baseline=Decimal(220) if costs else None,
        monthly_cost_candidate=Decimal(320) if costs else None,
        lift_interval=lift_interval,
        one_off_cost=Decimal(500),
        baseline=baseline,
        candidate=candidate,
    )


def decision_report(**update: object) -> Report:
    """The classification report of test_report_render with every decision part."""
    fields: dict[str, object] = {
        "comparisons": _comparisons(),
        "tie_groups": [["optimised"], ["distilled", "base"]],
        "capacity": _plan(),
        "capacity_model": "optimised",
        "manifest_file": MANIFEST,
        "business_case": _case(),
        **update,
    }
    return make_report().model_copy(update=fields)


def _esc(text: str) -> str:
    """``text`` as the HTML template writes it (Jinja's autoescape)."""
    return str(markupsafe.escape(text))


def _section(markdown: str, heading: str) -> str:
    """The lines of a ``## `` section of the Markdown, up to the next one."""
    start = markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else len(markdown)]


def _html_section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}">')
    return html[start : html.index("\n</section>", start)]


# --------------------------------------------------------------------------------------------
# Absent parts


def test_a_report_without_the_parts_has_none_of_the_sections() -> None:
    report = make_report()
    html = render_html(report)
    markdown = render_markdown(report)
    for anchor in ("comparisons", "capacity", "business"):
        assert f'id="{anchor}"' not in html
        assert f'href="#{anchor}"' not in html
    for heading in ("Are the differences real?", "Capacity plan", "Business case"):
        assert heading not in html
        assert heading not in markdown
    assert "(95% CI)" not in _md_table(markdown, "#### Load")[0][5]
    assert ".verdict" not in html


def test_a_capacity_note_without_a_plan_stays_a_note() -> None:
    note = "One replica of distilled carries 720.0 req/s (measured); declare capacity.peak_rps."
    report = make_report().model_copy(update={"notes": [note]})
    html = render_html(report)
    markdown = render_markdown(report)
    assert 'id="capacity"' not in html and "## Capacity plan" not in markdown
    assert html.count(_esc(note)) == 1
    assert markdown.count(escape(note)) == 1


# --------------------------------------------------------------------------------------------
# Section order


def _full_report() -> Report:
    """An LLM report (costs, routing) with every decision part and advice."""
    report = llm_report(
        comparisons=[_pair("gpt-strong", "local-small", 0.15, (0.05, 0.25), 0.001, 0.001)],
        tie_groups=[["gpt-strong"], ["local-small"]],
        capacity=_plan(),
        capacity_model="local-small",
        manifest_file=MANIFEST,
        business_case=_case(baseline="local-small", candidate="gpt-strong"),
    )
    advice = Advice(
        title="Cache repeated prompts",
        finding="12 of 40 answers came from the cache",
        action="enable the response cache",
        expected_effect="fewer requests",
        verify="count cached answers",
        horizon="weeks 1-2",
    )
    return report.model_copy(update={"advice": [advice]})


def test_html_sections_and_contents_in_order() -> None:
    html = render_html(_full_report())
    ids = [
        "recommendation",
        "summary",
        "tasks",
        "ranking",
        "comparisons",
        "charts",
        "costs",
        "routing",
        "capacity",
        "business",
        "plan",
        "models",
        "definitions",
    ]
    positions = [html.index(f'<section id="{anchor}">') for anchor in ids]
    assert positions == sorted(positions)
    toc = html[html.index('<nav class="toc"') : html.index("</nav>")]
    links = re.findall(r'href="#([a-z]+)"', toc)
    assert links == ids
    assert '<a href="#comparisons">Are the differences real?</a>' in toc
    assert '<a href="#capacity">Capacity plan</a>' in toc
    assert '<a href="#business">Business case</a>' in toc


def test_markdown_sections_in_order() -> None:
    markdown = render_markdown(_full_report())
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Recommendation",
        "## Summary",
        "## Tasks",
        "## Ranking",
        "## Are the differences real?",
        "## Costs and budget",
        "## Routing",
        "## Capacity plan",
        "## Business case",
        "## Advice and 90-day plan",
        "## Model details",
        "## Definitions",
        "## Notes",
    ]


@pytest.mark.parametrize("render", [render_html, render_markdown])
def test_each_part_shows_alone(render: Callable[[Report], str]) -> None:
    only_capacity = render(decision_report(comparisons=[], tie_groups=[], business_case=None))
    assert "Capacity plan" in only_capacity
    assert "Business case" not in only_capacity
    assert "Are the differences real?" not in only_capacity
    only_ties = render(
        decision_report(comparisons=[], capacity=None, manifest_file=None, business_case=None)
    )
    assert "Are the differences real?" in only_ties
    assert "distilled, base — not distinguishable at 95%" in only_ties
    assert "Capacity plan" not in only_ties and "Business case" not in only_ties


# --------------------------------------------------------------------------------------------
# Are the differences real?


def test_markdown_lists_the_tie_groups_and_every_pair() -> None:
    section = _section(render_markdown(decision_report()), "Are the differences real?")
    lines = section.splitlines()
    assert "1. optimised" in lines
    assert "2. distilled, base — not distinguishable at 95%" in lines
    assert lines.index("1. optimised") + 1 == lines.index(
        "2. distilled, base — not distinguishable at 95%"
    )
    table = _md_table(section, "Models by quality, in groups the tests cannot tell apart:")
    assert table[0] == [
        "a vs b",
        "difference a − b (95% CI)",
        "method",
        "items",
        "p",
        "Holm-adjusted p",
        "verdict at 95%",
    ]
    assert table[1:] == [
        [
            "optimised vs base",
            "+0.072 (+0.041 to +0.103)",
            "McNemar exact",
            "1,100",
            "\\< 0.001",  # "<" escaped, as everywhere in the Markdown
            "\\< 0.001",
            "different: optimised higher",
        ],
        [
            "optimised vs distilled",
            "+0.041 (+0.012 to +0.070)",
            "McNemar exact",
            "1,100",
            "0.004",
            "0.008",
            "different: optimised higher",
        ],
        [
            "distilled vs base",
            "+0.031 (-0.004 to +0.066)",
            "McNemar exact",
            "1,100",
            "0.21",
            "0.21",
            "not distinguishable",
        ],
    ]
    assert (
        "- optimised scores higher than base at 95% (McNemar exact, Holm-adjusted p \\< 0.001)"
        in lines
    )
    assert (
        "- distilled and base are not distinguishable at 95% (McNemar exact, Holm-adjusted "
        "p = 0.21)"
    ) in lines
    assert "McNemar exact tests right/wrong answers" in section
    assert "Holm adjusts the p-values of all pairs together" in section
    # Only the tests used are explained.
    assert "paired bootstrap" not in section


def test_html_shows_the_groups_table_and_sentences() -> None:
    section = _html_section(render_html(decision_report()), "comparisons")
    assert "<h2>Are the differences real?</h2>" in section
    groups = section[section.index('<ol class="tie-groups">') : section.index("</ol>")]
    assert re.findall(r"<li>(.*?)</li>", groups) == [
        "optimised",
        "distilled, base — not distinguishable at 95%",
    ]
    assert '<td class="num">+0.031 (-0.004 to +0.066)</td>' in section
    assert "<td>different: optimised higher</td>" in section
    assert (
        "<li>optimised scores higher than base at 95% (McNemar exact, Holm-adjusted p &lt; "
        "0.001)</li>" in section
    )
    # No definitions for the tests in this report: nothing to link to.
    assert "#def-" not in section


def test_a_bootstrap_pair_and_an_odd_level_are_named() -> None:
    pair = _pair(
        "optimised", "base", -0.0123, (-0.02, -0.004), 0.0504, 0.0504, method="paired-bootstrap"
    )
    odd = pair.model_copy(
        update={"interval": pair.interval.model_copy(update={"level": 0.9}), "b": "distilled"}
    )
    markdown = render_markdown(decision_report(comparisons=[pair, odd], tie_groups=[]))
    section = _section(markdown, "Are the differences real?")
    assert "paired bootstrap resamples the same items" in section
    assert "McNemar" not in section
    assert "Models by quality" not in section
    row = next(line for line in section.splitlines() if line.startswith("| optimised vs base"))
    # 0.0504 is not rounded to 0.05, which would read as significant.
    assert "| -0.012 (-0.020 to -0.004) | paired bootstrap | 1,100 | 0.0504 | 0.0504 |" in row
    assert "| not distinguishable |" in row
    assert "-0.012 (-0.020 to -0.004, 90%)" in section


def test_test_definitions_are_linked_when_the_report_has_them() -> None:
    report = decision_report()
    report = report.model_copy(
        update={"definitions": {**report.definitions, "holm": HOLM_DEFINITION}}
    )
    html = render_html(report)
    section = _html_section(html, "comparisons")
    assert '<a href="#def-holm">Holm</a>' in section
    assert 'href="#def-holm" title="Holm&#39;s step-down' in section  # the column header
    assert '<dt id="def-holm">holm</dt>' in html
    assert "See Definitions: Holm." in render_markdown(report)


# --------------------------------------------------------------------------------------------
# Latency intervals


def _with_tail_intervals(report: Report) -> Report:
    models = list(report.models)
    optimised = models[1]
    assert optimised.latency_ms is not None and optimised.load is not None
    lag = optimised.load.schedule_lag_ms
    assert lag is not None
    latency = optimised.latency_ms.model_copy(
        update={
            "p95_ci": Interval(low=83.14, high=87.36, method="order-statistics"),
            "p99_ci": Interval(low=115.0, high=125.52, method="order-statistics"),
        }
    )
    load = optimised.load.model_copy(
        update={
            "schedule_lag_ms": lag.model_copy(
                update={"p95_ci": Interval(low=0.2, high=0.234, method="order-statistics")}
            )
        }
    )
    models[1] = optimised.model_copy(update={"latency_ms": latency, "load": load})
    return report.model_copy(update={"models": models})


def test_model_details_show_the_p95_and_p99_intervals() -> None:
    report = _with_tail_intervals(make_report())
    markdown = render_markdown(report)
    details = markdown[markdown.index("### optimised\n") :]
    table = _md_table(details, "#### Load")
    assert table[0][5:7] == ["P95 (95% CI)", "P99 (95% CI)"]
    response = _row(table, "response time")
    assert response["P95 (95% CI)"] == "85.0 (83.1–87.4)"
    assert response["P99 (95% CI)"] == "119.0 (115.0–125.5)"
    lag = _row(table, "schedule lag")
    assert lag["P95 (95% CI)"] == "0.21 (0.20–0.23)"
    assert lag["P99 (95% CI)"] == "0.29"  # no interval: the figure alone
    # The summary keeps its cells.
    summary = _row(_md_table(markdown, "## Summary"), "optimised")
    assert summary["P95 ms"] == "85.0" and summary["P99 ms"] == "119.0"
    # A model without intervals keeps the plain headers.
    base = markdown[markdown.index("### base\n") : markdown.index("### optimised\n")]
    assert _md_table(base, "#### Load")[0][5:7] == ["P95", "P99"]
    html = render_html(report)
    assert '<td class="num">85.0 (83.1–87.4)</td>' in html


def test_llm_timing_shows_its_intervals() -> None:
    ttft = LatencySummary(
        count=400,
        mean=180.0,
        p50=170.0,
        p90=230.0,
        p95=250.0,
        p99=320.0,
        max=400.0,
        p95_ci=Interval(low=241.0, high=262.0, method="order-statistics"),
    )
    model = _model("streamer", 0.8, 50.0, 85.0, 40.0, "0.2")
    assert model.load is not None
    load = model.load.model_copy(update={"llm": LlmLoadMetrics(ttft_ms=ttft, output_tokens=9000)})
    markdown = render_markdown(make_report([model.model_copy(update={"load": load})]))
    table = _md_table(markdown, "#### LLM timing")
    assert table[0][3:5] == ["P95 (95% CI)", "P99"]
    assert _row(table, "TTFT")["P95 (95% CI)"] == "250.0 (241.0–262.0)"


# --------------------------------------------------------------------------------------------
# Capacity plan


def _facts(markdown_section: str) -> dict[str, str]:
    found = re.findall(r"^- \*\*(.+?):\*\* (.*)$", markdown_section, flags=re.MULTILINE)
    return dict(found)


def test_capacity_plan_figures_and_formulas() -> None:
    report = decision_report()
    plan = report.capacity
    assert plan is not None
    section = _section(render_markdown(report), "Capacity plan")
    facts = _facts(section)
    assert facts["Model"] == "optimised"
    assert facts["Per-replica capacity"] == (
        "450.0 req/s: the highest arrival rate that met the SLA (SLA search)"
    )
    assert facts["Peak planned for"] == "2,000.0 req/s with 30.0% headroom"
    assert facts["Replicas at peak"] == "6 replicas"  # ceil(2000 × 1.3 / 450)
    assert facts["Utilisation at peak"] == "74.1%"  # 2000 / (6 × 450)
    assert facts["Autoscaler (HPA)"] == (
        "2 to 6 replicas, target 315.0 req/s per replica (70.0% of its capacity)"
    )
    assert facts["At average load"] == "600.0 req/s: 2 replicas at 66.7% utilisation"
    assert facts["Price per replica"] == "0.35 EUR/h × 730 h per month"
    assert facts["Monthly cost at peak provisioning"] == "1,533.00 EUR"  # 6 × 0.35 × 730
    assert facts["Monthly cost autoscaled at average load"] == "511.00 EUR"  # 2 × 0.35 × 730
    for line in plan.explanation:
        assert f"- {escape(line)}" in section.splitlines()
    assert f"written beside this report: [{MANIFEST}]({MANIFEST})" in section

    html = _html_section(render_html(report), "capacity")
    assert "<dt>Monthly cost at peak provisioning</dt><dd>1,533.00 EUR</dd>" in html
    assert f'<a href="{MANIFEST}">{MANIFEST}</a>' in html
    for line in plan.explanation:
        assert f"<li>{_esc(line)}</li>" in html


def test_capacity_without_a_price_or_average_and_held_at_the_minimum() -> None:
    plan = _plan(price=None, peak=300.0)
    assert plan.replicas_for_peak == 1 and plan.replicas == 2
    report = decision_report(capacity=plan, manifest_file=None)
    section = _section(render_markdown(report), "Capacity plan")
    facts = _facts(section)
    assert facts["Replicas at peak"] == "2 replicas (the peak needs 1; held at the minimum of 2)"
    assert facts["Monthly cost"] == "not computed: no price per hour"
    assert "At average load" not in facts and "Price per replica" not in facts
    assert "Kubernetes manifests" not in section
    assert "Kubernetes manifests" not in _html_section(render_html(report), "capacity")


@pytest.mark.parametrize(
    "name", ["../kubernetes.yaml", "https://example.com/k.yaml", "dir/k.yaml", ".hidden"]
)
def test_only_a_plain_manifest_file_name_is_linked(name: str) -> None:
    report = decision_report(manifest_file=name)
    html = render_html(report)
    assert f'href="{_esc(name)}"' not in html
    assert _esc(name) in _html_section(html, "capacity")
    section = _section(render_markdown(report), "Capacity plan")
    assert "](" not in section
    assert escape(name) in section


def test_the_manifest_is_the_only_link_leaving_the_page() -> None:
    parser = _parse(render_html(decision_report()))
    assert parser.errors == [] and parser.stack == []
    links = {attrs.get("href") for tag, attrs in parser.starts if tag == "a"}
    assert {h for h in links if h is not None and not h.startswith("#")} == {MANIFEST}


# --------------------------------------------------------------------------------------------
# Business case


def test_business_case_figures_with_the_lift_interval() -> None:
    report = decision_report()
    case = report.business_case
    assert case is not None
    section = _section(render_markdown(report), "Business case")
    assert "### base → optimised" in section
    facts = _facts(section)
    assert facts["Accuracy"] == "base 0.812 → optimised 0.884"
    assert facts["Lift"] == "+7.2 points (+4.1 to +10.3 points; 95%, paired difference)"
    assert facts["Extra correct answers per month"] == (
        "72,000 (41,000 to 103,000) of 1,000,000 requests"
    )
    assert facts["Value per month"] == (
        "1,440.00 EUR (820.00 EUR to 2,060.00 EUR) at 0.02 EUR each"
    )
    assert facts["Extra cost per month"] == "100.00 EUR (optimised 320.00 EUR − base 220.00 EUR)"
    assert facts["One-off cost"] == "500.00 EUR"
    # 1,440 − 100; at the ends 820 − 100 and 2,060 − 100.
    assert facts["Net benefit per month"] == "1,340.00 EUR (720.00 EUR to 1,960.00 EUR)"
    assert facts["Net gain over 12 months"] == "15,580.00 EUR (8,140.00 EUR to 23,020.00 EUR)"
    # (1,340 × 12 − 500) / (500 + 100 × 12) = 15,580 / 1,700
    assert facts["ROI over 12 months"] == "916.5% (478.8% to 1354.1%)"
    assert facts["Payback"] == "0.37 months (0.69 months to 0.26 months)"
    assert "> **Verdict:** the gain is established: the lift's interval lies above 0." in section
    assert "Figures in brackets are at the low and the high end" in section
    for line in case.explanation:
        assert f"- {escape(line)}" in section.splitlines()

    html = _html_section(render_html(report), "business")
    assert '<p class="verdict ok">Verdict: the gain is established' in html
    assert "<dt>Payback</dt><dd>0.37 months (0.69 months to 0.26 months)</dd>" in html
    for line in case.explanation:
        assert f"<li>{_esc(line)}</li>" in html


def test_a_gain_whose_interval_includes_zero_is_not_established() -> None:
    report = decision_report(business_case=_case((-0.01, 0.154)))
    section = _section(render_markdown(report), "Business case")
    assert "> **Verdict:** the gain is not established: the lift's interval includes 0." in section
    facts = _facts(section)
    # At the low end the switch loses money and never pays back.
    assert facts["Net benefit per month"] == "1,340.00 EUR (-300.00 EUR to 2,980.00 EUR)"
    assert facts["Payback"] == "0.37 months (never to 0.17 months)"
    html = _html_section(render_html(report), "business")
    assert (
        '<p class="verdict bad">Verdict: the gain is not established: the lift&#39;s interval '
        "includes 0.</p>"
    ) in html


def test_a_worse_candidate_and_a_case_without_prices() -> None:
    worse = _case((-0.103, -0.041), baseline_accuracy=0.884, candidate_accuracy=0.812, costs=False)
    section = _section(render_markdown(decision_report(business_case=worse)), "Business case")
    assert "the lift's interval lies below 0, so optimised is worse than base" in section
    facts = _facts(section)
    assert facts["Lift"].startswith("-7.2 points (-10.3 to -4.1 points")
    assert facts["Extra cost per month"] == "unknown: a model has no price"
    for absent in ("Net benefit per month", "ROI over 12 months", "Payback"):
        assert absent not in facts


def test_a_case_without_an_interval_says_the_gain_is_not_known() -> None:
    case = business_case(
        value_per_correct=Decimal("0.02"),
        currency="EUR",
        monthly_requests=1_000_000,
        baseline_accuracy=0.812,
        candidate_accuracy=0.884,
        monthly_cost_baseline=Decimal(220),
        monthly_cost_candidate=Decimal(200),
        baseline="base",
        candidate="optimised",
    )
    section = _section(render_markdown(decision_report(business_case=case)), "Business case")
    facts = _facts(section)
    assert facts["Lift"] == "+7.2 points (no interval)"
    # Nothing is invested (no one-off cost, the candidate is cheaper): no ROI, no brackets.
    assert facts["ROI over 12 months"] == "not defined"
    assert facts["Payback"] == "0.00 months"
    assert "Figures in brackets" not in section
    assert "whether the gain is real is not known: the lift has no interval" in section
    html = _html_section(render_html(decision_report(business_case=case)), "business")
    assert '<p class="verdict">' in html


# --------------------------------------------------------------------------------------------
# Escaping


def _hostile_report() -> Report:
    models = [
        _model(HOSTILE, 0.884, 50.0, 85.0, 450.0, "0.12"),
        _model("base", 0.812, 70.0, 120.0, 210.0, "0.22"),
    ]
    report = make_report(models)
    return report.model_copy(
        update={
            "comparisons": [
                _pair(HOSTILE, "base", 0.072, (0.041, 0.103), 0.001, 0.001, sentence=HOSTILE)
            ],
            "tie_groups": [[HOSTILE, "base"]],
            "capacity": _plan(),
            "capacity_model": HOSTILE,
            "manifest_file": HOSTILE,
            "business_case": _case(baseline="base", candidate=HOSTILE),
        }
    )


def test_html_escapes_every_user_string_in_the_decision_parts() -> None:
    html = render_html(_hostile_report())
    assert "<script" not in html
    parser = _parse(html)
    assert parser.errors == [] and parser.stack == []
    escaped = str(markupsafe.escape(HOSTILE))
    for anchor in ("comparisons", "capacity", "business"):
        assert escaped in _html_section(html, anchor), anchor


def test_markdown_escapes_every_user_string_in_the_decision_parts() -> None:
    markdown = render_markdown(_hostile_report())
    assert re.search(r"(?<!\\)<", markdown) is None
    literal = r"\<script\>alert('x')\</script\> \& \*co\* \| x"
    for heading in ("Are the differences real?", "Capacity plan", "Business case"):
        assert literal in _section(markdown, heading), heading
    comparisons = _section(markdown, "Are the differences real?")
    assert f"1. {literal}, base — not distinguishable at 95%" in comparisons.splitlines()
    # The pipe in the name cannot split a table row.
    row = next(line for line in comparisons.splitlines() if line.startswith("| \\<script"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 8
