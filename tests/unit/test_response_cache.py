"""The response cache in a real SQLite store: keys, reuse across runs, resume from one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelmeter._exceptions import DatasetError
from modelmeter.spec import LlmTaskSpec, OpenAITargetSpec
from modelmeter.store import RunStore
from modelmeter.store.cache import request_key, target_identity
from modelmeter.tasks.evaluate import load_task_samples


def _target(**extra: object) -> OpenAITargetSpec:
    return OpenAITargetSpec.model_validate(
        {"name": "m", "kind": "openai", "url": "http://127.0.0.1:1/v1", "model": "x", **extra}
    )


def test_the_key_follows_what_decides_the_answer_never_names_or_keys() -> None:
    plain = target_identity(_target())
    assert target_identity(_target(name="other", api_key="sk-secret")) == plain
    assert "sk-secret" not in target_identity(_target(api_key="sk-secret"))
    assert target_identity(_target(temperature=0.7)) != plain
    assert request_key(plain, "hi", 0) != request_key(plain, "hi", 1)
    assert request_key(plain, "hi") == request_key(plain, "hi", 0)


def test_answers_are_found_from_any_run_or_from_one_run(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path / "runs.db"))
    first, second = store.response_cache("run-1"), store.response_cache("run-2")
    first.put("k1", target="m", sample_id="a#0", answer="one", input_tokens=3, output_tokens=1)
    first.flush()
    second.put("k2", target="m", sample_id="b#0", answer="two", reasoning_tokens=5)
    second.flush()
    assert set(first.lookup(["k1", "k2", "k3"])) == {"k1", "k2"}
    only_first = first.lookup(["k1", "k2"], from_run="run-1")
    assert set(only_first) == {"k1"}
    assert only_first["k1"].answer == "one" and only_first["k1"].input_tokens == 3
    assert second.lookup(["k2"])["k2"].reasoning_tokens == 5
    store.close()


def test_a_code_task_pointed_at_a_folder_is_a_dataset_error(tmp_path: Path) -> None:
    task = LlmTaskSpec.model_validate(
        {"name": "code", "kind": "code", "dataset": {"path": str(tmp_path)}}
    )
    with pytest.raises(DatasetError, match="dataset file not found"):
        load_task_samples(task)
