"""docs/spec.md stays in sync with the spec models.

Every field of every model a spec can contain must have a row in one of the doc's tables, with
the right default; the doc's annotated example must be a valid spec; the priority presets table
must word each rule as the decision does. Adding a field without documenting it fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from modelmeter.decide import RULES
from modelmeter.spec import (
    DatasetSpec,
    EvaluationSpec,
    HttpTargetSpec,
    LoadSpec,
    OipTargetSpec,
    OpenAITargetSpec,
    PythonTargetSpec,
    SearchSpec,
    Spec,
    StageSpec,
    SweepSpec,
    TraceSpec,
    parse_spec,
)
from modelmeter.spec.objectives import Objectives, Sla
from modelmeter.spec.pricing import ApiPricing, InstancePricing

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "spec.md"
DOC = DOC_PATH.read_text(encoding="utf-8")

# A table row whose first cell is a field name, with or without backticks: "| `name` | ...".
_ROW = re.compile(r"^\|\s*(`?)([A-Za-z_][A-Za-z0-9_]*)\1\s*\|")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _table_rows(text: str) -> dict[str, list[list[str]]]:
    """Table rows keyed by their first cell (backticks removed); cells stripped."""
    rows: dict[str, list[list[str]]] = {}
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if match:
            cells = [cell.strip() for cell in _CELL_SPLIT.split(line.strip())[1:-1]]
            rows.setdefault(match.group(2), []).append(cells)
    return rows


ROWS = _table_rows(DOC)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """Pydantic models in an annotation: itself, union members, list items, Annotated[...]."""
    if (
        isinstance(annotation, type)
        and get_origin(annotation) is None
        and issubclass(annotation, BaseModel)
    ):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def reachable_models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    stack = [root]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            stack.extend(_models_in(info.annotation))
    return seen


MODELS = reachable_models(Spec)
FIELDS: list[tuple[type[BaseModel], str, FieldInfo]] = [
    (model, name, info) for model in MODELS for name, info in model.model_fields.items()
]
FIELD_IDS = [f"{model.__name__}.{name}" for model, name, _ in FIELDS]


def test_the_walk_reaches_every_spec_model() -> None:
    """Guards the walk itself: were it to find nothing, the field checks would pass vacuously."""
    expected = {
        Spec,
        DatasetSpec,
        OipTargetSpec,
        HttpTargetSpec,
        PythonTargetSpec,
        OpenAITargetSpec,
        InstancePricing,
        ApiPricing,
        LoadSpec,
        StageSpec,
        TraceSpec,
        SweepSpec,
        SearchSpec,
        EvaluationSpec,
        Objectives,
        Sla,
    }
    assert expected <= set(MODELS)


@pytest.mark.parametrize(("model", "name", "info"), FIELDS, ids=FIELD_IDS)
def test_every_field_has_a_row_in_the_doc(
    model: type[BaseModel], name: str, info: FieldInfo
) -> None:
    assert name in ROWS, (
        f"{model.__name__}.{name} is not documented: add a row '| `{name}` | type | default | "
        f"meaning |' to the table of its block in docs/spec.md"
    )
    assert f"`{name}`" in DOC


def _documented_default(cell: str) -> Any:
    text = cell.strip()
    if text.startswith("`") and text.endswith("`"):
        text = text[1:-1]
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


# A pricing `kind` has a default in the model, but the discriminated union needs it in the YAML.
_DEFAULT_NOT_CHECKED = {"kind"}


@pytest.mark.parametrize(("model", "name", "info"), FIELDS, ids=FIELD_IDS)
def test_every_documented_default_matches_the_model(
    model: type[BaseModel], name: str, info: FieldInfo
) -> None:
    if name in _DEFAULT_NOT_CHECKED or name not in ROWS:
        return  # a missing row fails test_every_field_has_a_row_in_the_doc
    cells = [row[2] for row in ROWS[name] if len(row) == 4]
    if info.is_required():
        assert "required" in cells, f"{model.__name__}.{name} is required; its row should say so"
        return
    default = info.get_default(call_default_factory=True)
    if isinstance(default, BaseModel):
        return  # a nested block: documented as "all defaults" and by its own table
    documented = [_documented_default(cell) for cell in cells]
    assert default in documented, (
        f"{model.__name__}.{name} defaults to {default!r}; docs/spec.md says {cells}"
    )


def test_the_annotated_example_is_a_valid_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    match = re.search(r"^```yaml\n(.*?)^```", DOC, re.DOTALL | re.MULTILINE)
    assert match, "docs/spec.md has no ```yaml block"
    block = match.group(1)
    for variable in set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", block)):
        monkeypatch.setenv(variable, "doc-example-value")

    spec = parse_spec(yaml.safe_load(block), path=Path("docs/spec.md"))

    assert {target.kind for target in spec.targets} == {"oip", "http", "python", "openai"}
    priced = {t.pricing.kind for t in spec.targets if t.pricing is not None}
    assert priced == {"instance", "api"}


def test_the_priority_table_gives_each_rule_as_the_decision_words_it() -> None:
    for priority in ("quality", "latency", "cost", "balanced"):
        rows = [row for row in ROWS.get(priority, []) if len(row) == 2]
        assert rows, f"no row for priority '{priority}' in the priorities table"
        assert rows[0][1] == RULES[priority], priority
