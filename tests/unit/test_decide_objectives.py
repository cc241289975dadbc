"""Objectives and SLA as they appear in a YAML spec."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import modelmeter.decide as decide
from modelmeter.spec.objectives import PRIORITIES, Objectives, Sla


def test_the_priority_and_its_knobs_have_documented_defaults() -> None:
    objectives = Objectives(priority="cost")
    assert objectives.label == "cost"
    assert objectives.quality_tolerance == 0.02
    assert objectives.value_per_correct is None
    with pytest.raises(ValidationError, match="quality_tolerance"):
        Objectives(quality_tolerance=1.5)
    with pytest.raises(ValidationError, match="value_per_correct"):
        Objectives(value_per_correct=0)
    assert set(PRIORITIES) == {"quality", "latency", "cost", "balanced"}


def test_custom_weights_are_normalised_and_override_the_priority() -> None:
    objectives = Objectives(priority="latency", weights={"quality": 3, "cost": 1})
    assert objectives.weights == {"quality": 0.75, "latency": 0.0, "cost": 0.25}
    assert objectives.label == "custom"


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"quality": 1, "speed": 1}, "unknown weight key.*'speed'.*known keys: cost, latency"),
        ({"quality": -1, "cost": 2}, "'quality' must be a finite number >= 0"),
        ({"quality": float("nan")}, "finite"),
        ({"quality": 0, "cost": 0}, "at least one weight"),
        ({}, "at least one weight"),
    ],
)
def test_bad_weights_are_refused_with_the_reason(weights: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Objectives(weights=weights)
    assert caught.value.errors()[0]["loc"][0] == "weights"


def test_sla_limits_are_range_checked() -> None:
    Sla(p95_ms=100, p99_ms=250, max_error_rate=0.01, min_quality=0.8)
    for bad in ({"p95_ms": 0}, {"p99_ms": -5}, {"max_error_rate": 1.5}, {"min_quality": -0.1}):
        with pytest.raises(ValidationError):
            Sla.model_validate(bad)
    with pytest.raises(ValidationError):
        Sla.model_validate({"p90_ms": 100})  # unknown keys are refused


def test_sla_limits_lists_only_the_set_limits() -> None:
    assert Sla().limits() == {}
    assert Sla(p95_ms=100, min_quality=0.8).limits() == {"p95_ms": 100.0, "min_quality": 0.8}


def test_spec_shape_round_trips() -> None:
    data = {
        "sla": {"p95_ms": 100, "max_error_rate": 0.01},
        "priority": "quality",
        "quality_metric": "accuracy",
    }
    objectives = Objectives.model_validate(data)
    assert objectives.sla.p95_ms == 100
    assert objectives.quality_metric == "accuracy"
    assert Objectives.model_validate(objectives.model_dump()) == objectives
    with pytest.raises(ValidationError):
        Objectives.model_validate({"priority": "speed"})


def test_every_field_is_described() -> None:
    for model in (Sla, Objectives):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps __all__ in: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def test_facade_exports_are_sorted_and_importable() -> None:
    assert decide.__all__ == sorted(decide.__all__, key=_isort_style)
    for name in decide.__all__:
        assert hasattr(decide, name)
