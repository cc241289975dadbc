"""`modelmeter ab` as a user runs it: the shipped sample, an SRM, a stored run, power, bad input.

Once `ab` is wired into the main app the tests run ``python -m modelmeter ab ...`` in a real
subprocess; until then they drive a small Typer app holding only `ab` (through ``register``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import typer
from typer.testing import CliRunner

from modelmeter.abtest import ABResult
from modelmeter.cli import ab as ab_cli
from tests.unit.test_abtest_data import stored_run

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "ab-sample.csv"


def _wired() -> bool:
    from modelmeter.cli.app import app

    command = typer.main.get_command(app)
    return "ab" in getattr(command, "commands", {})


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def modelmeter(*args: str, cwd: Path) -> Ran:
    if _wired():
        done = subprocess.run(
            [sys.executable, "-m", "modelmeter", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        return Ran(done.returncode, done.stdout, done.stderr)
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Only the ab command group."""

    ab_cli.register(app)
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_the_shipped_sample_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = modelmeter(
        "ab",
        str(SAMPLE),
        "--metric",
        "spend",
        "--covariate",
        "pre_spend",
        "--sequential",
        "--order-by",
        "ts",
        "--looks",
        "10",
        "--out",
        str(out / "ab.md"),
        "--json",
        str(out / "ab.json"),
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    for shown in ("A (control)", "welch-t", "CUPED on pre_spend", "mSPRT B vs A"):
        assert shown in ran.stdout
    result = ABResult.model_validate_json((out / "ab.json").read_text("utf-8"))
    assert result.metric_kind == "mean" and not result.srm.mismatch
    assert all(c.p_holm is not None for c in result.comparisons)
    assert result.cuped is not None
    verdicts = {c.treatment: c.significant for c in result.cuped.comparisons}
    assert verdicts == {"B": True, "C": False}  # B spends 1.0 more, C is a placebo
    assert result.cuped.variance_reduction > 0.5  # the sample has ρ ≈ 0.8
    raw_b, cuped_b = result.comparisons[0], result.cuped.comparisons[0]
    assert cuped_b.standard_error < raw_b.standard_error
    assert result.sequential is not None and result.sequential[0].treatment == "B"
    markdown = (out / "ab.md").read_text("utf-8")
    assert markdown.startswith("# A/B analysis of `spend`")
    assert "## CUPED" in markdown and "## Sequential analysis" in markdown


def test_srm_is_printed_prominently(tmp_path: Path) -> None:
    rows = ["variant,converted"] + [f"A,{i % 9 == 0:d}" for i in range(600)]
    rows += [f"B,{i % 8 == 0:d}" for i in range(450)]
    (tmp_path / "exp.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ran = modelmeter("ab", "exp.csv", "--metric", "converted", "--out", "r.md", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    head = ran.stdout[: ran.stdout.index("sample ratio")]
    assert "SAMPLE-RATIO MISMATCH" in head and "do not trust these results" in head
    assert "do not trust these results" in (tmp_path / "r.md").read_text("utf-8")


def test_a_stored_run_as_an_experiment(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    run_id = stored_run(db)
    ran = modelmeter(
        "ab", "--run", run_id[:10], "--db", str(db), "--metric", "latency_ms", cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stderr
    assert "fast (control)" in ran.stdout and "welch-t" in ran.stdout
    assert "10 failed requests have no latency" in ran.stdout


def test_power(tmp_path: Path) -> None:
    ran = modelmeter("ab", "power", "--baseline", "0.10", "--mde", "0.01", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "14,745" in ran.stdout and "29,490" in ran.stdout


def test_bad_input_exit_2_and_one_clear_message(tmp_path: Path) -> None:
    (tmp_path / "exp.csv").write_text("variant,y\nA,1\nB,lots\n", encoding="utf-8")
    ran = modelmeter("ab", "exp.csv", "--metric", "conv", cwd=tmp_path)
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr
    assert "exp.csv:1: no column 'conv' in the header (columns: variant, y)" in ran.stderr
