"""Advice and the 90-day plan: each piece cites a measurement, and none is made without one."""

from __future__ import annotations

from datetime import UTC, datetime

from modelmeter.advice import RunFacts, advise
from modelmeter.results import (
    HostFacts,
    ModelResult,
    Recommendation,
    Report,
    SlaCheck,
    SliceQuality,
)
from tests.unit._decide_models import model_result


def _report(models: list[ModelResult], chosen: str) -> Report:
    return Report(
        tool_version="0",
        run_id="20261122-000000-abcdef",
        name="study",
        created_at=datetime(2026, 11, 22, tzinfo=UTC),
        spec_hash="x",
        seed=0,
        host=HostFacts(python="3.11", platform="linux", cpu_count=2, machine="x86_64"),
        task="classification",
        models=models,
        pareto=[m.name for m in models],
        ranking=[],
        recommendation=Recommendation(
            text="-", by_priority={"balanced": chosen}, chosen=chosen, priority="balanced"
        ),
    )


def _with_slices(model: ModelResult, f1_by_language: dict[str, float]) -> ModelResult:
    assert model.quality is not None
    slices = {
        "language": {
            lang: SliceQuality(n=100, accuracy=f1, f1_macro=f1)
            for lang, f1 in f1_by_language.items()
        }
    }
    return model.model_copy(
        update={"quality": model.quality.model_copy(update={"by_slice": slices})}
    )


def test_a_tied_faster_model_a_cache_and_a_weak_slice_are_found_with_their_figures() -> None:
    base = _with_slices(
        model_result("base", 0.902, 15.9, "0.0000318", interval=(0.884, 0.918)),
        {"en": 0.93, "pt": 0.88},
    ).model_copy(update={"throughput_rps": 787.0})
    distilled = _with_slices(
        model_result("distilled", 0.886, 1.1, "0.0000023", interval=(0.867, 0.903)),
        {"en": 0.925, "pt": 0.84},
    ).model_copy(update={"throughput_rps": 10_907.0})
    report = _report([base, distilled], chosen="distilled")
    inputs = ["where is my order"] * 5 + [f"message {i}" for i in range(95)]
    advice = advise(report, RunFacts(inputs=inputs))
    titles = [a.title for a in advice]
    assert titles[0] == "Adopt distilled for balanced use"
    cache = next(a for a in advice if "cache" in a.title)
    assert "4 of 100 evaluated inputs (4.0%)" in cache.finding
    faster = next(a for a in advice if a.title.startswith("Serve distilled"))
    # 10,907 / 787 = 13.86: distilled's F1 0.886 lies inside base's interval 0.884–0.918.
    assert "(13.9×)" in faster.finding and "P95 1.1 ms against 15.9 ms" in faster.finding
    weak = next(a for a in advice if a.title.startswith("Close the gap"))
    assert weak.title == "Close the gap on language = pt"
    assert "loses 0.040 macro F1" in weak.finding
    horizons = [a.horizon for a in advice]
    assert horizons == sorted(horizons, key=["weeks 1-2", "weeks 3-6", "weeks 7-12"].index)


def test_no_advice_without_the_measurement_behind_it() -> None:
    best = model_result("a", 0.90, 10.0, "1", interval=(0.88, 0.92))
    worse = model_result("b", 0.80, 10.0, "1", interval=(0.78, 0.82))  # not tied: no "serve b"
    report = _report([best, worse], chosen="a")
    advice = advise(report, RunFacts(inputs=[f"text {i}" for i in range(100)]))  # no repeats
    titles = [a.title for a in advice]
    assert not any("cache" in t for t in titles)
    assert not any(t.startswith("Serve") for t in titles)
    assert not any(t.startswith("Close the gap") for t in titles)  # no slices measured
    assert titles == ["Adopt a for balanced use", "Keep a regression gate in CI"]


def test_an_sla_breach_is_advice_for_the_first_two_weeks() -> None:
    broken = model_result("slow", 0.9, 900.0, "1").model_copy(
        update={"sla": SlaCheck(met=False, violations=["P95 900.0 ms > 100 ms"])}
    )
    report = _report([broken, model_result("ok", 0.85, 10.0, "1")], chosen="ok")
    breach = next(a for a in advise(report) if a.title == "Do not ship slow as measured")
    assert "P95 900.0 ms > 100 ms" in breach.finding and breach.horizon == "weeks 1-2"


def test_the_plan_is_rendered_by_horizon_and_escaped() -> None:
    from modelmeter.report.html import render_html
    from modelmeter.report.markdown import render_markdown

    hostile = model_result("<b>x</b>", 0.9, 10.0, "1", interval=(0.88, 0.92))
    report = _report([hostile, model_result("b", 0.5, 5.0, "1")], chosen="<b>x</b>")
    report = report.model_copy(update={"advice": advise(report)})
    markdown = render_markdown(report)
    assert "## Advice and 90-day plan" in markdown
    assert markdown.index("### Weeks 1-2") < markdown.index("### Weeks 7-12")
    assert "Adopt \\<b\\>x\\</b\\> for balanced use" in markdown
    html = render_html(report)
    assert '<section id="plan">' in html and "<b>x</b>" not in html
    assert "Adopt &lt;b&gt;x&lt;/b&gt; for balanced use" in html
