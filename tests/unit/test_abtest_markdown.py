"""The Markdown summary and the JSON result: what the CLI writes with --out and --json."""

from __future__ import annotations

import json

from modelmeter.abtest import AB_SCHEMA_VERSION, ABResult, analyse, from_rows, render_markdown


def _rows(a: int, b: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [{"v": "A", "y": int(i % 10 == 0), "t": i} for i in range(a)]
    rows += [{"v": "B", "y": int(i % 5 == 0), "t": i + 0.5} for i in range(b)]
    return rows


def test_markdown_has_every_section_and_the_numbers() -> None:
    data = from_rows(_rows(1000, 1000), variant="v", metric="y", order_by="t")
    result = analyse(data, sequential=True, looks=5)
    text = render_markdown(result)
    for heading in (
        "# A/B analysis of `y`",
        "## Sample ratio",
        "## Variants",
        "## Each variant vs A",
        "## Sequential analysis (mSPRT, always valid)",
        "### B vs A",
    ):
        assert heading in text
    assert "Sample-ratio mismatch" not in text and "no mismatch" in text
    assert "| A (control) | 1,000 | 10.00% |" in text
    assert "| B | +10.00 pp |" in text  # 20% vs 10%
    assert "| treatment | diff | 95% CI, pp | lift | p | Holm p | sig. |" in text
    sequence = result.sequential[0] if result.sequential else None
    assert sequence is not None and len(sequence.looks) == 5
    assert text.count("\n| 5 | ") == 1  # the last look's row
    assert f"at look {sequence.stopped_at} of 5" in text


def test_an_srm_leads_the_markdown() -> None:
    result = analyse(from_rows(_rows(1200, 800), variant="v", metric="y"))
    text = render_markdown(result)
    banner = text.index("**Sample-ratio mismatch — do not trust these results.**")
    assert banner < text.index("## Sample ratio")
    assert "**MISMATCH**" in text


def test_json_round_trips_and_is_versioned() -> None:
    rows = [{"v": "AB"[i % 2], "y": float(i % 7), "pre": float(i % 5)} for i in range(200)]
    result = analyse(from_rows(rows, variant="v", metric="y", covariate="pre"))
    payload = json.loads(result.model_dump_json())
    assert payload["schema_version"] == AB_SCHEMA_VERSION == 1
    assert payload["metric_kind"] == "mean" and payload["cuped"]["covariate"] == "pre"
    assert ABResult.model_validate_json(result.model_dump_json()) == result
    assert "## CUPED (pre-period covariate `pre`)" in render_markdown(result)
