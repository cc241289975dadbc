"""The result of an A/B analysis: versioned data that the table, Markdown and JSON all render.

Other tools read ``result.json``; the names here are a contract. Add fields, never rename them
without bumping ``AB_SCHEMA_VERSION``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelmeter.results import Interval

__all__ = [
    "AB_SCHEMA_VERSION",
    "ABResult",
    "Comparison",
    "CupedResult",
    "MetricKind",
    "SampleSize",
    "SequentialLook",
    "SequentialResult",
    "SrmCheck",
    "VariantSummary",
]

AB_SCHEMA_VERSION = 1

MetricKind = Literal["proportion", "mean"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantSummary(_Model):
    """What one variant's units show."""

    name: str = Field(description="The variant's name as it appears in the data.")
    n: int = Field(description="Units analysed (rows with a metric value).")
    mean: float = Field(description="Mean of the metric; the conversion rate for a 0/1 metric.")
    sd: float = Field(description="Sample standard deviation of the metric (n − 1 denominator).")


class SrmCheck(_Model):
    """Sample-ratio mismatch: do the variant counts fit the planned split?

    A mismatch means assignment or logging is broken, so no comparison can be trusted.
    """

    variants: list[str] = Field(description="Variant names, in the order of the counts.")
    observed: list[int] = Field(description="Units assigned to each variant.")
    expected: list[float] = Field(description="Units each variant should have under the split.")
    planned_share: list[float] = Field(description="The planned share of each variant (sums to 1).")
    chi2: float = Field(description="Pearson's chi-square goodness-of-fit statistic.")
    df: int = Field(description="Degrees of freedom: variants − 1.")
    p_value: float = Field(description="P-value of the chi-square test against the planned split.")
    threshold: float = Field(description="Mismatch is flagged when p_value is below this.")
    mismatch: bool = Field(description="True when p_value < threshold: do not trust the results.")


class Comparison(_Model):
    """One treatment against the control: the difference treatment − control."""

    treatment: str = Field(description="The variant compared with the control.")
    control: str = Field(description="The control variant.")
    method: str = Field(description="Interval and test used, e.g. 'welch-t'.")
    diff: float = Field(description="Treatment mean − control mean (absolute difference).")
    relative_diff: float | None = Field(
        description="diff / control mean (relative lift); None when the control mean is 0."
    )
    standard_error: float = Field(description="Standard error of diff.")
    interval: Interval = Field(description="Two-sided confidence interval for diff.")
    p_value: float = Field(description="Two-sided p-value of 'no difference'.")
    p_holm: float | None = Field(
        default=None,
        description="Holm-adjusted p-value over all comparisons with the control (3+ variants).",
    )
    significant: bool = Field(
        description="The (Holm-adjusted when present) p-value is below alpha."
    )


class CupedResult(_Model):
    """Comparisons on the CUPED-adjusted metric Y − θ(X − mean X)."""

    covariate: str = Field(description="The pre-period column X.")
    theta: float = Field(description="θ = cov(Y, X) / var(X), pooled over all units.")
    correlation: float = Field(description="Pearson correlation of Y and X over all units.")
    variance_reduction: float = Field(
        description="1 − var(Y_cuped) / var(Y) over all units; about the squared correlation."
    )
    comparisons: list[Comparison] = Field(description="Each treatment vs control, adjusted.")
    se_reduction: dict[str, float] = Field(
        description="Per treatment: 1 − (adjusted standard error / raw standard error)², the share "
        "of the difference's variance CUPED removed."
    )


class SequentialLook(_Model):
    """One interim look at the accumulated data."""

    look: int = Field(description="1-based look number.")
    n_control: int = Field(description="Control units seen up to this look.")
    n_treatment: int = Field(description="Treatment units seen up to this look.")
    diff: float | None = Field(
        description="Difference of means so far; None while an arm has too few units to use."
    )
    low: float | None = Field(description="Lower end of the confidence sequence (running).")
    high: float | None = Field(description="Upper end of the confidence sequence (running).")
    p_always_valid: float = Field(description="Always-valid p-value (running minimum of 1/Λ).")
    p_naive: float | None = Field(
        description="A fixed-sample Welch p-value at this look: NOT valid under repeated looks."
    )


class SequentialResult(_Model):
    """mSPRT for one treatment vs the control, looked at after every batch."""

    treatment: str = Field(description="The variant compared with the control.")
    control: str = Field(description="The control variant.")
    mixing_sd: float = Field(description="τ, the standard deviation of the normal mixture.")
    alpha: float = Field(description="Error rate guaranteed over all looks together.")
    looks: list[SequentialLook] = Field(description="Every look, in time order.")
    stopped_at: int | None = Field(
        description="First look whose always-valid p-value fell to alpha; None if none did."
    )
    naive_first_significant: int | None = Field(
        description="First look where the naive fixed-sample p-value fell below alpha (the "
        "look a peeking analyst would have stopped at; not a valid decision)."
    )


class ABResult(_Model):
    """The whole analysis of one experiment."""

    schema_version: Literal[1] = Field(
        default=1, description="Version of this result's layout (AB_SCHEMA_VERSION)."
    )
    tool_version: str = Field(description="modelmeter version that computed it.")
    source: str = Field(description="Where the data came from (file, or run and phase).")
    metric: str = Field(description="The metric column.")
    metric_kind: MetricKind = Field(
        description="'proportion' for a 0/1 metric (rates compared), else 'mean'."
    )
    alpha: float = Field(description="Two-sided significance level of tests and intervals.")
    control: str = Field(description="The variant every other one is compared with.")
    variants: list[VariantSummary] = Field(description="Per-variant summary, control first.")
    srm: SrmCheck = Field(description="The sample-ratio mismatch check.")
    comparisons: list[Comparison] = Field(description="Each treatment vs the control.")
    cuped: CupedResult | None = Field(
        default=None, description="CUPED-adjusted comparisons when a covariate was given."
    )
    sequential: list[SequentialResult] | None = Field(
        default=None, description="mSPRT looks per treatment when sequential analysis was asked."
    )
    notes: list[str] = Field(default_factory=list, description="Caveats about the data.")


class SampleSize(_Model):
    """Units needed per variant to detect an effect with the asked power."""

    kind: MetricKind = Field(description="'proportion' or 'mean'.")
    effect_size: float = Field(
        description="Standardised effect: Cohen's h for proportions, Cohen's d for means."
    )
    alpha: float = Field(description="Two-sided significance level.")
    power: float = Field(description="Probability of detecting the effect (1 − β).")
    ratio: float = Field(description="Allocation ratio: treatment units per control unit.")
    n_control_exact: float = Field(description="Control units before rounding up.")
    n_control: int = Field(description="Control units needed (rounded up).")
    n_treatment: int = Field(description="Treatment units needed: ratio × control, rounded up.")
    total: int = Field(description="n_control + n_treatment.")
    method: str = Field(description="How n was solved, e.g. 'normal, Cohen h'.")
