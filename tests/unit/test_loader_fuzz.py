"""Fuzz every loader of a user's file: whatever the bytes, the answer is the data or one
`ModelmeterError` naming the place (the CLI prints it as one line and exits 2), never another
exception (a traceback).

Each loader is fed a valid file of its format with bytes flipped, dropped or inserted, with
hostile pieces spliced in (an integer of 5,000 digits, JSON or YAML nested thousands deep, bytes
that are not UTF-8, NUL, an unclosed quote, a YAML alias), and arbitrary bytes.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmeter._exceptions import ModelmeterError
from modelmeter.abtest.data import load_csv
from modelmeter.data.loaders import load_samples
from modelmeter.economics.catalogue import load_catalogue
from modelmeter.load.trace import TraceSource, read_timestamps_ns
from modelmeter.simulate.answers import load_answer_book
from modelmeter.spec import DatasetSpec
from modelmeter.spec.parse import load_spec
from modelmeter.tasks.code import load_humaneval, load_mbpp
from modelmeter.tasks.evaluate import _code_layout
from modelmeter.tasks.multiple_choice import load_mmlu
from tests._fuzz import mutated

# CI runs a bounded number of examples; MODELMETER_FUZZ_EXAMPLES=5000 runs a deeper search.
FUZZ = settings(
    max_examples=int(os.environ.get("MODELMETER_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

HOSTILE = [
    b"1" * 5000,
    b"[" * 3000,
    b"{" * 3000,
    b"- " * 3000,
    b"\xff\xfe",
    b"\xe9",
    b"\x00",
    b'"',
    b"\r",
    b"\n",
    b",,,,",
    b"&a [*a, *a]",
    b"*b",
    b"!!python/object:os.system",
    b"x" * 140_000,  # one cell longer than the csv module's default limit
    b"NaN",
    b"-1e999",
    b"\xef\xbb\xbf",
]


def contents(seed: bytes) -> st.SearchStrategy[bytes]:
    return mutated(st.just(seed), hostile=HOSTILE, min_edits=1) | st.binary(max_size=200)


@pytest.fixture(autouse=True)
def default_csv_cell_limit() -> Iterator[None]:
    """The csv module's cell limit is the process's: each loader must raise it itself, not
    count on another loader (or test) having done so."""
    before = csv.field_size_limit(131_072)
    yield
    csv.field_size_limit(before)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _only_modelmeter_errors(load: Callable[[Path], Any], path: Path, raw: bytes) -> None:
    path.write_bytes(raw)
    try:
        load(path)
    except ModelmeterError as exc:
        assert str(exc)  # a message a user can read


def _jsonl(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


DATASET_JSONL = _jsonl(
    {"id": "a", "text": "hello there", "label": "greet", "language": "en"},
    {"id": "b", "text": "où est ma facture", "label": "billing", "language": "fr"},
)
DATASET_CSV = b'id,text,label,language\na,hello there,greet,en\nb,"a, quoted",billing,fr\n'


@FUZZ
@given(raw=contents(DATASET_JSONL), as_csv=st.booleans())
def test_datasets(folder: Path, raw: bytes, as_csv: bool) -> None:
    if as_csv:
        raw = raw.replace(DATASET_JSONL, DATASET_CSV)
    path = folder / ("data.csv" if as_csv else "data.jsonl")

    def load(file: Path) -> Any:
        return load_samples(
            DatasetSpec(path=file, id_field="id", slice_fields=["language"], label_field="label")
        )

    _only_modelmeter_errors(load, path, raw)


@FUZZ
@given(raw=contents(DATASET_CSV))
def test_csv_datasets(folder: Path, raw: bytes) -> None:
    _only_modelmeter_errors(
        lambda file: load_samples(DatasetSpec(path=file, id_field="id")), folder / "d.csv", raw
    )


HUMANEVAL = _jsonl(
    {
        "task_id": "S/0",
        "prompt": "def f(x):\n",
        "canonical_solution": "    return x\n",
        "test": "def check(candidate):\n    assert candidate(1) == 1\n",
        "entry_point": "f",
    }
)
MBPP = _jsonl(
    {
        "task_id": 1,
        "text": "Return x.",
        "code": "def f(x):\n  return x",
        "test_list": ["assert f(1) == 1"],
        "test_setup_code": "",
        "challenge_test_list": [],
    }
)


@FUZZ
@given(raw=contents(HUMANEVAL))
def test_humaneval(folder: Path, raw: bytes) -> None:
    _only_modelmeter_errors(load_humaneval, folder / "he.jsonl", raw)
    _only_modelmeter_errors(_code_layout, folder / "he.jsonl", raw)


@FUZZ
@given(raw=contents(MBPP))
def test_mbpp(folder: Path, raw: bytes) -> None:
    _only_modelmeter_errors(load_mbpp, folder / "mbpp.jsonl", raw)


MMLU_CSV = b'"What is 2+2?",3,4,5,6,B\n"Pick, one",a,b,c,d,A\n'
MMLU_JSONL = _jsonl({"question": "2+2?", "choices": ["3", "4"], "answer": 1, "subject": "math"})


@FUZZ
@given(raw=contents(MMLU_CSV), jsonl=st.booleans())
def test_mmlu(folder: Path, raw: bytes, jsonl: bool) -> None:
    if jsonl:
        raw = raw.replace(MMLU_CSV, MMLU_JSONL)
    _only_modelmeter_errors(
        load_mmlu, folder / ("maths_test.jsonl" if jsonl else "maths_test.csv"), raw
    )


TRACE_JSONL = _jsonl({"timestamp": 1700000000.25}, {"timestamp": "2026-01-01T00:00:01.5Z"})
TRACE_CSV = b"timestamp,other\n1700000000.25,x\n1700000001,y\n"


@FUZZ
@given(raw=contents(TRACE_JSONL), as_csv=st.booleans())
def test_traces(folder: Path, raw: bytes, as_csv: bool) -> None:
    if as_csv:
        raw = raw.replace(TRACE_JSONL, TRACE_CSV)
    path = folder / ("trace.csv" if as_csv else "trace.jsonl")
    _only_modelmeter_errors(lambda file: read_timestamps_ns(TraceSource(file)), path, raw)


AB_CSV = b"variant,ts,pre,spend\nA,2026-03-01T00:00:01Z,1.5,2\nB,2026-03-01T00:00:02Z,2,3.25\n"


@FUZZ
@given(raw=contents(AB_CSV))
def test_ab_logs(folder: Path, raw: bytes) -> None:
    def load(file: Path) -> Any:
        return load_csv(file, variant="variant", metric="spend", covariate="pre", order_by="ts")

    _only_modelmeter_errors(load, folder / "ab.csv", raw)


ANSWER_BOOK = _jsonl(
    {"match": "Which", "answer": "The answer is B."}, {"match": "x", "answer": "y"}
)


@FUZZ
@given(raw=contents(ANSWER_BOOK))
def test_answer_books(folder: Path, raw: bytes) -> None:
    _only_modelmeter_errors(load_answer_book, folder / "book.jsonl", raw)


CATALOGUE = json.dumps(
    {
        "gpt-x": {
            "input_cost_per_token": 1.5e-7,
            "output_cost_per_token": 6e-7,
            "litellm_provider": "openai",
            "mode": "chat",
        }
    }
).encode()


@FUZZ
@given(raw=contents(CATALOGUE))
def test_price_catalogues(folder: Path, raw: bytes) -> None:
    _only_modelmeter_errors(load_catalogue, folder / "prices.json", raw)


SPEC = b"""name: fuzz
seed: 7
dataset: {path: data.jsonl, input_field: text, label_field: label, slice_fields: [language]}
targets:
  - name: a
    kind: http
    url: http://127.0.0.1:8101/v1/classify
    headers: {X-Team: ml}
    body: {input: "{{input}}", options: [1, 2]}
    response_path: result.label
    timeout_s: 5
    pricing: {kind: instance, price_per_hour: "0.09", currency: EUR}
  - {name: b, kind: oip, url: "http://[::1]:8102", model: m}
load: {mode: poisson, rate_rps: 50, duration_s: 2, warmup_s: 0.5}
objectives:
  sla: {p95_ms: 50, max_error_rate: 0.01}
  priority: balanced
"""


@FUZZ
@given(raw=contents(SPEC))
def test_specs(folder: Path, raw: bytes) -> None:
    (folder / "data.jsonl").write_bytes(DATASET_JSONL)
    _only_modelmeter_errors(load_spec, folder / "spec.yaml", raw)


LONG = "x" * 200_000  # a cell longer than the csv module's default limit (128 KiB)


@pytest.mark.parametrize(
    ("name", "text", "load"),
    [
        (
            "d.csv",
            f"text,label\n{LONG},a\nshort,b\n",
            lambda file: load_samples(DatasetSpec(path=file)),
        ),
        (
            "trace.csv",
            f"timestamp,note\n1700000000,{LONG}\n1700000001,b\n",
            lambda file: read_timestamps_ns(TraceSource(file)),
        ),
        (
            "ab.csv",
            f"variant,spend,note\nA,1,{LONG}\nB,2,b\n",
            lambda file: load_csv(file, variant="variant", metric="spend"),
        ),
        ("maths_test.csv", f"{LONG},a,b,c,d,A\nq,a,b,c,d,B\n", load_mmlu),
    ],
    ids=["dataset", "trace", "ab-log", "mmlu"],
)
def test_every_csv_loader_reads_a_cell_longer_than_128_kib(
    folder: Path, name: str, text: str, load: Callable[[Path], Any]
) -> None:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    load(path)  # a long document in one cell is data, not an error
