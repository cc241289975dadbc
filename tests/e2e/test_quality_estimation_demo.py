"""Label-free quality estimation on the demo model (benchmarks/quality_estimation.py prints the
same table): under each injected covariate shift the estimate is within ±0.02 macro F1 of the
F1 realised on the same rows; under a concept shift (more label noise) it is not, as its
stated assumptions say."""

from __future__ import annotations

from pathlib import Path

from modelmeter.demo.estimation import check_estimation, demo_model


def test_the_estimate_follows_covariate_shift_on_the_demo_model(tmp_path: Path) -> None:
    model, test = demo_model(tmp_path / "cache")
    classes = [str(c) for c in model.classes_]  # type: ignore[attr-defined]
    results = check_estimation(model.predict_proba, classes, test)  # type: ignore[attr-defined]
    covariate = [r for r in results if not r.concept]
    assert len(covariate) == 6
    for result in covariate:
        assert abs(result.difference) <= 0.02, result
        assert result.spread < 0.02  # the realised F1 itself moves this much between resamples
    assert min(r.realised for r in covariate) < max(r.realised for r in covariate) - 0.005
    (concept,) = [r for r in results if r.concept]
    assert concept.realised < covariate[0].realised - 0.05  # quality really fell
    assert concept.difference > 0.05  # and the probabilities did not show it
