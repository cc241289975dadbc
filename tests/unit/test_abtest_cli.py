"""The `ab` command group's argument handling, through typer's runner on a one-group app.

The end-to-end runs (a real subprocess) are in tests/e2e/test_cli_ab.py; these cover the
argument checks that need no data and run in-process to stay fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from modelmeter.cli.ab import parse_split, register


def _invoke(*args: str) -> tuple[int, str, str]:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Only the ab command group."""

    register(app)
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def test_parse_split() -> None:
    assert parse_split(None) is None
    assert parse_split("50,50") == [50.0, 50.0]
    assert parse_split(" A=90, B=10 ") == {"A": 90.0, "B": 10.0}
    for bad, message in (
        ("50,x", "weights must be numbers"),
        ("A=50,50", "mix of named and plain weights"),
        ("A=1,A=2", "named twice"),
        (",", "give weights like 50,50"),
    ):
        with pytest.raises(typer.BadParameter, match=message):
            parse_split(bad)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("ab", "--metric", "y"), "give either DATA.csv or --run RUN_ID"),
        (("ab", "x.csv", "--run", "r1"), "give either DATA.csv or --run RUN_ID"),
        (("ab", "x.csv"), "name the metric column of DATA.csv"),
        (("ab", "x.csv", "--metric", "y", "--looks", "0"), "must be at least 1"),
        (("ab", "x.csv", "--metric", "y", "--alpha", "2"), "must be between 0 and 1"),
        (("ab", "--run", "r1", "--metric", "revenue"), "not 'revenue'"),
        (("ab", "--run", "r1", "--covariate", "pre"), "drop --covariate/--order-by"),
        (("ab", "power", "--mde", "0.01"), "give --baseline RATE"),
        (("ab", "power", "--baseline", "1.5", "--mde", "0.01"), "baseline: must be a rate"),
        (("ab", "power", "--sd", "3", "--mde", "1", "--ratio", "-1"), "ratio: must be a positive"),
    ],
)
def test_bad_arguments_exit_2(args: tuple[str, ...], expected: str) -> None:
    code, _, stderr = _invoke(*args)
    assert code == 2, stderr
    assert expected in stderr.replace("│", "").replace("  ", " ")
    assert "Traceback" not in stderr


def test_power_for_means_and_json(tmp_path: Path) -> None:
    out = tmp_path / "n.json"
    code, stdout, stderr = _invoke("ab", "power", "--sd", "10", "--mde", "5", "--json", str(out))
    assert code == 0, stderr
    assert "Cohen's d" in stdout and "0.5000" in stdout
    assert '"n_control": 64' in out.read_text("utf-8")


def test_help_lists_both_commands() -> None:
    code, stdout, _ = _invoke("ab", "--help")
    assert code == 0 and "analyse" in stdout and "power" in stdout
