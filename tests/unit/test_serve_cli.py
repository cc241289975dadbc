"""`modelmeter serve` refuses bad arguments with a message and exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelmeter.cli import app


def flat(output: str) -> str:
    """The output without rich's box drawing and line wrapping."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["model.joblib"], "is not NAME=PATH"),
        (["bad name=x.joblib"], "may hold only letters, digits"),
        (["clf=does-not-exist.joblib"], "no such file or folder: does-not-exist.joblib"),
        (["clf=x.joblib", "--workers", "0"], "--workers"),
        (["clf=x.joblib", "--max-batch-size", "0"], "--max-batch-size"),
    ],
)
def test_bad_arguments_exit_with_2_and_say_why(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["serve", *arguments])

    assert result.exit_code == 2, result.output
    assert message in flat(result.output)
    assert "Traceback" not in result.output


def test_a_file_that_is_no_model_exits_with_2(tmp_path: Path) -> None:
    path = tmp_path / "notes.joblib"
    path.write_bytes(b"not a pickle")

    result = CliRunner().invoke(app, ["serve", f"clf={path}", "--port", "0"])

    assert result.exit_code == 2, result.output
    assert "cannot load as a scikit-learn artefact" in flat(result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_folder_that_is_no_encoder_exits_with_2(tmp_path: Path) -> None:
    """A folder is taken as a sentence-transformers encoder; an empty one says what it lacks."""
    result = CliRunner().invoke(app, ["serve", f"emb={tmp_path}", "--port", "0"])

    assert result.exit_code == 2, result.output
    assert "a folder, but not a model one" in flat(result.output)
