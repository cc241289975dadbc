"""The LLM parts of a report (tasks, costs and budget, routing) in HTML and Markdown."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from modelmeter.economics.llm_costs import (
    TokenUsage,
    break_even,
    check_budget_limit,
    llm_cost_breakdown,
    monthly_budget,
)
from modelmeter.report import render_html, render_markdown
from modelmeter.report.markdown import escape
from modelmeter.results import (
    Interval,
    ModelResult,
    Report,
    RouteChoiceResult,
    SliceScore,
    TaskMetric,
    TaskQuality,
    TaskResult,
)
from modelmeter.spec.economics import Workload
from modelmeter.spec.pricing import ApiPricing, InstancePricing
from tests.unit.test_report_render import _model, _parse, make_report

HOSTILE = '<img src=x onerror=alert(1)> & "co" | *x*'
PRICES = "LiteLLM model_prices_and_context_window.json, 2025-06-01"
PRICING = ApiPricing(
    currency="USD", per_1m_input_tokens=Decimal(3), per_1m_output_tokens=Decimal(15)
)


def _wilson(low: float, high: float) -> Interval:
    return Interval(low=low, high=high, method="wilson")


def _boot(low: float, high: float) -> Interval:
    return Interval(low=low, high=high, method="bootstrap-percentile")


def _quality(
    metric: TaskMetric,
    n: int,
    correct: int,
    accuracy_ci: tuple[float, float],
    *,
    mean_score: float | None = None,
    mean_score_ci: tuple[float, float] | None = None,
    n_failed: int = 0,
    by_slice: dict[str, dict[str, SliceScore]] | None = None,
) -> TaskQuality:
    accuracy = correct / n
    return TaskQuality(
        metric=metric,
        n=n,
        n_failed=n_failed,
        n_correct=correct,
        accuracy=accuracy,
        accuracy_ci=_wilson(*accuracy_ci),
        mean_score=accuracy if mean_score is None else mean_score,
        mean_score_ci=_boot(*mean_score_ci) if mean_score_ci is not None else None,
        n_bootstrap=1000 if mean_score_ci is not None else 0,
        seed=7,
        by_slice=by_slice or {},
    )


def _slice(n: int, correct: int, ci: tuple[float, float]) -> SliceScore:
    return SliceScore(
        n=n,
        n_failed=0,
        n_correct=correct,
        accuracy=correct / n,
        accuracy_ci=_wilson(*ci),
        mean_score=correct / n,
    )


def _mcq(name: str = "mmlu-mini") -> TaskResult:
    subjects = {
        "algebra": _slice(20, 16, (0.584, 0.919)),
        "history": _slice(20, 15, (0.531, 0.888)),
    }
    return TaskResult(
        name=name,
        kind="multiple_choice",
        route="default",
        quality=_quality(
            "accuracy", 40, 31, (0.625, 0.877), n_failed=1, by_slice={"subject": subjects}
        ),
        answers=40,
        sent=28,
        cached=12,
        failed=1,
        input_tokens=20_000,
        output_tokens=2_000,
        cost_per_correct=Decimal("0.002903"),
    )


def _code() -> TaskResult:
    return TaskResult(
        name="humaneval-mini",
        kind="code",
        route="think",
        quality=_quality(
            "pass@1", 20, 12, (0.387, 0.781), mean_score=0.62, mean_score_ci=(0.45, 0.78)
        ),
        pass_at_k={"1": 0.62, "5": 0.81, "10": 0.9},
        answers=100,
        sent=100,
        input_tokens=20_000,
        output_tokens=14_000,
        cost_per_correct=Decimal("0.01"),
    )


def _generation() -> TaskResult:
    return TaskResult(
        name="qa-gen",
        kind="generation",
        route="background",
        quality=_quality(
            "token_f1", 40, 26, (0.495, 0.779), mean_score=0.71, mean_score_ci=(0.64, 0.78)
        ),
        answers=40,
        sent=40,
        input_tokens=10_000,
        output_tokens=4_000,
    )


def _api_model(name: str = "gpt-strong") -> ModelResult:
    usage = TokenUsage(requests=100, input_tokens=50_000, output_tokens=20_000)
    cost = llm_cost_breakdown(PRICING, usage, correct_answers=70)
    budget = monthly_budget(PRICING, Workload(requests_per_day=Decimal(1000)), usage.means())
    budget = check_budget_limit(budget, Decimal(100), "USD")
    assert cost.per_request is not None and budget.requests_per_month is not None
    breakeven = break_even(
        cost.per_request,
        "USD",
        InstancePricing(currency="USD", price_per_hour=Decimal("2.5")),
        throughput_rps=5.0,
        monthly_requests=Decimal(budget.requests_per_month),
    )
    return _model(name, 0.8, 900.0, 2400.0, 5.0, "4.5").model_copy(
        update={
            "target_kind": "openai",
            "quality": None,
            "tasks": [_mcq(), _code(), _generation()],
            "task_score": 0.7,
            "task_score_ci": _wilson(0.604, 0.781),
            "llm_cost": cost,
            "budget": budget,
            "break_even": breakeven,
        }
    )


def _local_model(name: str = "local-small") -> ModelResult:
    weaker = _mcq().model_copy(
        update={
            "quality": _quality(
                "accuracy",
                40,
                22,
                (0.398, 0.691),
                by_slice={"subject": {"algebra": _slice(20, 9, (0.258, 0.658))}},
            ),
            "cached": 0,
            "cost_per_correct": None,
        }
    )
    return _model(name, 0.6, 300.0, 700.0, 12.0, "0.9").model_copy(
        update={
            "quality": None,
            "tasks": [weaker],
            "task_score": 0.55,
            "task_score_ci": _wilson(0.398, 0.691),
        }
    )


def _routes(model: str = "gpt-strong") -> list[RouteChoiceResult]:
    return [
        RouteChoiceResult(
            route="default", model=model, reason="highest mmlu-mini accuracy 0.775 at 4.50 USD"
        ),
        RouteChoiceResult(
            route="background", model="local-small", reason="cheapest within 0.05 of the best"
        ),
    ]


def llm_report(models: list[ModelResult] | None = None, **update: object) -> Report:
    models = models if models is not None else [_api_model(), _local_model()]
    base = make_report(models)
    fields: dict[str, object] = {
        "task": "llm",
        "pricing_source": PRICES,
        "routing": _routes(),
        "routing_files": ["claude-code-router.json", "litellm-config.yaml"],
        **update,
    }
    return Report.model_validate({**base.model_dump(), **fields})


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _md_table(markdown: str, heading: str) -> list[list[str]]:
    """The first table after the line ``heading``: header row then data rows, as cells."""
    lines = markdown.splitlines()
    start = lines.index(heading)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows or line.startswith("#"):
            break
    assert rows, f"no table after {heading!r}"
    return [rows[0], *rows[2:]]


def _row(table: list[list[str]], key: str) -> dict[str, str]:
    header = table[0]
    row = next(r for r in table[1:] if r[0].strip("*") == key)
    return dict(zip(header, row, strict=True))


# --------------------------------------------------------------------------------------------
# Tasks


def test_markdown_task_tables_show_each_metric_with_its_interval() -> None:
    markdown = render_markdown(llm_report())

    mcq = _md_table(markdown, "### mmlu-mini")
    assert mcq[0] == [
        "model",
        "accuracy (95% CI)",
        "n",
        "failed",
        "cached",
        "cost / correct answer",
    ]
    strong = _row(mcq, "gpt-strong")
    assert strong["accuracy (95% CI)"] == "0.775 (0.625–0.877)"
    assert (strong["n"], strong["failed"], strong["cached"]) == ("40", "1", "12")
    assert strong["cost / correct answer"] == "0.002903 USD"
    local = _row(mcq, "local-small")
    assert local["accuracy (95% CI)"] == "0.550 (0.398–0.691)"
    assert local["cost / correct answer"] == "–"

    code = _md_table(markdown, "### humaneval-mini")
    assert code[0][:4] == ["model", "pass@1 (95% CI)", "pass@5", "pass@10"]
    strong = _row(code, "gpt-strong")
    # pass@1 is the unbiased c/n mean with its bootstrap interval, not the raw pass rate 0.600.
    assert strong["pass@1 (95% CI)"] == "0.620 (0.450–0.780)"
    assert (strong["pass@5"], strong["pass@10"]) == ("0.810", "0.900")
    # The local model has no code task: its row says so in every figure.
    assert set(list(_row(code, "local-small").values())[1:]) == {"–"}

    gen = _md_table(markdown, "### qa-gen")
    strong = _row(gen, "gpt-strong")
    assert strong["token F1 (95% CI)"] == "0.710 (0.640–0.780)"
    assert strong["accuracy (95% CI)"] == "0.650 (0.495–0.779)"


def test_each_task_says_which_metric_it_uses() -> None:
    report = llm_report()
    markdown = render_markdown(report)
    html = render_html(report)
    for text in (
        "Metric: accuracy, the share of questions answered with the right choice",
        "Metric: pass@1, the unbiased estimate c/n per problem",
        "Metric: token F1, the mean token overlap",
        "multiple_choice, route default",
    ):
        assert text in markdown, text
        assert text in html, text


def test_task_slices_are_tables_with_intervals_and_n() -> None:
    report = llm_report()
    markdown = render_markdown(report)
    after_task = markdown[markdown.index("### mmlu-mini") :]
    table = _md_table(after_task, "#### By subject")
    assert table[0] == ["subject", "n", "gpt-strong accuracy", "local-small accuracy"]
    assert table[1] == ["algebra", "20", "0.800 (0.584–0.919)", "0.450 (0.258–0.658)"]
    # local-small was not asked history questions.
    assert table[2] == ["history", "20", "0.750 (0.531–0.888)", "–"]
    html = render_html(report)
    assert "<h4>By subject</h4>" in html
    assert "0.800 (0.584–0.919)" in html


def test_summary_shows_the_task_score_for_llm_runs() -> None:
    report = llm_report()
    markdown = render_markdown(report)
    summary = _md_table(markdown, "## Summary")
    assert summary[0][1] == "task score (95% CI)"
    assert _row(summary, "gpt-strong")["task score (95% CI)"] == "0.700 (0.604–0.781)"
    assert _row(summary, "local-small")["task score (95% CI)"] == "0.550 (0.398–0.691)"
    assert "0.700 (0.604–0.781)" in render_html(report)


def test_summary_of_a_mixed_report_names_both_figures() -> None:
    classifier = _model("classifier", 0.884, 50.0, 85.0, 450.0, "0.12")
    report = llm_report([classifier, _api_model()], routing=[], routing_files=[])
    summary = _md_table(render_markdown(report), "## Summary")
    header = "F1 (macro) / task score (95% CI)"
    assert summary[0][1] == header
    assert _row(summary, "classifier")[header] == "0.884 (0.863–0.903)"
    assert _row(summary, "gpt-strong")[header] == "0.700 (0.604–0.781)"


# --------------------------------------------------------------------------------------------
# Costs and budget


def test_cost_table_shows_every_figure_per_model() -> None:
    markdown = render_markdown(llm_report())
    lines = markdown.splitlines()
    at = lines.index("## Costs and budget")
    assert lines[at + 2] == f"Prices: {PRICES}"
    table = _md_table(markdown, "## Costs and budget")
    # The local model is priced by the hour: it has no token costs and no row.
    assert [row[0].strip("*") for row in table[1:]] == ["gpt-strong"]
    row = _row(table, "gpt-strong")
    # 50,000 × 3 / 1M + 20,000 × 15 / 1M = 0.45 USD over 100 requests, 70 of them correct.
    assert row["requests"] == "100"
    assert row["tokens"] == "70,000"
    assert row["total"] == "0.45 USD"
    assert row["per request"] == "0.0045 USD"
    assert row["per 1,000 evaluated requests"] == "4.50 USD"
    assert row["per 1M tokens"] == "6.429 USD"
    assert row["per correct answer"] == "0.006429 USD"
    assert row["blended 3:1 per 1M"] == "6.00 USD"


def test_cost_formulas_budget_and_break_even_are_listed() -> None:
    report = llm_report()
    model = report.models[0]
    assert model.llm_cost is not None and model.budget is not None
    assert model.break_even is not None
    markdown = render_markdown(report)
    html = render_html(report)
    section = markdown[markdown.index("## Costs and budget") : markdown.index("## Routing")]
    formulas = [*model.llm_cost.explanation, *model.budget.explanation]
    for line in [*formulas, *model.break_even.explanation]:
        assert f"- {escape(line)}" in section, line
    assert "- 135 USD \\> 100 USD monthly budget: over the budget by 35 USD" in section
    assert "- a month is taken as 30 days" in section
    # 1,000 requests a day × 30 days at the measured 500 in / 200 out tokens: 45 + 90 USD.
    assert "- **Total per month:** 135.00 USD" in section
    assert "- **Monthly limit:** 100.00 USD" in section
    assert "- **Verdict:** over the budget" in section
    assert "- **Break-even:** 400,000 requests per month" in section
    assert "- **Cheaper at the declared volume:** the API" in section
    for text in (
        f"Prices: {PRICES}",
        "135.00 USD",
        "<dt>Verdict</dt><dd>over the budget</dd>",
        "400,000 requests per month",
        model.llm_cost.explanation[0],
    ):
        assert text in html, text


def test_budget_within_its_limit_and_without_one() -> None:
    within = _api_model()
    assert within.budget is not None
    loose = check_budget_limit(within.budget.model_copy(), Decimal(200), "USD")
    no_limit = _api_model("no-limit")
    assert no_limit.budget is not None
    unlimited = no_limit.budget.model_copy(update={"limit": None, "within_budget": None})
    report = llm_report(
        [
            within.model_copy(update={"budget": loose}),
            no_limit.model_copy(update={"budget": unlimited, "break_even": None}),
        ]
    )
    markdown = render_markdown(report)
    assert "- **Verdict:** within the budget" in markdown
    assert "- **Monthly limit:** none declared" in markdown
    assert "<dt>Verdict</dt><dd>within the budget</dd>" in render_html(report)


# --------------------------------------------------------------------------------------------
# Routing


def test_routing_table_and_file_links() -> None:
    report = llm_report()
    markdown = render_markdown(report)
    table = _md_table(markdown, "## Routing")
    assert table[0] == ["route", "model", "reason"]
    assert table[1] == ["default", "gpt-strong", "highest mmlu-mini accuracy 0.775 at 4.50 USD"]
    assert table[2] == ["background", "local-small", "cheapest within 0.05 of the best"]
    assert "- [claude-code-router.json](claude-code-router.json)" in markdown
    assert "- [litellm-config.yaml](litellm-config.yaml)" in markdown

    parser = _parse(render_html(report))
    links = {attrs["href"] for tag, attrs in parser.starts if tag == "a" and attrs.get("href")}
    assert {"claude-code-router.json", "litellm-config.yaml"} <= links
    # Every other link stays inside the page.
    assert all(
        href is not None and href.startswith("#")
        for href in links - {"claude-code-router.json", "litellm-config.yaml"}
    )


def test_a_routing_file_that_is_not_a_plain_name_is_not_linked() -> None:
    odd = ["../elsewhere.json", "https://example.invalid/x.yaml", ".hidden.yaml"]
    report = llm_report(routing_files=odd)
    html = render_html(report)
    markdown = render_markdown(report)
    for name in odd:
        assert f'href="{name}"' not in html
        assert f"]({name})" not in markdown
        assert f"- {name}" in markdown
    assert "<li>../elsewhere.json</li>" in html


# --------------------------------------------------------------------------------------------
# Structure, classification reports, escaping


def test_sections_in_order() -> None:
    report = llm_report()
    headings = [line for line in render_markdown(report).splitlines() if line.startswith("## ")]
    assert headings == [
        "## Recommendation",
        "## Summary",
        "## Tasks",
        "## Ranking",
        "## Costs and budget",
        "## Routing",
        "## Model details",
        "## Definitions",
        "## Notes",
    ]
    html = render_html(report)
    order = ['id="summary"', 'id="tasks"', 'id="ranking"', 'id="costs"', 'id="routing"']
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    for anchor in ("#tasks", "#costs", "#routing"):
        assert f'href="{anchor}"' in html


def test_html_of_an_llm_report_is_well_formed_and_self_contained() -> None:
    html = render_html(llm_report())
    parser = _parse(html)
    assert parser.errors == [] and parser.stack == []
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()


def test_markdown_tables_of_an_llm_report_are_rectangular() -> None:
    lines = render_markdown(llm_report()).splitlines()
    table: list[str] = []
    tables = 0
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
            assert len(widths) == 1, table
            tables += 1
            table = []
    assert tables >= 8


@pytest.mark.parametrize("render", [render_html, render_markdown])
def test_a_classification_report_has_no_llm_sections(render: object) -> None:
    assert callable(render)
    text = render(make_report())
    for marker in ("Tasks", "Costs and budget", "Routing", "Prices:", "task score"):
        assert marker not in text, marker


def test_routing_needs_choices_and_costs_need_figures() -> None:
    bare = [
        m.model_copy(update={"llm_cost": None, "budget": None, "break_even": None})
        for m in (_api_model(), _local_model())
    ]
    report = llm_report(bare, routing=[])
    markdown = render_markdown(report)
    html = render_html(report)
    assert "## Tasks" in markdown and 'id="tasks"' in html
    assert "## Costs and budget" not in markdown and 'id="costs"' not in html
    assert "## Routing" not in markdown and 'id="routing"' not in html


def test_hostile_names_are_escaped() -> None:
    api = _api_model(HOSTILE)
    api = api.model_copy(
        update={"tasks": [_mcq(HOSTILE), *api.tasks[1:]]},
    )
    slices = {HOSTILE: {HOSTILE: _slice(20, 10, (0.3, 0.7))}}
    api.tasks[0].quality.by_slice.update(slices)
    routes = [RouteChoiceResult(route=HOSTILE, model=HOSTILE, reason=HOSTILE)]
    report = llm_report(
        [api, _local_model()], routing=routes, pricing_source=HOSTILE, routing_files=[HOSTILE]
    )
    html = render_html(report)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    parser = _parse(html)
    assert parser.errors == [] and parser.stack == []

    markdown = render_markdown(report)
    assert re.search(r"(?<!\\)<", markdown) is None
    escaped = r'\<img src=x onerror=alert(1)\> \& "co" \| \*x\*'
    assert f"### {escaped}" in markdown  # the task heading
    assert f"Prices: {escaped}" in markdown
    assert f"| {escaped} | {escaped} | {escaped} |" in markdown  # the route
    assert f"- {escaped}" in markdown  # the routing file, not a link


def test_model_details_point_to_the_task_scores() -> None:
    report = llm_report()
    for text in (render_markdown(report), render_html(report)):
        assert "No quality was measured" not in text
        assert text.count("Task scores are in") == 2
    assert 'Task scores are in <a href="#tasks">Tasks</a>' in render_html(report)
