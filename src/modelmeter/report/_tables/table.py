"""A table as plain strings, and the view of a whole report the renderers fill their pages from."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "LLM_COUNT_NOTE",
    "SUMMARY_LLM_NOTE",
    "Column",
    "ModelDetail",
    "ReportView",
    "Row",
    "Table",
]


SUMMARY_LLM_NOTE = (
    "TTFT is timed from the actual send to the first chunk with output, ITL between content "
    "chunks per token; output tok/s counts every request over the measured window."
)
LLM_COUNT_NOTE = "ITL's count is of gaps between chunks; the other counts are requests."


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    numeric: bool = False
    flag: bool = False
    """A yes/no column; HTML colours it."""
    definition: str | None = None
    """Key into ``Report.definitions`` that explains this column, when the report has one."""


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[str, ...]
    color: str | None = None
    """The model's chart colour, shown as a swatch before the first cell in HTML."""
    chosen: bool = False
    """The recommended model's row (emphasised)."""


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    key_column: int = 0
    """The column that names the row: a header cell in HTML, bold when the row is ``chosen``."""
    badge: str = ""
    """A label that HTML puts after the key cell of the ``chosen`` row."""
    diagonal: bool = False
    """A square matrix after the key column (confusion matrix): HTML emphasises its diagonal."""
    compact: bool = False
    """Many columns: HTML lets the headers wrap and tightens the cells so the table fits."""


@dataclass(frozen=True, slots=True)
class ModelDetail:
    """Everything the per-model section shows, formatted."""

    anchor: str
    name: str
    color: str
    target_kind: str
    description: str
    chosen: bool
    on_frontier: bool
    sla_met: bool
    sla_violations: tuple[str, ...]
    quality_facts: tuple[tuple[str, str], ...]
    quality: Table | None
    per_class: Table | None
    confusion: Table | None
    load_facts: tuple[tuple[str, str], ...]
    latency: Table | None
    client_bound: bool
    client_bound_reason: str
    cost_facts: tuple[tuple[str, str], ...]
    cost_explanation: str
    llm_facts: tuple[tuple[str, str], ...] = ()
    llm: Table | None = None
    """TTFT, time to first reasoning, ITL and TPOT percentiles; None for non-streaming targets."""
    token_source: str = ""
    """Where the output token counts came from, in a sentence."""
    sweep_title: str = ""
    sweep_facts: tuple[tuple[str, str], ...] = ()
    sweep: Table | None = None
    """One row per load level of the sweep or SLA search; None when the model had none."""
    sweep_chart: str = ""
    """Id of the throughput-vs-latency chart of this model, when there is one."""


@dataclass(frozen=True, slots=True)
class ReportView:
    """What the renderers draw, in reading order."""

    facts: tuple[tuple[str, str], ...]
    priorities: Table
    summary: Table
    ranking: Table
    sla: Table | None
    weights: Table | None
    slices: tuple[tuple[str, Table], ...]
    models: tuple[ModelDetail, ...]
    definitions: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    client_bound: tuple[str, ...] = field(default_factory=tuple)
    """Names of the models whose load generator could not keep up."""
    diagnoses: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """(model, diagnosis) of each load phase the target did not pace alone (verdict not ok)."""
    llm: bool = False
    """Some model streamed tokens: the summary has TTFT, ITL and output tokens/s columns."""
