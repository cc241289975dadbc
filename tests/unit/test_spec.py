"""Spec and dataset errors name the file, the field path or line, and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelmeter._exceptions import DatasetError, SpecError
from modelmeter.data.loaders import load_samples
from modelmeter.economics.catalogue import open_catalogue
from modelmeter.spec import DatasetSpec, HttpTargetSpec, load_spec

GOOD = """\
name: study
dataset:
  path: data.jsonl
  slice_fields: [language]
targets:
  - name: base
    kind: oip
    url: http://127.0.0.1:8000
    model: base
    pricing: {kind: instance, price_per_hour: "0.5", currency: eur}
  - name: local
    kind: python
    model_path: model.joblib
  - name: api
    kind: http
    url: http://localhost:9000/predict
    headers: {Authorization: "Bearer ${MM_TEST_KEY}"}
    body: {text: "{{input}}"}
    response_path: result.label
load: {mode: poisson, rate_rps: 50, duration_s: 5}
objectives:
  sla: {p95_ms: 100}
  priority: cost
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_spec_resolves_paths_and_secrets(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MM_TEST_KEY", "sk-secret-123")
    spec = load_spec(_write(tmp_path, GOOD))
    assert spec.dataset.path == (tmp_path / "data.jsonl").resolve()
    assert spec.targets[1].model_path == (tmp_path / "model.joblib").resolve()  # type: ignore[union-attr]
    api = spec.targets[2]
    assert isinstance(api, HttpTargetSpec)
    assert api.headers["Authorization"].get_secret_value() == "Bearer sk-secret-123"
    # Secrets never reach a serialised spec or its fingerprint.
    assert "sk-secret-123" not in spec.model_dump_json()
    assert len(spec.fingerprint()) == 16
    assert spec.load.mode == "poisson" and spec.objectives.priority == "cost"


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("kind: oip", "kind: grpc", "targets[0]"),
        ("url: http://127.0.0.1:8000", "url: ftp://x", "targets[0].oip.url"),
        ("rate_rps: 50, ", "", "rate_rps"),
        ('price_per_hour: "0.5"', "price_per_hour: -1", "price_per_hour"),
        ("name: local", "name: base", "used twice"),
        ("    model_path: model.joblib\n", "", "exactly one of 'model_path' or 'function'"),
        ("p95_ms: 100", "p95_ms: 100, p96_ms: 1", "p96_ms"),
    ],
)
def test_bad_field_names_path_and_line(
    tmp_path: Path, monkeypatch, replace: str, by: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MM_TEST_KEY", "x")
    assert replace in GOOD
    path = _write(tmp_path, GOOD.replace(replace, by, 1))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message
    assert "line " in message


def test_remote_target_needs_allow_remote(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MM_TEST_KEY", "x")
    remote = GOOD.replace("http://127.0.0.1:8000", "http://10.1.2.3:8000")
    with pytest.raises(SpecError, match="not on loopback"):
        load_spec(_write(tmp_path, remote))
    allowed = remote.replace("duration_s: 5}", "duration_s: 5, allow_remote: true}")
    assert load_spec(_write(tmp_path, allowed)).load.allow_remote


def test_missing_env_var_is_named(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MM_TEST_KEY", raising=False)
    with pytest.raises(SpecError, match=r"targets\[2\]\.headers\.Authorization.*MM_TEST_KEY"):
        load_spec(_write(tmp_path, GOOD))


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"line 3, column 1: not valid YAML: expected .,. or .\]."):
        load_spec(_write(tmp_path, "name: x\ntargets: [a, b\n"))


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="must be a YAML mapping"):
        load_spec(_write(tmp_path, "- just\n- a list\n"))
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")


def _dataset(tmp_path: Path, name: str, text: str, **kwargs) -> DatasetSpec:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return DatasetSpec(path=path, **kwargs)


def test_jsonl_and_csv_load_the_same_samples(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "hello", "label": "greet", "language": "en"},
        {"id": "b", "text": "salut", "label": "greet", "language": "fr"},
    ]
    jsonl = _dataset(
        tmp_path,
        "d.jsonl",
        "".join(json.dumps(r) + "\n" for r in rows) + "\n",
        slice_fields=["language"],
    )
    csv = _dataset(
        tmp_path,
        "d.csv",
        "id,text,label,language\na,hello,greet,en\nb,salut,greet,fr\n",
        slice_fields=["language"],
    )
    assert load_samples(jsonl) == load_samples(csv)
    assert load_samples(jsonl)[1].slices == {"language": "fr"}


@pytest.mark.parametrize(
    ("name", "text", "kwargs", "expected"),
    [
        (
            "d.jsonl",
            '{"text": "a", "label": "x"}\n{"text": "b"\n',
            {},
            r"d\.jsonl:2: not valid JSON",
        ),
        ("d.jsonl", '{"text": "a", "label": "x"}\n[1, 2]\n', {}, r"d\.jsonl:2: each line must be"),
        ("d.jsonl", '{"text": "a"}\n', {}, r"d\.jsonl:1: missing field 'label'"),
        (
            "d.jsonl",
            '{"id": 1, "text": "a", "label": "x"}\n{"id": 1, "text": "b", "label": "y"}\n',
            {},
            r"d\.jsonl:2: id '1' already used on line 1",
        ),
        ("d.csv", "text,label\na,x\nb,y,z\n", {}, r"d\.csv:3: more values than the 2 header"),
        (
            "d.csv",
            "text,label\na,x\n",
            {"slice_fields": ["lang"]},
            r"d\.csv:2: missing field 'lang'",
        ),
        ("d.txt", "hello\n", {}, r"cannot tell the format from the extension '\.txt'"),
        ("d.jsonl", "\n\n", {}, "the dataset has no rows"),
    ],
)
def test_dataset_errors_name_file_and_line(  # type: ignore[no-untyped-def]
    tmp_path: Path, name: str, text: str, kwargs, expected: str
) -> None:
    with pytest.raises(DatasetError, match=expected):
        load_samples(_dataset(tmp_path, name, text, **kwargs))


def test_missing_model_file_is_named_before_any_request(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MM_TEST_KEY", "x")
    spec = load_spec(_write(tmp_path, GOOD))
    with pytest.raises(SpecError, match=r"targets\[1\]\.model_path: file not found"):
        spec.check_files()
    (tmp_path / "model.joblib").write_bytes(b"")
    spec.check_files()


def test_spec_wide_errors_read_cleanly(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MM_TEST_KEY", "x")
    mixed = GOOD.replace("currency: eur}", "currency: eur}\n    description: x").replace(
        "    model_path: model.joblib\n",
        "    model_path: model.joblib\n    pricing: {kind: api, currency: USD}\n",
    )
    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path, mixed))
    message = str(caught.value)
    assert "(spec): targets are priced in different currencies (base: EUR, local: USD)" in message
    assert "Value error" not in message


def test_the_openrouter_example_reads_its_key_from_the_environment_and_prices_from_the_catalogue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modelmeter.economics.pricing import resolve_target_pricing
    from modelmeter.spec import load_spec
    from modelmeter.spec.pricing import ApiPricing
    from modelmeter.study import study_samples

    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-not-a-key")
    path = Path(__file__).resolve().parents[2] / "examples" / "llm-openrouter.yaml"
    spec = load_spec(path)
    assert spec.task == "llm" and spec.objectives.quality_metric == "task_score"
    catalogue = open_catalogue(spec.economics)
    for target in spec.targets:
        assert target.api_key_env == "OPENROUTER_API_KEY"  # type: ignore[union-attr]
        assert isinstance(resolve_target_pricing(target.pricing, catalogue), ApiPricing)
    assert "sk-or-test" not in spec.model_dump_json()
    assert "sk-or-test" not in spec.fingerprint()
    prompts, tasks = study_samples(spec)
    assert {task.name for task, _ in tasks} == {"mmlu", "humaneval", "mbpp"}
    assert len(prompts) == sum(len(items) for _, items in tasks)
