"""Render an :class:`ABResult` as Markdown; the same cells feed the terminal tables.

Rates are shown as percentages and their differences in percentage points (pp), because a
"+0.8%" lift is ambiguous between relative and absolute; other metrics keep their own unit.
"""

from __future__ import annotations

import math

from modelmeter.abtest.model import ABResult, Comparison, SequentialResult

__all__ = [
    "SRM_HEADER",
    "comparison_header",
    "comparison_rows",
    "format_p",
    "render_markdown",
    "sequential_header",
    "sequential_rows",
    "sequential_verdict",
    "srm_rows",
    "variant_header",
    "variant_rows",
]

SRM_HEADER = ["variant", "units", "planned share", "expected"]


def sequential_header(result: ABResult) -> list[str]:
    band = "conf. seq., pp" if result.metric_kind == "proportion" else "conf. seq."
    return ["look", "units (c / t)", "diff", band, "p (valid)", "p (naive)"]


def variant_header(result: ABResult) -> list[str]:
    return ["variant", "units", "rate" if result.metric_kind == "proportion" else "mean", "sd"]


def comparison_header(result: ABResult) -> list[str]:
    """``diff`` is treatment − control; ``lift`` the same relative to the control's mean."""
    level = f"{1.0 - result.alpha:.0%} CI" + (", pp" if result.metric_kind == "proportion" else "")
    return ["treatment", "diff", level, "lift", "p", "Holm p", "sig."]


def format_p(p: float | None) -> str:
    if p is None:
        return "–"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.4f}"


def _num(x: float, sign: bool = False) -> str:
    """Four significant digits, trailing zeros kept so that a column lines up."""
    plus = "+" if sign else ""
    if x == 0.0:
        return f"{plus}0" if sign else "0"
    if abs(x) >= 1e4:
        return f"{x:{plus},.0f}"
    return f"{x:{plus}#.4g}".rstrip(".")


def _value(kind: str, x: float) -> str:
    return f"{x:.2%}" if kind == "proportion" else _num(x)


def _diff(kind: str, x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    if kind == "proportion":
        return f"{x * 100:+.2f} pp"
    return _num(x, sign=True)


def _band(kind: str, low: float | None, high: float | None) -> str:
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    if kind == "proportion":
        return f"[{low * 100:+.2f}, {high * 100:+.2f}]"  # the header says "pp"
    return f"[{_num(low, sign=True)}, {_num(high, sign=True)}]"


def variant_rows(result: ABResult) -> list[list[str]]:
    rows = []
    for v in result.variants:
        name = f"{v.name} (control)" if v.name == result.control else v.name
        rows.append([name, f"{v.n:,}", _value(result.metric_kind, v.mean), _num(v.sd)])
    return rows


def srm_rows(result: ABResult) -> list[list[str]]:
    srm = result.srm
    return [
        [name, f"{observed:,}", f"{share:.1%}", f"{expected:,.1f}"]
        for name, observed, share, expected in zip(
            srm.variants, srm.observed, srm.planned_share, srm.expected, strict=True
        )
    ]


def comparison_rows(result: ABResult, comparisons: list[Comparison]) -> list[list[str]]:
    kind = result.metric_kind
    rows = []
    for c in comparisons:
        # CUPED comparisons are differences of means even for a 0/1 metric, still in its units.
        relative = f"{c.relative_diff:+.2%}" if c.relative_diff is not None else "–"
        interval = _band(kind, c.interval.low, c.interval.high)
        rows.append(
            [
                c.treatment,
                _diff(kind, c.diff),
                interval,
                relative,
                format_p(c.p_value),
                format_p(c.p_holm),
                "yes" if c.significant else "no",
            ]
        )
    return rows


def sequential_rows(result: ABResult, sequence: SequentialResult) -> list[list[str]]:
    kind = result.metric_kind
    rows = []
    for look in sequence.looks:
        band = _band(kind, look.low, look.high)
        rows.append(
            [
                str(look.look),
                f"{look.n_control:,} / {look.n_treatment:,}",
                _diff(kind, look.diff),
                band,
                format_p(look.p_always_valid),
                format_p(look.p_naive),
            ]
        )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def sequential_verdict(sequence: SequentialResult) -> str:
    """One sentence: where the mSPRT stopped, and where a peeking fixed test would have."""
    pair = f"{sequence.treatment} vs {sequence.control}"
    if sequence.stopped_at is not None:
        text = (
            f"{pair}: the always-valid p-value reached α = {sequence.alpha:g} at look "
            f"{sequence.stopped_at} of {len(sequence.looks)}; stopping there is valid."
        )
    else:
        text = (
            f"{pair}: no look reached α = {sequence.alpha:g}; the confidence sequence still "
            "includes no difference."
        )
    if sequence.naive_first_significant is not None and sequence.stopped_at is None:
        text += (
            f" A fixed-sample test peeked at every look would have (wrongly) stopped at look "
            f"{sequence.naive_first_significant}."
        )
    return text


def render_markdown(result: ABResult) -> str:
    """The whole analysis as a Markdown document."""
    out = [f"# A/B analysis of `{result.metric}`", ""]
    out += [
        f"Source: {result.source}. Control: **{result.control}**. Metric kind: "
        f"{result.metric_kind}. Two-sided α = {result.alpha:g}.",
        "",
    ]
    srm = result.srm
    if srm.mismatch:
        out += [
            "> **Sample-ratio mismatch — do not trust these results.** The variant counts do "
            f"not fit the planned split (χ² = {srm.chi2:.2f}, df = {srm.df}, "
            f"p = {format_p(srm.p_value)} < {srm.threshold:g}). Units were lost or "
            "mis-assigned unevenly; find the cause before reading any difference below.",
            "",
        ]
    out += ["## Sample ratio", "", *_table(SRM_HEADER, srm_rows(result))]
    verdict = "**MISMATCH**" if srm.mismatch else "no mismatch"
    out += [
        f"χ² = {srm.chi2:.3f}, df = {srm.df}, p = {format_p(srm.p_value)} "
        f"(flagged below {srm.threshold:g}): {verdict}.",
        "",
    ]
    out += ["## Variants", "", *_table(variant_header(result), variant_rows(result))]
    out += [
        f"## Each variant vs {result.control}",
        "",
        *_table(comparison_header(result), comparison_rows(result, result.comparisons)),
    ]
    if result.comparisons:
        out += [f"Method: {result.comparisons[0].method}.", ""]
    if result.cuped is not None:
        cuped = result.cuped
        out += [
            f"## CUPED (pre-period covariate `{cuped.covariate}`)",
            "",
            f"θ = {cuped.theta:.4g}, correlation ρ = {cuped.correlation:.3f}, variance of the "
            f"metric reduced by {cuped.variance_reduction:.1%} (ρ² = {cuped.correlation**2:.1%}).",
            "",
            *_table(comparison_header(result), comparison_rows(result, cuped.comparisons)),
        ]
        out += [
            "Variance of the difference removed: "
            + ", ".join(f"{name} {share:.1%}" for name, share in cuped.se_reduction.items())
            + ".",
            "",
        ]
    if result.sequential:
        out += ["## Sequential analysis (mSPRT, always valid)", ""]
        for sequence in result.sequential:
            out += [
                f"### {sequence.treatment} vs {sequence.control}",
                "",
                sequential_verdict(sequence),
                f"Mixture τ = {sequence.mixing_sd:.4g}.",
                "",
                *_table(sequential_header(result), sequential_rows(result, sequence)),
            ]
    if result.notes:
        out += ["## Notes", "", *(f"- {note}" for note in result.notes), ""]
    out += [f"_modelmeter {result.tool_version}; methods in docs/ab-testing.md._", ""]
    return "\n".join(out)
