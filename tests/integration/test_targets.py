"""Each target kind against something real: a `modelmeter serve` process, files, functions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import joblib
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from modelmeter._exceptions import ErrorKind, HTTPStatusFailure
from modelmeter.data.sample import Sample
from modelmeter.load.engine import run_closed_loop
from modelmeter.serve import ServerProcess, start_server_process
from modelmeter.targets import Target
from modelmeter.targets.oip import OipTarget
from modelmeter.targets.python_local import PythonTarget

TEXTS = ["good movie", "great film", "bad movie", "terrible film", "awful plot", "lovely acting"]
LABELS = ["pos", "pos", "neg", "neg", "neg", "pos"]
SAMPLES = [
    Sample(id=f"q{i}", input=t, label=label)
    for i, (t, label) in enumerate(zip(TEXTS, LABELS, strict=True))
]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pipeline, Path]:
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS * 3, LABELS * 3)
    path = tmp_path_factory.mktemp("m") / "sentiment.joblib"
    joblib.dump(pipeline, path)
    return pipeline, path


@pytest.fixture(scope="module")
def server(model: tuple[Pipeline, Path]) -> Iterator[ServerProcess]:
    with start_server_process({"sentiment": model[1]}, max_batch_size=4) as running:
        yield running


def _answers(target: Target) -> dict[str, object]:
    async def go():  # type: ignore[no-untyped-def]
        await target.start()
        try:
            return await run_closed_loop(target, SAMPLES, concurrency=3, duration_s=None)
        finally:
            await target.close()

    return {o.sample_id: (o.prediction if o.ok else o.error) for o in asyncio.run(go())}


def test_oip_target_matches_the_model(server: ServerProcess, model) -> None:  # type: ignore[no-untyped-def]
    expected = dict(zip([s.id for s in SAMPLES], model[0].predict(TEXTS), strict=True))
    assert _answers(OipTarget("oip", server.url, "sentiment")) == expected


def test_oip_target_errors_are_typed(server: ServerProcess) -> None:
    unknown = OipTarget("oip", server.url, "nope")

    async def start_then_close() -> None:
        try:
            await unknown.start()
        finally:
            await unknown.close()

    with pytest.raises(HTTPStatusFailure, match=r"404.*this server serves: sentiment"):
        asyncio.run(start_then_close())
    missing_output = _answers(OipTarget("oip", server.url, "sentiment", output_name="score"))
    assert set(missing_output.values()) == {ErrorKind.PROTOCOL}


def test_python_target_file_and_function(model) -> None:  # type: ignore[no-untyped-def]
    expected = dict(zip([s.id for s in SAMPLES], model[0].predict(TEXTS), strict=True))
    assert _answers(PythonTarget("file", model_path=model[1])) == expected
    assert _answers(PythonTarget("fn", function=str.upper)) == {
        s.id: s.input.upper() for s in SAMPLES
    }

    def broken(text: str) -> str:
        raise RuntimeError("boom")

    assert set(_answers(PythonTarget("bad", function=broken)).values()) == {ErrorKind.MODEL}


def test_async_function_target() -> None:
    async def shout(text: str) -> str:
        await asyncio.sleep(0)
        return text + "!"

    assert _answers(PythonTarget("async", function=shout))["q0"] == "good movie!"
