"""Rendering a hand-built Report to HTML, Markdown and JSON, and writing the three files."""

from __future__ import annotations

import json
import math
import os
import re
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

import modelmeter.report as report_pkg
from modelmeter.report import render_html, render_json, render_markdown, write_report
from modelmeter.report.charts import build_charts
from modelmeter.results import (
    ClassMetrics,
    CostResult,
    HostFacts,
    Interval,
    LatencySummary,
    LoadResult,
    ModelResult,
    QualityResult,
    RankedModel,
    Recommendation,
    Report,
    SlaCheck,
    SliceQuality,
)

LANGUAGES = ("de", "en", "es", "fr", "it")
LABELS = ("billing", "bug", "feature")


def _histogram(median_ms: float, spread: float, n: int) -> list[tuple[float, int]]:
    """Log-normal response times in buckets growing by 25%, like the load engine's."""
    bounds = [1.0 * 1.25**i for i in range(40)]
    out: list[tuple[float, int]] = []
    previous = 0.0
    for bound in bounds:

        def cdf(x: float) -> float:
            if x <= 0:
                return 0.0
            return 0.5 * (1 + math.erf(math.log(x / median_ms) / (spread * math.sqrt(2))))

        out.append((round(bound, 3), round(n * (cdf(bound) - cdf(previous)))))
        previous = bound
    return out


def _latency(p50: float, p95: float, count: int = 6000) -> LatencySummary:
    return LatencySummary(
        count=count,
        mean=p50 * 1.1,
        p50=p50,
        p90=p95 * 0.85,
        p95=p95,
        p99=p95 * 1.4,
        max=p95 * 2.5,
    )


def _quality(f1: float, *, slices: bool = True) -> QualityResult:
    by_language = {
        lang: SliceQuality(
            n=200 + 10 * i,
            accuracy=f1 + 0.01,
            f1_macro=round(f1 - 0.02 * i + 0.03, 4),
            f1_macro_ci=Interval(low=f1 - 0.05, high=f1 + 0.04, method="bootstrap-percentile"),
        )
        for i, lang in enumerate(LANGUAGES)
    }
    return QualityResult(
        n=1100,
        n_failed=3,
        accuracy=f1 + 0.015,
        precision_macro=f1 + 0.01,
        recall_macro=f1 - 0.01,
        f1_macro=f1,
        precision_weighted=f1 + 0.012,
        recall_weighted=f1 - 0.008,
        f1_weighted=f1 + 0.004,
        intervals={
            "f1_macro": Interval(low=f1 - 0.021, high=f1 + 0.019, method="bootstrap-percentile"),
            "accuracy": Interval(low=f1 - 0.01, high=f1 + 0.03, method="wilson"),
        },
        per_class={
            label: ClassMetrics(precision=f1 + d, recall=f1 - d, f1=f1, support=300 + 50 * k)
            for k, (label, d) in enumerate(zip(LABELS, (0.02, -0.01, 0.0), strict=True))
        },
        confusion_labels=list(LABELS),
        confusion_matrix=[[280, 15, 5], [12, 320, 18], [9, 11, 380]],
        by_slice={"language": by_language} if slices else {},
    )


def _load(p50: float, rps: float, *, errors: dict[str, int] | None = None) -> LoadResult:
    errors = errors or {}
    requests = 6000
    return LoadResult(
        mode="concurrency",
        concurrency=32,
        duration_s=requests / rps,
        requests=requests,
        completed=requests - sum(errors.values()),
        errors=errors,
        error_rate=sum(errors.values()) / requests,
        latency_histogram_ms=_histogram(p50, 0.35, requests),
        service_time_ms=_latency(p50 * 0.95, p50 * 1.6),
        schedule_lag_ms=_latency(0.04, 0.21),
    )


def _model(
    name: str, f1: float, p50: float, p95: float, rps: float, cost: str, *, met: bool = True
) -> ModelResult:
    return ModelResult(
        name=name,
        target_kind="python",
        description=f"{name} variant of the ticket classifier",
        quality=_quality(f1),
        latency_ms=_latency(p50, p95),
        throughput_rps=rps,
        load=_load(p50, rps),
        cost=CostResult(
            currency="EUR",
            per_1000_requests=Decimal(cost),
            basis="instance",
            explanation=f"0.35 EUR/h / ({rps} req/s × 3600) × 1000 at 100% utilisation",
            throughput_basis_rps=rps,
            within_sla=met,
        ),
        sla=SlaCheck(met=met, violations=[] if met else ["P95 120.0 ms > 100 ms"]),
    )


def make_report(models: list[ModelResult] | None = None) -> Report:
    models = (
        models
        if models is not None
        else [
            _model("base", 0.812, 70.0, 120.0, 210.0, "0.22", met=False),
            _model("optimised", 0.884, 50.0, 85.0, 450.0, "0.12"),
            _model("distilled", 0.843, 35.0, 60.0, 720.0, "0.0834567"),
        ]
    )
    names = [m.name for m in models]
    chosen = names[-1] if names else None
    return Report(
        tool_version="0.1.0",
        run_id="run-20250102-abc123",
        name="Ticket classifier study",
        created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        spec_hash="sha256:0123456789abcdef",
        seed=42,
        host=HostFacts(python="3.11.9", platform="Linux-6.1-x86_64", cpu_count=8, machine="x86_64"),
        task="classify",
        dataset={"name": "tickets", "samples": 1100, "languages": 5},
        models=models,
        pareto=names[1:] if len(names) > 1 else names,
        ranking=[
            RankedModel(name=n, score=0.9 - 0.1 * i, eligible=i != 2, reasons=[f"reason {i}"])
            for i, n in enumerate(reversed(names))
        ],
        recommendation=Recommendation(
            text=f"Run {chosen}: F1 0.843, P95 60.0 ms, 0.08346 EUR per 1,000 requests.",
            by_priority={"quality": names[0] if names else None, "latency": chosen, "cost": chosen},
            chosen=chosen,
            priority="balanced",
        ),
        sla={"p95_ms": 100.0, "error_rate": 0.01},
        priority_weights={
            "balanced": {"quality": 0.4, "latency": 0.3, "cost": 0.3},
            "quality": {"quality": 0.8, "latency": 0.1, "cost": 0.1},
        },
        definitions={
            "f1_macro": "Unweighted mean of per-class F1.",
            "p95": "95th percentile of response time (done − intended send time).",
        },
        notes=["Percentiles from the full sample."],
    )


def edge_report() -> Report:
    """No quality, no cost, errors, a client-bound load, and a hostile name."""
    no_quality = _model("no-quality", 0.5, 40.0, 70.0, 300.0, "0.10")
    no_quality = no_quality.model_copy(update={"quality": None})
    no_cost = _model("no-cost", 0.7, 45.0, 75.0, 250.0, "0")
    no_cost = no_cost.model_copy(
        update={
            "cost": CostResult(
                currency="EUR", per_1000_requests=None, basis="none", explanation="No price given."
            )
        }
    )
    errors = _model("flaky", 0.6, 55.0, 95.0, 200.0, "0.3")
    errors = errors.model_copy(
        update={"load": _load(55.0, 200.0, errors={"timeout": 40, "http_status": 20})}
    )
    bound_load = _load(30.0, 900.0).model_copy(update={"client_bound": True})
    bound = _model("client-bound", 0.75, 30.0, 50.0, 900.0, "0.05").model_copy(
        update={"load": bound_load}
    )
    hostile = _model("<script>alert('x')</script> & co", 0.8, 50.0, 80.0, 400.0, "0.15")
    unmeasured = _model("unmeasured", 0.7, 1.0, 1.0, 1.0, "0.1").model_copy(
        update={"latency_ms": None, "throughput_rps": None, "load": None}
    )
    return make_report([no_quality, no_cost, errors, bound, hostile, unmeasured])


# --------------------------------------------------------------------------------------------


class _TagBalance(HTMLParser):
    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _TagBalance:
    parser = _TagBalance()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(params=["full", "edge", "single"])
def any_report(request: pytest.FixtureRequest) -> Report:
    if request.param == "full":
        return make_report()
    if request.param == "edge":
        return edge_report()
    return make_report([_model("only", 0.9, 20.0, 30.0, 1000.0, "0.01")])


# --------------------------------------------------------------------------------------------
# Package surface


def test_all_is_sorted_and_exported() -> None:
    assert report_pkg.__all__ == sorted(report_pkg.__all__)
    for name in report_pkg.__all__:
        assert hasattr(report_pkg, name), name


# --------------------------------------------------------------------------------------------
# JSON


def test_json_round_trips_and_keeps_the_contract_keys() -> None:
    report = make_report()
    text = render_json(report)
    assert Report.model_validate_json(text) == report
    data = json.loads(text)
    assert data["schema_version"] == 1
    model = data["models"][1]
    assert model["name"] == "optimised"
    assert model["quality"]["f1_macro"] == 0.884
    assert model["quality"]["by_slice"]["language"]["fr"]["f1_macro"] == pytest.approx(0.854)
    assert model["latency_ms"]["p95"] == 85.0
    assert model["throughput_rps"] == 450.0
    cost = model["cost"]["per_1000_requests"]
    assert isinstance(cost, float) and cost == 0.12
    assert model["cost"]["currency"] == "EUR"
    assert data["pareto"] == ["optimised", "distilled"]
    assert data["recommendation"]["chosen"] == "distilled"


def test_json_round_trips_edge_cases() -> None:
    report = edge_report()
    assert Report.model_validate_json(render_json(report)) == report


# --------------------------------------------------------------------------------------------
# HTML


def test_html_is_self_contained(any_report: Report) -> None:
    html = render_html(any_report)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html and "url(http" not in html
    parser = _parse(html)
    for tag, attrs in parser.starts:
        for attr in ("src", "href", "xlink:href", "action"):
            value = attrs.get(attr)
            if value is not None:
                assert value.startswith("#"), f"<{tag} {attr}={value!r}>"


def test_html_tags_balance(any_report: Report) -> None:
    parser = _parse(render_html(any_report))
    assert parser.errors == []
    assert parser.stack == []


def test_html_has_the_charts() -> None:
    html = render_html(make_report())
    assert html.count("<svg") == 5
    for chart_id in ("chart-quality", "chart-latency", "chart-throughput", "chart-cost"):
        assert f'id="{chart_id}"' in html
    assert 'id="chart-slice-language"' in html


def test_html_sections_in_order() -> None:
    html = render_html(make_report())
    order = [
        "Ticket classifier study",
        'id="recommendation"',
        'id="summary"',
        'id="ranking"',
        'id="charts"',
        'id="slices"',
        'id="models"',
        'id="definitions"',
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_html_escapes_hostile_names() -> None:
    html = render_html(edge_report())
    assert "<script" not in html
    assert "&lt;script&gt;alert(" in html
    # Every chart escaped it too, not only the template.
    for chart in build_charts(edge_report()):
        if chart.svg is not None:
            assert "<script" not in chart.svg


def test_html_shows_edge_cases() -> None:
    html = render_html(edge_report())
    assert "Client-bound run" in html
    assert "No quality was measured" in html
    assert "No load phase was run" in html
    assert "timeout: 40" in html and "http_status: 20" in html
    assert "60 (1.00%)" in html  # errors (rate) of the flaky model
    assert "Not plotted: no-quality (no quality); no-cost (no cost)" in html


def _figures(report: Report) -> list[str]:
    """Figures as both renderings must show them."""
    return [
        "0.884 (0.863–0.903)",  # F1 with interval
        "0.899",  # accuracy
        "50.0",  # P50
        "85.0",  # P95
        "119.0",  # P99
        "450.0",  # req/s
        "0.12 EUR",
        "0.08346 EUR",  # 4 significant digits
        "0.22 EUR",
        "0 (0%)",
        "0.854 (0.834–0.924)",  # fr slice of optimised
        "run-20250102-abc123",
        "2025-01-02 03:04:05+00:00",
        "sha256:0123456789abcdef",
        "x86_64, 8 CPUs, Linux-6.1-x86_64, Python 3.11.9",
        "1,100",
        "P95 120.0 ms",  # SLA violation
    ]


def test_figures_appear_in_html_and_markdown() -> None:
    report = make_report()
    html = render_html(report)
    markdown = render_markdown(report)
    for figure in _figures(report):
        assert figure in html, figure
        assert figure in markdown, figure


# --------------------------------------------------------------------------------------------
# Markdown


def test_markdown_structure() -> None:
    markdown = render_markdown(make_report())
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Recommendation",
        "## Summary",
        "## Ranking",
        "## Quality by slice",
        "## Model details",
        "## Definitions",
        "## Notes",
    ]
    assert "| **distilled** |" in markdown
    # The run's priority is listed even when the decision step left it out of by_priority.
    assert "| **balanced (this run)** | distilled |" in markdown
    summary_header = next(line for line in markdown.splitlines() if line.startswith("| model |"))
    assert "F1 (macro, 95% CI)" in summary_header and "cost / 1,000 req" in summary_header


def test_markdown_tables_are_rectangular(any_report: Report) -> None:
    lines = render_markdown(any_report).splitlines()
    table: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
            assert len(widths) == 1, table
            assert re.fullmatch(r"\|(---:?\|)+", table[1]), table[1]
            table = []


def test_markdown_escapes_hostile_names() -> None:
    markdown = render_markdown(edge_report())
    assert re.search(r"(?<!\\)<", markdown) is None  # no raw "<" that a renderer would obey
    assert r"\<script\>alert('x')\</script\> \& co" in markdown
    assert "Warning: client-bound run" in markdown


def test_markdown_marks_missing_values() -> None:
    markdown = render_markdown(edge_report())
    row = next(line for line in markdown.splitlines() if line.startswith("| no-quality |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "–" and cells[2] == "–"
    row = next(line for line in markdown.splitlines() if line.startswith("| no-cost |"))
    assert [cell.strip() for cell in row.strip("|").split("|")][8] == "–"


# --------------------------------------------------------------------------------------------
# Writing


def test_write_report_writes_three_files_and_no_temporaries(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "out"
    report = make_report()
    paths = write_report(report, out)
    assert set(paths) == {"html", "md", "json"}
    assert {p.name for p in out.iterdir()} == {"report.html", "report.md", "report.json"}
    assert paths["html"].read_text(encoding="utf-8") == render_html(report)
    assert paths["md"].read_text(encoding="utf-8") == render_markdown(report)
    assert Report.model_validate_json(paths["json"].read_text(encoding="utf-8")) == report
    if os.name == "posix":
        assert paths["html"].stat().st_mode & 0o777 == 0o644


def test_write_report_replaces_existing_files(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("old", encoding="utf-8")
    write_report(make_report(), tmp_path)
    write_report(edge_report(), tmp_path)
    assert "client-bound" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.html",
        "report.json",
        "report.md",
    ]


def test_write_report_failure_leaves_no_temporaries(tmp_path: Path) -> None:
    # A folder where the HTML file should go: the rename over it fails for real.
    (tmp_path / "report.html").mkdir()
    with pytest.raises(OSError):
        write_report(make_report(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert (tmp_path / "report.html").is_dir()


def test_slice_tables_share_n_when_models_agree() -> None:
    markdown = render_markdown(make_report())
    assert "| language | n | base F1 | optimised F1 | distilled F1 |" in markdown
    assert "| fr | 230 | 0.782 (0.762–0.852) | 0.854 (0.834–0.924) |" in markdown

    report = make_report()
    quality = report.models[0].quality
    assert quality is not None
    quality.by_slice["language"]["fr"] = SliceQuality(n=99, accuracy=0.7, f1_macro=0.7)
    markdown = render_markdown(report)
    assert "| language | base F1 | base n | optimised F1 | optimised n |" in markdown
    assert "| fr | 0.700 | 99 | 0.854 (0.834–0.924) | 230 |" in markdown


def test_an_interrupted_run_says_so_at_the_top_of_both_renderings() -> None:
    stopped = make_report().model_copy(update={"interrupted": True})
    html, markdown = render_html(stopped), render_markdown(stopped)
    for text, heading in ((html, 'id="recommendation"'), (markdown, "## Recommendation")):
        assert "Interrupted run:" in text
        assert text.index("Interrupted run:") < text.index(heading)
    complete = make_report()
    assert "Interrupted run:" not in render_html(complete) + render_markdown(complete)
