"""Number formatting shared by the HTML and Markdown reports."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from modelmeter.report import _format as fmt
from modelmeter.results import Interval


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.12"), "0.12 EUR"),
        (Decimal("0.1"), "0.10 EUR"),
        (Decimal("0.0834567"), "0.08346 EUR"),
        (Decimal("0.000123456"), "0.0001235 EUR"),
        (Decimal("12.3456"), "12.35 EUR"),
        (Decimal("1234.567"), "1,234.57 EUR"),
        (Decimal("0"), "0.00 EUR"),
        (Decimal("1E+30"), "1,000,000,000,000,000,000,000,000,000,000.00 EUR"),
        (None, "–"),
        (Decimal("NaN"), "–"),
    ],
)
def test_money(value: Decimal | None, expected: str) -> None:
    assert fmt.money(value, "EUR") == expected


def test_money_without_currency() -> None:
    assert fmt.money(Decimal("0.125")) == "0.125"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.4567, "0.46"), (9.994, "9.99"), (85.0, "85.0"), (1234.56, "1,234.6"), (None, "–")],
)
def test_ms(value: float | None, expected: str) -> None:
    assert fmt.ms(value) == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.0, "0%"), (0.01, "1.00%"), (0.123, "12.3%"), (0.0000001, "<0.01%"), (None, "–")],
)
def test_percent(rate: float | None, expected: str) -> None:
    assert fmt.percent(rate) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100.0, "100"), (0.01, "0.01"), (1 / 3, "0.3333"), (12345.678, "12,346"), (float("inf"), "–")],
)
def test_significant(value: float, expected: str) -> None:
    assert fmt.significant(value) == expected


def test_quality_figures_have_three_decimals() -> None:
    assert fmt.score(0.88) == "0.880"
    assert fmt.score(float("nan")) == "–"


def test_interval_and_level() -> None:
    ci = Interval(low=0.8612, high=0.9031, method="bootstrap-percentile")
    assert fmt.with_interval(0.884, ci) == "0.884 (0.861–0.903)"
    assert fmt.with_interval(0.884, None) == "0.884"
    assert fmt.with_interval(None, ci) == "–"
    ci90 = Interval(low=0.1, high=0.2, level=0.9, method="wilson")
    assert fmt.interval(ci90) == "0.100–0.200 (90%)"


def test_facts() -> None:
    assert fmt.fact(1100) == "1,100"
    assert fmt.fact(True) == "yes"
    assert fmt.fact(0.3) == "0.3"
    assert fmt.fact("tickets") == "tickets"
    assert fmt.timestamp(datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=UTC)) == (
        "2025-01-02 03:04:05+00:00"
    )


def test_slug() -> None:
    assert fmt.slug("F1 macro / <lang>") == "f1-macro-lang"
    assert fmt.slug("élan") == "lan"
    assert fmt.slug("***") == "x"
