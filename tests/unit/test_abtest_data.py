"""Experiment logs from real CSV files, rows in memory and a real SQLite run store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from modelmeter._exceptions import DatasetError, ErrorKind, SpecError, StoreError
from modelmeter.abtest import analyse, from_rows, from_store, load_csv
from modelmeter.load.outcome import Outcome
from modelmeter.results import (
    CostResult,
    HostFacts,
    ModelResult,
    Recommendation,
    Report,
    SlaCheck,
)
from modelmeter.store import RunStore


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_columns_and_sorts_variants(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "user,arm,converted,pre,ts\n"
        "1,B,1,3.5,2026-03-01T10:00:02Z\n"
        "2,A,0,1.0,2026-03-01T10:00:01Z\n"
        "3,B,0,2.0,2026-03-01T10:00:03+00:00\n",
    )
    data = load_csv(path, variant="arm", metric="converted", covariate="pre", order_by="ts")
    assert data.variants == ("A", "B") and data.counts == (1, 2)
    assert list(data.groups) == [1, 0, 1]
    assert list(data.metric) == [1.0, 0.0, 0.0]
    assert data.covariate is not None and list(data.covariate) == [3.5, 1.0, 2.0]
    assert data.order is not None and list(np.argsort(data.order)) == [1, 0, 2]
    assert list(data.values("B")) == [1.0, 0.0]
    assert data.source == str(path)


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (
            "arm,y\nA,1\n",
            {"metric": "converted"},
            r"exp.csv:1: no column 'converted' in the "
            r"header \(columns: arm, y\)",
        ),
        (
            "arm,y\nA,1\nB,yes\n",
            {},
            r"exp.csv:3: column 'y' must be a number \(0/1 for a "
            r"conversion\), got 'yes'",
        ),
        ("arm,y\nA,1\nB,\n", {}, r"exp.csv:3: column 'y' is empty"),
        ("arm,y\nA,1\n,0\n", {}, r"exp.csv:3: column 'arm' is empty; every row needs its variant"),
        ("arm,y\nA,nan\n", {}, r"exp.csv:2: column 'y' must be a finite number"),
        ("arm,y\nA,1,7\n", {}, r"exp.csv:2: more values than the 2 header columns"),
        ("arm,y\n", {}, r"exp.csv: no data rows after the header$"),
        ("", {}, r"exp.csv:1: the CSV file has no header row"),
        (
            "arm,y,pre\nA,1,x\n",
            {"covariate": "pre"},
            r"exp.csv:2: column 'pre' must be a "
            r"number \(the pre-period value\), got 'x'",
        ),
        (
            "arm,y,t\nA,1,2026-03-01T00:00:00\nB,1,yesterday\n",
            {"order_by": "t"},
            r"exp.csv:3: column 't' must be an ISO 8601 timestamp",
        ),
        (
            "arm,y,t\nA,1,5\nB,1,2026-03-01\n",
            {"order_by": "t"},
            r"exp.csv:3: column 't' must be a number \(or every row an ISO 8601 timestamp\)",
        ),
    ],
)
def test_bad_files_name_the_line_and_column(
    tmp_path: Path, text: str, kwargs: dict[str, str], message: str
) -> None:
    path = _csv(tmp_path, text)
    arguments = {"variant": "arm", "metric": "y", **kwargs}
    with pytest.raises(DatasetError, match=message):
        load_csv(path, **arguments)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="experiment file not found"):
        load_csv(tmp_path / "nope.csv", variant="v", metric="y")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"v,y\n\xff\xfe,1\n")
    with pytest.raises(DatasetError, match="not UTF-8 text"):
        load_csv(binary, variant="v", metric="y")


def test_from_rows_names_the_row() -> None:
    rows: list[dict[str, object]] = [{"v": "A", "y": 1}, {"v": "B", "y": True}, {"v": "B"}]
    with pytest.raises(DatasetError, match=r"row 3: no column 'y' \(columns: v\)"):
        from_rows(rows, variant="v", metric="y")
    data = from_rows(rows[:2], variant="v", metric="y")
    assert list(data.metric) == [1.0, 1.0] and data.path is None


def test_too_few_units_in_a_variant_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, "arm,y\nA,1\nA,0\nB,1\n")
    with pytest.raises(DatasetError, match="variant 'B' has 1 units with a 'y' value"):
        analyse(load_csv(path, variant="arm", metric="y"))
    single = _csv(tmp_path, "arm,y\nA,1\nA,0\n")
    with pytest.raises(SpecError, match=r"at least 2 variants; the data has 1 \(A\)"):
        analyse(load_csv(single, variant="arm", metric="y"))


def _report(run_id: str) -> Report:
    model = ModelResult(
        name="fast",
        target_kind="oip",
        quality=None,
        latency_ms=None,
        throughput_rps=None,
        load=None,
        cost=CostResult(
            currency="EUR", per_1000_requests=Decimal("0.01"), basis="instance", explanation="x"
        ),
        sla=SlaCheck(met=True),
    )
    return Report(
        tool_version="0",
        run_id=run_id,
        name="ab",
        created_at=datetime.now(UTC),
        spec_hash="abc",
        seed=1,
        host=HostFacts(python="3.11", platform="linux", cpu_count=2, machine="x86_64"),
        task="classification",
        models=[model],
        pareto=["fast"],
        ranking=[],
        recommendation=Recommendation(
            text="fast", by_priority={"cost": "fast"}, chosen="fast", priority="cost"
        ),
    )


def stored_run(db: Path, run_id: str = "20260301-000000-abcdef") -> str:
    """A run whose load phase sent 40 requests to 'fast' and 'slow' (interleaved), 10 failing.

    'fast' answers in 10–14 ms, 'slow' in 20–24 ms; 'slow' fails every 4th request. A warm-up
    request and a quality-phase request are stored too and must be left out.
    """
    load: dict[str, list[Outcome]] = {"fast": [], "slow": []}
    for i in range(80):
        target = "slow" if i % 2 else "fast"
        sent = 1_000_000_000 + i * 5_000_000
        base = 20 if target == "slow" else 10
        service_ms = base + (i // 2) % 5
        failed = target == "slow" and (i // 2) % 4 == 0
        load[target].append(
            Outcome(
                f"s{i}",
                target,
                sent,
                sent,
                sent + service_ms * 1_000_000,
                error=ErrorKind.TIMEOUT if failed else None,
            )
        )
    load["fast"].append(Outcome("warm", "fast", 0, 0, 999_000_000_000, warmup=True))
    quality = [Outcome("q", "fast", 0, 0, 5_000_000)]
    store = RunStore(str(db))
    store.save(
        _report(run_id),
        {
            ("fast", "load"): load["fast"],
            ("slow", "load"): load["slow"],
            ("fast", "quality"): quality,
        },
    )
    store.close()
    return run_id


def test_from_store_success_and_latency(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    run_id = stored_run(db)
    success = from_store(str(db), run_id[:12], metric="success")
    assert success.variants == ("fast", "slow") and success.counts == (40, 40)
    assert list(success.values("slow")).count(0.0) == 10
    assert list(success.values("fast")).count(0.0) == 0
    assert success.source == f"run {run_id}, phase load"

    latency = from_store(str(db), run_id, metric="latency_ms")
    assert latency.counts == (40, 30) and latency.assigned == (40, 40)
    assert set(latency.values("fast")) == {10.0, 11.0, 12.0, 13.0, 14.0}
    assert latency.notes == ("10 failed requests have no latency and are left out of the metric",)
    result = analyse(latency, sequential=True, looks=4)
    assert not result.srm.mismatch  # judged on the 40/40 assigned, not the 40/30 analysed
    assert result.comparisons[0].diff == pytest.approx(
        float(latency.values("slow").mean() - latency.values("fast").mean())
    )
    quality = from_store(str(db), run_id, phase="quality")
    assert quality.counts == (1,)


def test_from_store_errors(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    run_id = stored_run(db)
    stored_run(db, "20260301-000000-abcxyz")
    with pytest.raises(StoreError, match="no run 'nope'"):
        from_store(str(db), "nope")
    with pytest.raises(StoreError, match="matches several runs"):
        from_store(str(db), "20260301-000000-abc")
    with pytest.raises(
        SpecError,
        match=r"no measured outcomes in phase 'ramp' \(phases with "
        r"outcomes: load, quality\)",
    ):
        from_store(str(db), run_id, phase="ramp")
    with pytest.raises(StoreError, match="no run store at"):
        from_store(str(tmp_path / "missing.sqlite3"), run_id)
