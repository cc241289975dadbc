"""Reports with known per-item grades, built from the real pydantic models, for the gate's tests.

The other compare tests import these builders; the tests here check that what they build is a
report ``modelmeter run`` could have written: it survives report.json and the SQLite run store
with its per-item grades intact.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from modelmeter.results import (
    Budget,
    CostResult,
    HostFacts,
    Interval,
    ItemResults,
    LatencySummary,
    LoadResult,
    ModelResult,
    QualityResult,
    Recommendation,
    Report,
    SlaCheck,
)
from modelmeter.store import RunStore


def paired_grades(
    both: int, baseline_only: int, new_only: int, neither: int, *, seed: int = 7
) -> tuple[list[bool], list[bool]]:
    """(baseline, new) right/wrong vectors with exactly this 2×2 table, rows shuffled."""
    rows = (
        [(True, True)] * both
        + [(True, False)] * baseline_only
        + [(False, True)] * new_only
        + [(False, False)] * neither
    )
    random.Random(seed).shuffle(rows)
    return [row[0] for row in rows], [row[1] for row in rows]


def item_ids(n: int, start: int = 0) -> list[str]:
    return [f"q{i:04d}" for i in range(start, start + n)]


def latency(p95: float, spread: float = 0.05) -> LatencySummary:
    """A P95 with an interval of ± ``spread`` (relative) around it."""
    return LatencySummary(
        count=500,
        mean=p95 * 0.6,
        p50=p95 * 0.5,
        p90=p95 * 0.9,
        p95=p95,
        p99=p95 * 1.2,
        max=p95 * 2,
        p95_ci=Interval(low=p95 * (1 - spread), high=p95 * (1 + spread), method="order-statistics"),
    )


def budget(total: str, limit: str | None) -> Budget:
    within = None if limit is None else Decimal(total) <= Decimal(limit)
    return Budget(
        currency="EUR",
        requests_per_month=Decimal(1_000_000),
        input_tokens_per_month=Decimal(0),
        output_tokens_per_month=Decimal(0),
        lines=[],
        total=Decimal(total),
        assumptions=[],
        explanation=[f"total = {total} EUR"],
        limit=Decimal(limit) if limit is not None else None,
        within_budget=within,
    )


def model(
    name: str,
    correct: Sequence[bool] | None = None,
    *,
    ids: Sequence[str] | None = None,
    score: Sequence[float] | None = None,
    p95: float | None = 100.0,
    p95_spread: float = 0.05,
    verdict: str = "ok",
    sla_met: bool = True,
    violations: Sequence[str] = (),
    monthly: Budget | None = None,
) -> ModelResult:
    """A model with these per-item grades (ids default to q0000, q0001, ...)."""
    items = None
    quality = None
    if correct is not None:
        ids = list(ids) if ids is not None else item_ids(len(correct))
        items = ItemResults(
            ids=ids, correct=list(correct), score=list(score) if score is not None else None
        )
        accuracy = sum(correct) / len(correct)
        quality = QualityResult(
            n=len(correct),
            accuracy=accuracy,
            precision_macro=accuracy,
            recall_macro=accuracy,
            f1_macro=accuracy,
            precision_weighted=accuracy,
            recall_weighted=accuracy,
            f1_weighted=accuracy,
            intervals={
                "f1_macro": Interval(
                    low=max(0.0, accuracy - 0.05),
                    high=min(1.0, accuracy + 0.05),
                    method="bootstrap-percentile",
                )
            },
        )
    return ModelResult(
        name=name,
        target_kind="oip",
        quality=quality,
        latency_ms=latency(p95, p95_spread) if p95 is not None else None,
        throughput_rps=200.0 if p95 is not None else None,
        load=None
        if verdict == "ok"
        else LoadResult(
            mode="concurrency",
            duration_s=5.0,
            requests=1000,
            completed=1000,
            error_rate=0.0,
            verdict=verdict,  # type: ignore[arg-type]
            diagnosis=f"{verdict[0].upper()}{verdict[1:]}: figures.",
        ),
        cost=CostResult(
            currency="EUR",
            per_1000_requests=Decimal("0.0125"),
            basis="instance",
            explanation="0.09 / (200 × 3600) × 1000 × 100",
        ),
        sla=SlaCheck(met=sla_met, violations=list(violations)),
        items=items,
        budget=monthly,
    )


def report(
    run_id: str,
    models: Sequence[ModelResult],
    *,
    sla: dict[str, float] | None = None,
    name: str = "intent-router",
    spec_hash: str = "spec1",
) -> Report:
    names = [m.name for m in models]
    return Report(
        tool_version="0.0.0",
        run_id=run_id,
        name=name,
        created_at=datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
        spec_hash=spec_hash,
        seed=1,
        host=HostFacts(python="3.11", platform="linux", cpu_count=2, machine="x86_64"),
        task="classification",
        models=list(models),
        pareto=names,
        ranking=[],
        recommendation=Recommendation(
            text="the first", by_priority={"quality": names[0]}, chosen=names[0], priority="quality"
        ),
        sla=dict(sla or {}),
    )


def regression_pair() -> tuple[Report, Report]:
    """200 items: BASELINE right on 180, NEW on 160; 25 items only BASELINE got, 5 only NEW."""
    base, new = paired_grades(both=155, baseline_only=25, new_only=5, neither=15)
    return (
        report("20260105-120000-aaaaaa", [model("clf", base)]),
        report("20260106-120000-bbbbbb", [model("clf", new)]),
    )


def test_paired_grades_hold_the_asked_table() -> None:
    base, new = paired_grades(both=155, baseline_only=25, new_only=5, neither=15)
    assert len(base) == len(new) == 200
    assert sum(base) == 180 and sum(new) == 160
    assert sum(b and not n for b, n in zip(base, new, strict=True)) == 25
    assert sum(n and not b for b, n in zip(base, new, strict=True)) == 5
    # Shuffled: the discordant items are not all at the front.
    assert base[:25] != [True] * 25 or new[:25] != [False] * 25


def test_built_reports_survive_json_and_the_run_store(tmp_path: Path) -> None:
    baseline, new = regression_pair()
    baseline.models[0].budget = budget("120", "100")
    again = Report.model_validate_json(baseline.model_dump_json())
    assert again == baseline
    store = RunStore(str(tmp_path / "runs.sqlite3"))
    try:
        store.save(baseline)
        store.save(new)
        loaded = store.load_report("20260105")
    finally:
        store.close()
    assert loaded.models[0].items == baseline.models[0].items
    assert loaded.models[0].budget is not None
    assert loaded.models[0].budget.within_budget is False
