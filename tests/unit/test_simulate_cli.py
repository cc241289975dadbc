"""`modelmeter simulate` refuses bad options with a message and exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from modelmeter.cli.simulate import register


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """A root, so that the command keeps its name as on the real application."""

    register(app)
    return app


def flat(output: str) -> str:
    """The output without rich's box drawing and line wrapping."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--ttft-ms", "-1"], "--ttft-ms"),
        (["--slots", "0"], "--slots"),
        (["--error-rate", "1.5"], "--error-rate"),
        (["--port", "70000"], "--port"),
        (["--output-tokens", "0"], "output tokens must be at least 1"),
        (["--output-tokens", "9-3"], "min must not exceed max"),
        (["--output-tokens", "many"], "neither a number nor a range"),
        (["--ttft-dist", "normal"], "needs --ttft-sd-ms"),
        (["--itl-dist", "lognormal"], "needs --itl-sigma"),
        (["--itl-sd-ms", "3"], "--itl-sd-ms applies to kind 'normal' only"),
        (["--ttft-dist", "gamma"], "--ttft-dist"),
        (["--error-status", "200"], "400..599"),
        (["--timings-log", "no/such/dir/t.jsonl"], "no such directory"),
    ],
)
def test_bad_options_exit_with_2_and_say_why(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli(), ["simulate", *arguments])

    assert result.exit_code == 2, result.output
    assert message in flat(result.output)
    assert "Traceback" not in result.output


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(cli(), ["simulate", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    for option in (
        "--ttft-ms",
        "--itl-ms",
        "--output-tokens",
        "--slots",
        "--timings-log",
        "--answers",
        "--default-answer",
    ):
        assert option in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "answer book not found"),
        ('{"match": "x", "answer": "1"}\n["x"]\n', ":2: each line must be a JSON object"),
        ('{"regex": "[", "answer": "1"}\n', ":1: field"),
        ("\n", "the answer book has no rules"),
    ],
)
def test_a_bad_answer_book_exits_with_2_naming_path_and_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "book.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    result = CliRunner().invoke(cli(), ["simulate", "--answers", str(path)], env={"COLUMNS": "500"})

    assert result.exit_code == 2, result.output
    output = flat(result.output)
    assert "--answers" in output
    assert str(path) in output
    assert message in output
    assert "Traceback" not in result.output


def _options() -> dict[str, Any]:
    """The simulate command's options by their first flag (typer carries its own click)."""
    command: Any = typer.main.get_command(cli())
    simulate = command.commands["simulate"]
    return {param.opts[0]: param for param in simulate.params if param.opts[0].startswith("--")}


def _ranged(option: Any) -> bool:
    return option.min is not None or option.max is not None


def test_the_options_are_the_config_fields_declared_once() -> None:
    """Every option that sets a SimulatorConfig field takes the model's default and leaves the
    bounds to the model's validation, so the two cannot disagree."""
    from modelmeter.cli.simulate import _OPTION_OF_FIELD
    from modelmeter.simulate import SimulatorConfig

    options = _options()
    model = SimulatorConfig()
    nested = {"ttft_ms": model.ttft_ms.mean_ms, "itl_ms": model.itl_ms.mean_ms}
    for field, flags in _OPTION_OF_FIELD.items():
        if "." in field or "/" in flags:
            continue
        option = options[flags]
        assert not _ranged(option), flags
        expected = getattr(model, field)
        if field == "output_tokens":
            assert option.default == str(expected)
        elif field == "error_statuses":
            assert option.default is None and expected == (500, 429)  # None: the model's
        elif field == "bucket_ms":
            assert option.default is None and expected == ()  # None: none added
        else:
            assert option.default == expected, flags
    for field, mean in nested.items():
        option = options[f"--{field.replace('_', '-')}"]
        assert option.default == mean
        assert not _ranged(option)
    assert set(SimulatorConfig.model_fields) - {f.split(".")[0] for f in _OPTION_OF_FIELD} == {
        "timings_capacity"  # the server's own memory bound, not a command-line setting
    }
